"""Read-only queries behind the dashboard views (all parameters bound; no user text in SQL)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Filters, Thresholds
from . import runs
from .metrics import metrics_table, where_filters


def run_info(con, run_id: str) -> dict:
    """A score run's record (embedders, grid, patch mode, ...) with JSON columns decoded."""
    info = runs.get(con, run_id)
    if info is None:
        raise LookupError(f"no run {run_id!r}")
    return info


def choices(con) -> dict[str, list[str]]:
    """Values the filters may take (the allow-lists for URL parameters)."""
    q = lambda sql: [r[0] for r in con.execute(sql).fetchall()]  # noqa: E731
    return {"models": q("SELECT DISTINCT model FROM files WHERE role='generation' AND model IS NOT NULL ORDER BY 1"),
            "kinds": q("SELECT DISTINCT kind FROM refs ORDER BY 1"),
            "variants": q("SELECT DISTINCT variant FROM files WHERE role='generation' AND variant IS NOT NULL ORDER BY 1"),
            "slugs": q("SELECT slug FROM refs ORDER BY 1"),
            "runs": runs.score_run_ids(con)}


def raw_images(con, run_id: str, f: Filters = Filters()) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-image raw numbers and the ``(n_images, n_cells)`` matrix of per-cell best similarities."""
    params: dict = {"run": run_id}
    sel = f"""SELECT f.model, f.slug, rf.kind, f.variant, f.file_id, f.label, c.sim AS clip_sim
        FROM clip_sims c JOIN files f USING (file_id) JOIN refs rf ON rf.slug = f.slug
        WHERE c.run_id = $run {where_filters(f, params)}"""
    df = con.execute(sel + " ORDER BY f.file_id", params).df()
    sims = con.execute(f"""SELECT s.sim FROM cell_sims s SEMI JOIN ({sel}) x ON x.file_id = s.file_id
        WHERE s.run_id = $run ORDER BY s.file_id, s.cell""", params).fetchnumpy()["sim"]
    k = len(sims) // max(1, len(df))
    if len(df) == 0 or len(sims) != k * len(df):
        return df.iloc[:0], np.zeros((0, 16))
    return df, np.asarray(sims, np.float64).reshape(len(df), k)


def references_table(con, run_id: str, t: Thresholds, f: Filters = Filters(),
                     ref_metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (reference, model, variant): title, covariates and scores (``ref_metrics``: an
    already computed ``metrics_table(..., "reference")``)."""
    m = metrics_table(con, "reference", t, f, run_id) if ref_metrics is None else ref_metrics
    refs = con.execute("SELECT * FROM refs").df()
    return refs.merge(m.drop(columns=["kind"]), on="slug", how="right")


def reference_images(con, run_id: str, slug: str) -> pd.DataFrame:
    return con.execute(
        """SELECT f.file_id, f.relpath, coalesce(d.kept, false) AS kept, d.dup_of, d.hamming,
                  coalesce(f.error, i.error) AS error
           FROM files f LEFT JOIN ref_dedup d ON d.file_id = f.file_id AND d.run_id = ?
                LEFT JOIN images i USING (image_id)
           WHERE f.role = 'reference' AND f.slug = ? ORDER BY f.relpath""", [run_id, slug]).df()


def gallery(con, run_id: str, t: Thresholds, slug: str, f: Filters = Filters(), sort: str = "clip_sim",
            descending: bool = True) -> pd.DataFrame:
    """Generated images of one reference with their scores, sorted."""
    if sort not in ("clip_sim", "vr", "image"):
        raise ValueError("sort must be clip_sim, vr or image")
    fl = Filters(f.models, f.kinds, f.variants, (slug,))
    df = metrics_table(con, "image", t, fl, run_id)
    return df.sort_values([sort, "image"], ascending=[not descending, True], kind="stable").reset_index(drop=True)


def patch_matches(con, run_id: str, file_id: str) -> pd.DataFrame:
    return con.execute(
        """SELECT s.cell, s.sim, s.ref_file, s.ref_cell, s.same_pos_sim, rf.relpath AS ref_relpath
           FROM cell_sims s LEFT JOIN files rf ON rf.file_id = s.ref_file
           WHERE s.run_id = ? AND s.file_id = ? ORDER BY s.cell""", [run_id, file_id]).df()


def image_row(con, run_id: str, file_id: str) -> dict | None:
    row = con.execute(
        """SELECT f.file_id, f.relpath, f.model, f.slug, f.variant, f.prompt, f.seed, f.label, c.sim AS clip_sim,
                  c.ref_file, rf.title, rf.kind
           FROM files f JOIN refs rf ON rf.slug = f.slug LEFT JOIN clip_sims c ON c.file_id = f.file_id AND c.run_id = ?
           WHERE f.file_id = ?""", [run_id, file_id]).fetchone()
    if row is None:
        return None
    keys = ["file_id", "relpath", "model", "slug", "variant", "prompt", "seed", "label", "clip_sim", "ref_file",
            "title", "kind"]
    return dict(zip(keys, row))


def image_path(con, file_id: str) -> Path | None:
    """The file behind ``file_id`` — only if it resolves inside its registered dataset root."""
    row = con.execute("SELECT r.path, f.relpath FROM files f JOIN roots r USING (root_id) WHERE f.file_id = ?",
                      [file_id]).fetchone()
    if row is None:
        return None
    root = Path(row[0]).resolve()
    p = (root / row[1]).resolve()
    if root != p and root not in p.parents:
        return None
    return p if p.is_file() else None


def variants_table(con, run_id: str, t: Thresholds, f: Filters = Filters(), base: str = "title") -> pd.DataFrame:
    """Per (model, reference): CRA and VR under each prompt variant and the change from ``base``."""
    m = metrics_table(con, "reference", t, Filters(f.models, f.kinds, (), f.slugs), run_id)
    wide = m.pivot_table(index=["model", "slug"], columns="variant", values=["cra", "vr"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    for metric in ("cra", "vr"):
        for v in sorted(m["variant"].unique()):
            if v != base and f"{metric}_{base}" in wide and f"{metric}_{v}" in wide:
                wide[f"d{metric}_{v}"] = wide[f"{metric}_{v}"] - wide[f"{metric}_{base}"]
    return wide.reset_index()
