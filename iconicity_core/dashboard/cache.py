"""What the dashboard reads from a database, cached per database file *version* (size and modification
time of the file and its write-ahead log): a rerun whose data did not change opens nothing, and a
re-scored database is read again. The database is opened read-only only on a cache miss and closed
at once, so `iconicity score` is never locked out for long.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from .. import db as database
from ..analysis.engine import Arrays, Engine


def file_version(path: Path) -> tuple:
    """Identity of a database file's contents for cache keys: size and modification time of the file
    and of its write-ahead log (a writer that has not checkpointed yet changes the log)."""
    out: list[int | None] = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            s = p.stat()
            out += [s.st_size, s.st_mtime_ns]
        except OSError:
            out += [None, None]
    return tuple(out)


def read(path: str, fn):
    """``fn(con)`` on a read-only connection opened for the call (for reads that are memoised elsewhere)."""
    return _read(path, fn)


@st.cache_data(max_entries=8, show_spinner=False)
def kinds(path: str, version: tuple) -> dict[str, str]:
    """slug -> static / dynamic."""
    return _read(path, lambda con: dict(zip(*database.refs.table(con)[["slug", "kind"]].to_numpy().T, strict=True)))


def _read(path: str, fn):
    con = database.connect(path, read_only=True)
    try:
        return fn(con)
    finally:
        con.close()


@st.cache_data(max_entries=16, show_spinner=False)
def meta(path: str, version: tuple) -> tuple[dict, dict]:
    """Allow-lists (models, kinds, variants, slugs, runs) and the score-run records."""
    def read(con):
        choices = database.views.choices(con)
        return choices, {r: database.views.run_info(con, r) for r in choices["runs"]}
    return _read(path, read)


@st.cache_resource(max_entries=2, show_spinner="Loading the scores into memory (once per database version)…")
def engine(path: str, version: tuple, run_id: str) -> Engine:
    """The in-memory metrics engine of one score run (shared by every session)."""
    return Engine(Arrays.from_columns(_read(path, lambda con: database.views.engine_arrays(con, run_id))))


@st.cache_data(max_entries=8, show_spinner=False)
def references(path: str, version: tuple) -> pd.DataFrame:
    """The references with their covariates."""
    return _read(path, database.refs.table)


@st.cache_data(max_entries=8, show_spinner=False)
def covariates(path: str, version: tuple) -> tuple[list[str], pd.DataFrame]:
    """Numeric covariate columns and the provenance of every covariate."""
    return _read(path, lambda con: (database.refs.numeric_covariates(con), database.refs.sources(con)))


@st.cache_data(max_entries=64, show_spinner=False)
def file_rows(path: str, version: tuple, file_ids: tuple[str, ...]) -> pd.DataFrame:
    """``file_id, image, seed`` of some files (a gallery, a selection, the per-image export)."""
    return _read(path, lambda con: database.views.file_rows(con, list(file_ids)))


def image_paths(path: str, version: tuple, file_ids: tuple[str, ...]) -> dict[str, Path | None]:
    """The files behind some file ids (one read for a whole gallery) — each only if it resolves inside
    its registered dataset root (and inside ``--allow-root`` / ``$ICONICITY_IMAGE_ROOTS`` when given)
    and exists."""
    import sys

    from .databases import allowed_roots

    return _image_paths(path, version, file_ids, allowed_roots(sys.argv[1:]))


@st.cache_data(max_entries=128, show_spinner=False)
def _image_paths(path: str, version: tuple, file_ids: tuple[str, ...], allowed) -> dict[str, Path | None]:
    return _read(path, lambda con: database.views.image_paths(con, list(file_ids),
                                                               None if allowed is None else [Path(a) for a in allowed]))


def image_path(path: str, version: tuple, file_id: str) -> Path | None:
    return image_paths(path, version, (file_id,))[file_id]


@st.cache_data(max_entries=64, show_spinner=False)
def reference_images(path: str, version: tuple, run_id: str, slug: str) -> pd.DataFrame:
    return _read(path, lambda con: database.views.reference_images(con, run_id, slug))


@st.cache_data(max_entries=64, show_spinner=False)
def patch_matches(path: str, version: tuple, run_id: str, file_id: str) -> tuple[pd.DataFrame, dict | None]:
    """Per-cell matches of one generated image and its record (model, prompt, seed, ...)."""
    return _read(path, lambda con: (database.views.patch_matches(con, run_id, file_id),
                                    database.views.image_row(con, run_id, file_id)))


@st.cache_data(max_entries=8, show_spinner=False)
def measures(path: str, version: tuple, run_id: str) -> pd.DataFrame | None:
    """Scores of the latest `iconicity evaluate` over the run (None if it never ran)."""
    def read(con):
        ev = database.measure_scores.latest_evaluate_run(con, run_id)
        return None if ev is None else database.measure_scores.read(con, ev)
    return _read(path, read)


@st.cache_data(max_entries=8, show_spinner=False)
def reference_counts(path: str, version: tuple, run_id: str) -> pd.DataFrame:
    return _read(path, lambda con: database.views.reference_counts(con, run_id))


@st.cache_resource(max_entries=4, show_spinner="Computing the map (once per database version; stored beside it)…")
def map_coordinates(path: str, version: tuple, run_id: str, method: str) -> tuple[pd.DataFrame | None, str | None]:
    """``(image_id, x, y)`` of the run's map and a notice: read from the sidecar `iconicity map` (or an
    earlier open) wrote when it is valid for the run, else computed now and stored there (the notice says
    why, and when it could not be stored). None when the run kept no CLIP embeddings."""
    from ..analysis import maps

    if not _read(path, lambda con: database.embeddings.count(con, database.runs.require(con, run_id)["clip_key"])):
        return None, None                     # the run kept no vectors: nothing to read, place or store
    image_ids = set(map_files(path, version, run_id)["image_id"].dropna())
    stored, problem = maps.load(path, run_id, method, image_ids)
    if stored is not None:
        missing = image_ids - set(stored["image_id"])
        if not missing or not _read(path, lambda con: database.embeddings.have(
                con, database.runs.require(con, run_id)["clip_key"], sorted(missing))):
            return stored, None                                  # (else a resumed run added images: map again)
    ids, vecs = clip_index(path, version, run_id)          # loaded once for the map and for Find similar
    try:
        return maps.store(path, run_id, method, ids, vecs), (f"{problem} — computed again" if problem else None)
    except maps.MapNotStored as e:
        return e.map, str(e)
    except LookupError:
        return None, None


@st.cache_data(max_entries=8, show_spinner=False)
def map_files(path: str, version: tuple, run_id: str) -> pd.DataFrame:
    return _read(path, lambda con: database.views.map_files(con, run_id))


@st.cache_resource(max_entries=2, show_spinner="Loading the CLIP embeddings (once per database version)…")
def clip_index(path: str, version: tuple, run_id: str):
    """``(image ids, float16 unit vectors)`` of every image of the run that has a stored CLIP embedding."""
    if not _read(path, lambda con: database.embeddings.count(con, database.runs.require(con, run_id)["clip_key"])):
        return np.asarray([]), np.zeros((0, 0), np.float16)
    files = map_files(path, version, run_id)

    def read(con):
        key = database.runs.require(con, run_id)["clip_key"]
        ids, vecs = database.embeddings.all_of(con, key, sorted(set(files["image_id"].dropna())))
        return np.asarray(ids), vecs.reshape(len(ids), -1).astype(np.float16) if ids else np.zeros((0, 0), np.float16)
    return _read(path, read)


def known_relpaths(path: str, version: tuple, relpaths: tuple[str, ...]) -> set[str]:
    """Which of ``relpaths`` are files of the database (not cached: an import is rare)."""
    return _read(path, lambda con: database.views.known_relpaths(con, list(relpaths)))


@st.cache_data(max_entries=8, show_spinner=False)
def sidecar_labels(path: str, version: tuple, labels_version, run_id: str) -> dict[str, str]:
    """file_id -> label from the labels sidecar beside the database (cached per version of both; see
    :func:`iconicity_core.io.labels.by_file`)."""
    from ..io import labels

    if labels_version is None:
        return {}
    files = map_files(path, version, run_id)
    return labels.by_file(path, files["file_id"], files["image"])
