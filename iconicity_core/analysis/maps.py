"""The 2-D map of a score run's images (generated and reference), from their CLIP embeddings, kept in a
sidecar file next to the database (``results.duckdb.maps/<run>-<method>.parquet``: image_id, x, y), so
it is computed once — by `iconicity map` or the dashboard's first open of the Map page — and then read.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .. import db
from ..errors import OutputRefused
from ..io.atomic import atomic_write
from .projection import project


def sidecar(database: str | Path, run_id: str, method: str) -> Path:
    return Path(str(database) + ".maps") / f"{run_id}-{method}.parquet"


def validate(df: pd.DataFrame, image_ids) -> str | None:
    """Why a stored map cannot be used for a run whose mapped images are ``image_ids`` (None: it can) —
    the columns and their types, no image twice, only images of the run, finite coordinates."""
    if list(df.columns) != ["image_id", "x", "y"]:
        return f"its columns are {list(df.columns)}, not image_id, x, y"
    if not all(isinstance(v, str) for v in df["image_id"]):
        return "its image ids are not all text"
    for c in ("x", "y"):
        if not pd.api.types.is_float_dtype(df[c]) or not np.isfinite(df[c].to_numpy()).all():
            return f"its {c} column is not finite numbers"
    if df["image_id"].duplicated().any():
        return f"{int(df['image_id'].duplicated().sum())} image(s) appear twice"
    unknown = set(df["image_id"]) - set(image_ids)
    if unknown:
        return f"{len(unknown)} of its images are not images of this run"
    return None


def load(database: str | Path, run_id: str, method: str, image_ids) -> tuple[pd.DataFrame | None, str | None]:
    """A stored map, if it exists and is valid for the run (:func:`validate`); else ``(None, why)`` — the
    caller recomputes it (a file a person broke is replaced, never trusted)."""
    path = sidecar(database, run_id, method)
    if not path.exists():
        return None, None
    if not path.is_file():
        return None, f"{path} is not a file"
    try:
        df = pd.read_parquet(path)
    except Exception as e:                      # any damage: unreadable parquet, wrong engine, ...
        return None, f"{path.name} cannot be read ({type(e).__name__})"
    why = validate(df, image_ids)
    return (None, f"{path.name}: {why}") if why else (df, None)


def compute(con, run_id: str, method: str = "pca", database: str | Path | None = None) -> pd.DataFrame:
    """Project the CLIP embeddings of the run's images (those the database kept: score with
    ``--keep-embeddings all`` to map generated images too) and store the map beside the database."""
    run = db.runs.require(con, run_id)
    files = db.views.map_files(con, run_id)
    ids, vecs = db.embeddings.all_of(con, run["clip_key"], sorted(set(files["image_id"].dropna())))
    return store(database or db.path_of(con), run_id, method, ids, vecs)


def store(database: str | Path | None, run_id: str, method: str, ids, vecs: np.ndarray) -> pd.DataFrame:
    """Project ``vecs`` (one row per image id) and write the map beside ``database`` (when given). The
    vectors are projected in float16 (the form the dashboard keeps in memory for Find similar), so
    `iconicity map` and the dashboard draw the same map."""
    if not len(ids):
        raise LookupError("no CLIP embeddings are stored for this run — score with --keep-embeddings all")
    xy = project(np.asarray(vecs, np.float16).reshape(len(ids), -1).astype(np.float32), method)
    out = pd.DataFrame({"image_id": [str(i) for i in ids], "x": xy[:, 0].astype(np.float64),
                        "y": xy[:, 1].astype(np.float64)})
    if database is not None:
        buf = io.BytesIO()
        out.to_parquet(buf, index=False)
        path = sidecar(database, run_id, method)
        try:
            atomic_write(path, buf.getvalue(), create_parents=True)     # DB.maps/ is made on first use
        except (OSError, OutputRefused) as e:
            why = getattr(e, "strerror", None) or e
            raise MapNotStored(out, f"the map could not be stored at {path} ({why}): it is shown, "
                                    f"but computed again next time — remove or rename what is at {path.parent}") from None
    return out


class MapNotStored(OSError):
    """The map was computed but its sidecar could not be written (``.map`` holds it)."""

    def __init__(self, map_: pd.DataFrame, message: str) -> None:
        super().__init__(message)
        self.map = map_


def map_run(con, run_id: str, method: str = "pca") -> tuple[Path, int]:
    """`iconicity map`: compute and store the map as a recorded run (kind ``map``)."""
    from ..io.provenance import record_files

    database = db.path_of(con)
    if database is None:
        raise ValueError("a map is stored beside its database: open a database file, not an in-memory one")
    with db.runs.recorded(con, "map", {"method": method}, parent_run=run_id) as rec:
        out = compute(con, run_id, method, database)
        path = sidecar(database, run_id, method)
        rec.outputs.update({**record_files([path], database), "points": len(out)})
    return path, len(out)


#: How many points the map may draw (a fixed random sample beyond). A lasso or box selects every mapped
#: image inside it, drawn or not, so the sample only thins the picture.
DRAW_CHOICES = (5_000, 10_000, 20_000, 50_000, 100_000)
DRAW_DEFAULT = 10_000


def drawn(points: pd.DataFrame, n: int) -> pd.DataFrame:
    """The points the map draws: all of them up to ``n``, else a fixed random sample of ``n`` (the same
    points at every threshold; references first, up to a quarter of ``n``)."""
    if len(points) <= n:
        return points
    order = np.random.default_rng(0).permutation(len(points))
    refs = order[(points["role"].to_numpy()[order] == "reference")][: n // 4]
    gens = order[(points["role"].to_numpy()[order] != "reference")][: n - len(refs)]
    return points.iloc[np.sort(np.concatenate([refs, gens]))]


def selected(points: pd.DataFrame, selection) -> pd.DataFrame:
    """The mapped images a chart selection names: every point inside its boxes and lasso polygons (drawn
    or not) and the points clicked (their ``customdata`` is their position in ``points``)."""
    from .projection import in_region

    if not selection:
        return points.iloc[:0]
    inside = in_region(points["x"].to_numpy(), points["y"].to_numpy(), selection.get("box") or [],
                       selection.get("lasso") or [])
    for p in selection.get("points") or []:
        c = p.get("customdata")
        c = c[0] if isinstance(c, list) and c else c
        if isinstance(c, (int, float)) and 0 <= int(c) < len(points):
            inside[int(c)] = True
    return points[inside]
