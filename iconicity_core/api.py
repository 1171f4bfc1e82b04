"""The notebook API: ``res = iconicity_core.open("results.duckdb")`` — read-only, pandas out.

Every table equals what the command line prints: ``res.metrics(by="model", clip_tau=0.7)`` is the table of
``iconicity metrics --db results.duckdb --by model --clip-tau 0.7 --format json``, and like the CLI it
starts at the run's operating point and threshold rule (an authors-preset run reads at ``>=``). The
database is opened read-only for each call and closed at once, so ``iconicity score`` is never locked
out for long.

>>> import iconicity_core
>>> res = iconicity_core.open(demo())                       # the small demo database (doctests)
>>> res.thresholds()                                        # the run's operating point
Thresholds(clip_tau=0.47, clip_tau_dynamic=0.47, patch_tau=0.61, pooling='recognised', rule='gt', match='any')
>>> m = res.metrics(by="model", kinds="static", variants="title")
>>> m[["model", "kind", "n_refs"]].head(2).to_dict("records")
[{'model': 'balanced-1.5', 'kind': 'static', 'n_refs': 7}, {'model': 'balanced-1.5', 'kind': 'all', 'n_refs': 7}]
>>> strict, loose = (res.metrics(by="reference", pooling="all", patch_tau=p)["vr"] for p in (0.9, 0.3))
>>> bool((strict <= loose).all())                           # a higher patch τ never reuses more
True
>>> img = res.images(models="painter-2").iloc[0]
>>> cells = res.cells(img["image"])
>>> len(cells), int(cells["reused"].sum()) == round(img["vr"] * len(cells))
(16, True)
>>> res.patch_overlay(img["image"]).size[0] <= 448
True

Errors are the project's own types (:mod:`iconicity_core.errors`), with the CLI's messages: a path that is not a
usable database raises a :class:`~iconicity_core.DatabaseError` (``DatabaseMissing``, ``NotADatabase``,
``DatabaseBusy``, ``SchemaError``); a bad argument a ``ValueError`` (:class:`~iconicity_core.errors.InvalidArgument`)
— a threshold that is not a number in [-1, 1], an unknown filter value (the message names the known ones):

>>> res.metrics(models="sdxl")
Traceback (most recent call last):
...
iconicity_core.errors.InvalidArgument: unknown models value(s) ['sdxl']: this database has balanced-1.5, ...

When the latest score run is not finished (interrupted, failed, still running), opening the database by default
warns (:class:`~iconicity_core.errors.PartialRunWarning`, also in ``res.partial_note``): its tables cover only what
it scored so far.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import db
from .config import KINDS, Filters, Match, Pooling, Rule, Thresholds, run_thresholds
from .core import metrics as kernel
from .core.sweeps import SENSITIVITY_GRID, TAU_GRID
from .errors import InvalidArgument, PartialRunWarning

if TYPE_CHECKING:
    from .analysis.engine import Engine

FILTER_KEYS = ("models", "kinds", "variants", "slugs")


def _filters(kw: dict, known: dict[str, list[str]] | None = None) -> Filters:
    """Filters from keyword arguments; with ``known`` (the allow-lists), a value the database does not have is an
    :class:`InvalidArgument` naming the ones it has (never a silently empty table)."""
    bad = sorted(set(kw) - set(FILTER_KEYS))
    if bad:
        raise TypeError(f"unknown filter(s) {bad}: use {', '.join(FILTER_KEYS)} (a name or a list of names)")
    values = {}
    for k, v in kw.items():
        v = (v,) if isinstance(v, str) else v
        try:
            v = tuple(v or ())
        except TypeError:
            raise InvalidArgument(f"{k} takes a name or a list of names, got {v!r}") from None
        if not all(isinstance(x, str) for x in v):
            raise InvalidArgument(f"{k} takes names (text), got {list(v)!r}")
        if known is not None and k in known:
            unknown = [x for x in v if x not in known[k]]
            if unknown:
                have = ", ".join(known[k][:20]) + (" ..." if len(known[k]) > 20 else "")
                raise InvalidArgument(f"unknown {k} value(s) {unknown}: this database has {have or 'none'}")
        values[k] = v
    return Filters(**values)


def _taus(values, name: str) -> np.ndarray:
    """Thresholds for a sweep: at least one, each a number in [-1, 1] (an :class:`InvalidArgument` otherwise)."""
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} takes numbers in [-1, 1], got {values!r}") from None
    if arr.size == 0:
        raise InvalidArgument(f"{name} is empty: give at least one threshold in [-1, 1]")
    if not np.isfinite(arr).all() or (np.abs(arr) > 1).any():
        raise InvalidArgument(f"{name}: every threshold must be a number in [-1, 1], got {values!r}")
    return arr


class Results:
    """One score run of a scores database (the latest unless ``run`` names one, by id or unique prefix)."""

    def __init__(self, path: str | Path, run: str | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        with self.connection() as con:
            self.run_id = db.runs.resolve(con, run)
            self.info = db.views.run_info(con, self.run_id)
            choices = db.views.choices(con)
            #: What to know when the run read by default is not finished (None when it is, or was chosen by name).
            self.partial_note = db.runs.partial_note(con, self.run_id) if run is None else None
        self._known = {"models": choices["models"], "variants": choices["variants"], "slugs": choices["slugs"],
                       "kinds": list(KINDS)}
        self._engine: Engine | None = None
        if self.partial_note:
            warnings.warn(self.partial_note, PartialRunWarning, stacklevel=2)

    def filters(self, **filters) -> Filters:
        """Check filter keyword arguments (``models``, ``kinds``, ``variants``, ``slugs``) against the database."""
        return _filters(filters, self._known)

    def __repr__(self) -> str:
        i = self.info
        return (f"<iconicity results {self.path.name} run {self.run_id}: {i['clip_info'].get('model')} + "
                f"{i['dino_info'].get('model')}, grid {i['grid']}, {i['status']}>")

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        """A read-only connection to the database, closed on leaving the block (for the ``db`` functions)."""
        con = db.connect(self.path, read_only=True)
        try:
            yield con
        finally:
            con.close()

    # -- thresholds --------------------------------------------------------------------------------
    def thresholds(self, clip_tau: float | None = None, clip_tau_dynamic: float | None = None,
                   patch_tau: float | None = None, pooling: Pooling | None = None, rule: Rule | None = None,
                   match: Match | None = None) -> Thresholds:
        """The values given, else the run's operating point and rule — exactly as the CLI resolves them; the dynamic
        references' τ written out (the static one when the run has no other), as the dashboard shows it."""
        from dataclasses import replace

        t = run_thresholds(self.info.get("config"), clip_tau, clip_tau_dynamic, patch_tau, pooling, match, rule)
        return replace(t, clip_tau_dynamic=t.dynamic_tau)

    # -- tables ------------------------------------------------------------------------------------
    def metrics(self, by: str = "model", clip_tau: float | None = None, clip_tau_dynamic: float | None = None,
                patch_tau: float | None = None, pooling: Pooling | None = None, rule: Rule | None = None,
                match: Match | None = None, **filters) -> pd.DataFrame:
        """``iconicity metrics --by image|reference|model``: the same columns and values (filters:
        ``models``, ``kinds``, ``variants``, ``slugs``, each a name or a list)."""
        t = self.thresholds(clip_tau, clip_tau_dynamic, patch_tau, pooling, rule, match)
        with self.connection() as con:
            if by not in db.metrics_sql.BY:
                raise InvalidArgument(f"by must be one of {', '.join(db.metrics_sql.BY)}, got {by!r}")
            return db.metrics_sql.metrics_table(con, by, t, self.filters(**filters), self.run_id)

    def images(self, clip_tau: float | None = None, clip_tau_dynamic: float | None = None,
               patch_tau: float | None = None, rule: Rule | None = None, match: Match | None = None,
               **filters) -> pd.DataFrame:
        """The generated images with their scores (``metrics(by="image")``) and a ``path`` column: the file,
        when it lies inside its registered dataset root and exists (else None)."""
        df = self.metrics("image", clip_tau, clip_tau_dynamic, patch_tau, None, rule, match, **filters)
        with self.connection() as con:
            paths = db.views.image_paths(con, list(df["file_id"]))
        return df.assign(path=df["file_id"].map(paths))

    def references(self) -> pd.DataFrame:
        """The references with their covariates, and how many reference images the run kept and dropped."""
        with self.connection() as con:
            refs, counts = db.refs.table(con), db.views.reference_counts(con, self.run_id)
        return refs.merge(counts, on="slug", how="left")

    def _file_id(self, con, image: str) -> str:
        """A file id from a file id or a path relative to the dataset root (as in ``metrics --by image``)."""
        fid = db.views.resolve_image(con, self.run_id, image)
        if fid is None:
            raise LookupError(f"{image!r} is not a generated image of run {self.run_id} (give its file_id or its "
                              "path relative to the dataset root, as in metrics(by='image'))")
        return fid

    def cells(self, image: str, patch_tau: float | None = None, rule: Rule | None = None,
              match: Match | None = None) -> pd.DataFrame:
        """One generated image's cells: best similarity anywhere (``sim``), the reference image and cell it
        matched, the best same-position similarity, and ``reused`` at the thresholds (the kernel's rule)."""
        t = self.thresholds(patch_tau=patch_tau, rule=rule, match=match)
        with self.connection() as con:
            m = db.views.patch_matches(con, self.run_id, self._file_id(con, image))
        sims = m[kernel.MATCH_COLUMNS[t.match]].to_numpy(np.float32)
        return m.assign(reused=kernel.reused(sims, t.patch_tau, t.rule))

    def patch_overlay(self, image: str, patch_tau: float | None = None, rule: Rule | None = None,
                      match: Match | None = None):
        """The generated image with its grid tinted by similarity and the reused cells outlined (a
        ``PIL.Image``; a placeholder when the file is not readable)."""
        from .core.grid import parse_grid
        from .viz import overlays

        cells = self.cells(image, patch_tau, rule, match)
        t = self.thresholds(patch_tau=patch_tau, rule=rule, match=match)
        with self.connection() as con:
            fid = self._file_id(con, image)
            path = db.views.image_paths(con, [fid])[fid]
        rows, cols = parse_grid(self.info["grid"])
        return overlays.patch_overlay(overlays.display_image(path), cells[kernel.MATCH_COLUMNS[t.match]].to_numpy(),
                                     cells["reused"].to_numpy(), rows, cols)

    # -- sweeps -------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The in-memory engine of the run (loaded on first use): fast tables at many thresholds."""
        if self._engine is None:
            from .analysis.engine import Arrays, Engine

            with self.connection() as con:
                self._engine = Engine(Arrays.from_columns(db.views.engine_arrays(con, self.run_id)))
        return self._engine

    def sweep(self, taus=None, grid=None, pooling: Pooling | None = None, rule: Rule | None = None,
              match: Match | None = None, **filters) -> dict[str, pd.DataFrame]:
        """Threshold sensitivity per model: ``cra`` (CRA vs CLIP τ), ``vr`` (VR over all generations vs
        patch τ) and ``grid`` (CRT over the grid of both) — macro means over references, prompt variants
        pooled."""
        t = self.thresholds(pooling=pooling, rule=rule, match=match)
        taus = TAU_GRID if taus is None else _taus(taus, "taus")
        grid = SENSITIVITY_GRID if grid is None else _taus(grid, "grid")
        return self.engine.sweeps(self.filters(**filters), t, taus, grid)

    # -- records -------------------------------------------------------------------------------------
    def runs(self) -> pd.DataFrame:
        """Every recorded computation of the database (``iconicity runs``)."""
        with self.connection() as con:
            return db.runs.table(con)

    def labels(self) -> pd.DataFrame:
        """Every labelling people recorded in the sidecar ``<db>.labels.csv`` (image, label, file_id, who,
        when; oldest first) — the dashboard's Label page and ``iconicity labels import`` write it."""
        from .io import labels

        return pd.DataFrame(labels.rows(self.path), columns=labels.COLUMNS)

