"""The in-memory metrics engine: every table the dashboard, the notebook API and the shareable file
show, from compact arrays loaded once per (database file version, score run), with vectorised numpy
group-bys. Every number goes through the metric kernel (:mod:`iconicity_core.core.metrics`), as the
SQL of ``iconicity metrics`` does, and ``tests/test_engine.py`` checks every table against the SQL on
the demo and on random databases. A slider move costs a few milliseconds; results are memoised per
(thresholds, filters), so a rerun whose inputs did not change computes nothing. Pure: no Streamlit,
no SQL.

Memory (``Engine.nbytes``): per image a file id (16 bytes), codes (13 bytes), the CLIP similarity (8)
and K float32 cell similarities for each matching mode (2 x 64 for 4x4): about 165 bytes per image —
32 MB at the paper's scale (191,750 images), 316 MB at 10x.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Filters, Match, Pooling, Rule, Thresholds
from ..core import metrics as kernel
from ..core.sweeps import exceed_fraction, group_stats_at, pass_counts

IMAGE_COLUMNS = ["model", "slug", "kind", "variant", "file_id", "clip_sim", "recognised", "vr", "vi", "label"]


@dataclass(frozen=True)
class Arrays:
    """Compact per-image arrays (codes index the name lists, which are sorted)."""

    file_id: np.ndarray          # (N,) bytes S16, sorted
    model: np.ndarray            # (N,) int16 -> models
    slug: np.ndarray             # (N,) int32 -> slugs
    variant: np.ndarray          # (N,) int16 -> variants
    label: np.ndarray            # (N,) int8 -> labels, -1 = none
    clip: np.ndarray             # (N,) float64
    cells: np.ndarray            # (N, K) float32: best match anywhere (matching "any")
    same_pos: np.ndarray         # (N, K) float32: best match at the same position ("same-position")
    dynamic: np.ndarray          # (n_slugs,) bool
    models: list[str]
    slugs: list[str]
    variants: list[str]
    labels: list[str]

    @classmethod
    def from_columns(cls, d: dict) -> Arrays:
        """From :func:`iconicity_core.db.views.engine_arrays`."""
        n = len(d["file_id"])
        k = len(d["cells"]) // n if n else 16
        if len(d["cells"]) != n * k:
            raise ValueError("some generated images do not have every cell scored — run `iconicity score` again")

        def codes(values, dtype):
            vals = np.asarray(values, dtype=object)
            names = sorted({v for v in vals if isinstance(v, str)})
            lut = {v: i for i, v in enumerate(names)}
            return np.fromiter((lut.get(v, -1) for v in vals), dtype, n), names

        model, models = codes(d["model"], np.int16)
        variant, variants = codes(d["variant"], np.int16)
        label, labels = codes(d["label"], np.int8)
        slugs = sorted(d["kinds"])
        lut = {s: i for i, s in enumerate(slugs)}
        slug = np.fromiter((lut[s] for s in d["slug"]), np.int32, n)
        same = d.get("same_pos", d["cells"])
        return cls(np.asarray(d["file_id"], dtype="S16"), model, slug, variant, label,
                   np.asarray(d["clip"] if "clip" in d else d["sim"], np.float64),
                   np.asarray(d["cells"], np.float32).reshape(n, k), np.asarray(same, np.float32).reshape(n, k),
                   np.array([d["kinds"][s] == "dynamic" for s in slugs], bool), models, slugs, variants, labels)


class Engine:
    """Tables at any thresholds and filters (memoised per inputs)."""

    MEMO = 48

    def __init__(self, arrays: Arrays) -> None:
        a = self.a = arrays
        self.n, self.k = a.cells.shape
        ns, nv = len(a.slugs), max(1, len(a.variants))
        key = (a.model.astype(np.int64) * ns + a.slug) * nv + a.variant       # sorts like (model, slug, variant)
        self._ref_keys, ref = np.unique(key, return_inverse=True)
        self._ref = ref.astype(np.int32)
        self._ref_model = (self._ref_keys // nv // ns).astype(np.int64)
        self._ref_slug = (self._ref_keys // nv % ns).astype(np.int64)
        self._ref_variant = (self._ref_keys % nv).astype(np.int64)
        self._memo: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        a = self.a
        return sum(x.nbytes for x in (a.file_id, a.model, a.slug, a.variant, a.label, a.clip, a.cells, a.same_pos,
                                      self._ref, self._ref_keys))

    def memo(self, key, fn):
        """``fn()`` memoised under ``key`` (an LRU of the last :attr:`MEMO` results) — for tables derived
        from this engine's outputs, so a rerun with unchanged inputs recomputes nothing."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = fn()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self.MEMO:
                self._memo.popitem(last=False)
        return value

    def rows_of(self, file_ids) -> np.ndarray:
        """Row index of each file id (-1 for ids the run did not score)."""
        ids = np.asarray(list(file_ids), dtype="S16")
        if self.n == 0:
            return np.full(len(ids), -1, np.int64)
        pos = np.minimum(np.searchsorted(self.a.file_id, ids), self.n - 1)
        return np.where(self.a.file_id[pos] == ids, pos, -1)

    # -- building blocks -----------------------------------------------------------------------
    def mask(self, f: Filters) -> np.ndarray:
        """Images that pass the filters."""
        def build():
            a, m = self.a, np.ones(self.n, bool)
            for codes, names, wanted in ((a.model, a.models, f.models), (a.variant, a.variants, f.variants),
                                         (a.slug, a.slugs, f.slugs)):
                if wanted:
                    m &= np.isin(codes, [i for i, name in enumerate(names) if name in set(wanted)])
            if f.kinds:
                m &= np.isin(np.where(a.dynamic, 1, 0)[a.slug], [int(k == "dynamic") for k in f.kinds])
            return m
        return self.memo(("mask", f), build)

    def cells(self, match: Match = "any") -> np.ndarray:
        """The per-cell similarities a matching mode reads."""
        kernel.check_match(match)
        return self.a.same_pos if match == "same-position" else self.a.cells

    def recognised(self, t: Thresholds) -> np.ndarray:
        """Recognition flags (the kernel's rule, the dynamic threshold for dynamic references)."""
        def build():
            tau = kernel.clip_taus(self.a.dynamic, t.clip_tau, t.dynamic_tau)[self.a.slug]
            return kernel.recognised(self.a.clip, tau, t.rule, self.a.dynamic[self.a.slug])
        return self.memo(("rec", t.clip_tau, t.dynamic_tau, t.rule), build)

    def vr(self, t: Thresholds) -> np.ndarray:
        """VR_i of every image (the kernel's rule, the thresholds' matching mode)."""
        return self.memo(("vr", t.patch_tau, t.rule, t.match),
                         lambda: kernel.visual_reuse(self.cells(t.match), t.patch_tau, t.rule))

    # -- tables (the same rows and values as `iconicity metrics --by ...`) ------------------------
    def reference_arrays(self, t: Thresholds, f: Filters) -> dict[str, np.ndarray]:
        """Per (model, slug, variant) group present under the filters: codes and n, cra, vr, vi, crt."""
        return self.memo(("refarr", t, f), lambda: self._groups(t, self.mask(f)))

    def subset_means(self, t: Thresholds, m: np.ndarray) -> dict[str, float]:
        """CRA / VR / VI / CRT of a subset of the images (a map selection): per (model, reference,
        variant) group of the subset, then macro means over the groups."""
        r = self._groups(t, m)
        out = {k: float(kernel.macro_mean(np.zeros(len(r[k]), np.int64), r[k], 1)[0]) for k in kernel.METRICS}
        return out | {"images": int(m.sum()), "groups": len(r["n"])}

    def _groups(self, t: Thresholds, m: np.ndarray) -> dict[str, np.ndarray]:
        """Per (model, slug, variant) group among the images of ``m``: codes, n and the kernel's metrics."""
        stats = kernel.group_stats(self._ref[m], self.recognised(t)[m], self.vr(t)[m], len(self._ref_keys))
        keep = stats.n > 0
        out = {k: v[keep] for k, v in kernel.finish(stats, t.pooling).items()}
        return {"model": self._ref_model[keep], "slug": self._ref_slug[keep], "variant": self._ref_variant[keep],
                "n": stats.n[keep], **out}

    def reference_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by reference``: model, slug, kind, variant, n, cra, vr, vi, crt, pooling, match."""
        def build():
            r, a = self.reference_arrays(t, f), self.a
            df = pd.DataFrame({"model": np.array(a.models, object)[r["model"]],
                               "slug": np.array(a.slugs, object)[r["slug"]],
                               "kind": np.where(a.dynamic[r["slug"]], "dynamic", "static").astype(object),
                               "variant": np.array(a.variants, object)[r["variant"]],
                               "n": r["n"], **{c: r[c] for c in kernel.METRICS}})
            return df.assign(pooling=t.pooling, match=t.match)
        return self.memo(("reftable", t, f), build)

    def model_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by model``: the kernel's macro means over references per (model, kind, variant) and
        with ``kind = 'all'``."""
        return self.memo(("modeltable", t, f), lambda: kernel.model_table(
            self.reference_table(t, f)[kernel.REFERENCE_COLUMNS]).assign(pooling=t.pooling, match=t.match))

    def image_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by image`` without the relative path and seed (the dashboard looks them up for the
        images it shows): model, slug, kind, variant, file_id, clip_sim, recognised, vr, vi, label."""
        return self.memo(("imagetable", t, f), lambda: self._image_frame(t, np.flatnonzero(self.mask(f))))

    def labelled_table(self, t: Thresholds, f: Filters, also: frozenset[str] = frozenset()) -> pd.DataFrame:
        """:meth:`image_table` of the images with a label in the database, and of the files ``also``
        (labelled elsewhere): calibration needs these few, not every image."""
        return self.memo(("labelledtable", t, f, also),
                         lambda: self._image_frame(t, np.flatnonzero(self.labelled(f, also))))

    def labelled(self, f: Filters, also: frozenset[str] = frozenset()) -> np.ndarray:
        """Images that pass the filters and have a label in the database or are among the files ``also``."""
        m = self.mask(f) & (self.a.label >= 0)
        extra = self.rows_of(sorted(also))
        m[extra[(extra >= 0) & self.mask(f)[np.maximum(extra, 0)]]] = True
        return m

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The stored facts of some rows (no thresholds): file_id, model, slug, variant, clip_sim, db_label."""
        a, idx = self.a, np.asarray(rows, np.int64)
        return pd.DataFrame({"file_id": a.file_id[idx].astype(str), "model": np.array(a.models, object)[a.model[idx]],
                             "slug": np.array(a.slugs, object)[a.slug[idx]],
                             "variant": np.array(a.variants, object)[a.variant[idx]], "clip_sim": a.clip[idx],
                             "db_label": np.array([*a.labels, None], object)[a.label[idx]]})

    def scores_of(self, rows: np.ndarray, t: Thresholds) -> dict[str, np.ndarray]:
        """``clip_sim``, ``recognised`` and ``vr`` of some rows (row -1: NaN / False, e.g. a reference image)."""
        rows = np.asarray(rows, np.int64)
        ok, r = rows >= 0, np.maximum(rows, 0)
        return {"clip_sim": np.where(ok, self.a.clip[r] if self.n else np.nan, np.nan),
                "recognised": ok & (self.recognised(t)[r] if self.n else False),
                "vr": np.where(ok, self.vr(t)[r] if self.n else np.nan, np.nan)}

    def labelled_arrays(self, f: Filters, also: frozenset[str], match: Match = "any"):
        """``(file_ids, database labels, CLIP similarities, cells of the matching mode)`` of :meth:`labelled`
        images — what calibration needs."""
        m = self.labelled(f, also)
        a = self.a
        return (a.file_id[m].astype(str), np.array([*a.labels, None], object)[a.label[m]], a.clip[m],
                self.cells(match)[m])

    def _image_frame(self, t: Thresholds, idx: np.ndarray) -> pd.DataFrame:
        a = self.a
        vr = self.vr(t)[idx]
        slug = a.slug[idx]
        labels = np.array([*a.labels, None], object)
        return pd.DataFrame({"model": np.array(a.models, object)[a.model[idx]],
                             "slug": np.array(a.slugs, object)[slug],
                             "kind": np.where(a.dynamic[slug], "dynamic", "static").astype(object),
                             "variant": np.array(a.variants, object)[a.variant[idx]],
                             "file_id": a.file_id[idx].astype(str), "clip_sim": a.clip[idx],
                             "recognised": self.recognised(t)[idx], "vr": vr, "vi": 1.0 - vr,
                             "label": labels[a.label[idx]]})

    # -- threshold sensitivity (independent of the current thresholds) ---------------------------
    def _model_slug_groups(self, m: np.ndarray):
        a, ns = self.a, len(self.a.slugs)
        keys, g = np.unique(a.model[m].astype(np.int64) * ns + a.slug[m], return_inverse=True)
        return g, keys // ns

    def sweeps(self, f: Filters, t: Thresholds, taus: np.ndarray, grid_taus: np.ndarray) -> dict[str, pd.DataFrame]:
        """CRA vs CLIP tau and VR vs patch tau per model (macro over references, prompt variants
        pooled; VR over all generations), and per-model CRT over the (CLIP tau, patch tau) grid — at the
        rule, matching and pooling of ``t`` (its thresholds do not matter)."""
        def build():
            a, m = self.a, self.mask(f)
            g, model_of_group = self._model_slug_groups(m)
            models = np.unique(model_of_group)
            clip, cells, dyn = a.clip[m], self.cells(t.match)[m], a.dynamic[a.slug[m]]
            curves = {}
            for name, frac in (("cra", exceed_fraction(g, clip, taus, t.rule, dyn)),
                               ("vr", exceed_fraction(g, cells, taus, t.rule))):
                per_model = np.stack([kernel.macro_mean(model_of_group, frac[:, j], len(a.models))
                                      for j in range(len(taus))], axis=1)[models]
                names = np.array(a.models, object)[models]
                curves[name] = pd.DataFrame({"tau": np.tile(taus, len(names)), "model": np.repeat(names, len(taus)),
                                             name: per_model.ravel()})
            curves["grid"] = self.grid(g, model_of_group, clip, cells, grid_taus, grid_taus, t.pooling, t.rule, dyn)
            return curves
        return self.memo(("sweeps", f, t.pooling, t.rule, t.match, tuple(taus), tuple(grid_taus)), build)

    def grid(self, g, model_of_group, clip, cells, clip_taus, patch_taus, pooling: Pooling, rule: Rule,
             dynamic=None) -> pd.DataFrame:
        """Per-model CRT at every (CLIP tau, patch tau) (groups ``g``: model x slug, variants pooled; ``dynamic``:
        whether each image's reference is dynamic, for the rules that compare the kinds differently)."""
        n_groups = len(model_of_group)
        models = np.unique(model_of_group)
        rows = []
        counts = pass_counts(clip, clip_taus, rule, dynamic)     # recognised at clip_taus[j] <=> counts > j
        stats = {pt: group_stats_at(g, counts, len(clip_taus), kernel.visual_reuse(cells, pt, rule), n_groups)
                 for pt in patch_taus}
        for j, ct in enumerate(clip_taus):
            for pt in patch_taus:
                crt = kernel.finish(stats[pt][j], pooling)["crt"]
                per_model = kernel.macro_mean(model_of_group, crt)
                rows += [(ct, pt, self.a.models[mc], float(per_model[mc])) for mc in models]
        return pd.DataFrame(rows, columns=["clip_tau", "patch_tau", "model", "crt"])
