"""Metrics as DuckDB queries over the stored similarities; thresholds are bound parameters.

The SQL mirrors :mod:`iconicity_core.core.metrics` exactly (tests check that both agree), so moving a
threshold never needs re-embedding: it is a new query over the same rows.
"""
from __future__ import annotations

import pandas as pd

from ..config import Filters, Thresholds
from . import runs

BY = ("image", "reference", "model")


def where_filters(f: Filters, params: dict) -> str:
    """``AND ...`` restricting the ``f`` (files) / ``rf`` (refs) aliases to the filters; values go
    into ``params`` as bound lists."""
    parts = []
    for col, vals in (("f.model", f.models), ("rf.kind", f.kinds), ("f.variant", f.variants), ("f.slug", f.slugs)):
        if vals:
            key = f"flt_{col.split('.')[1]}"
            params[key] = list(vals)
            parts.append(f"{col} IN (SELECT unnest(${key}))")
    return (" AND " + " AND ".join(parts)) if parts else ""


def _image_cte(run_id: str, t: Thresholds, f: Filters) -> tuple[str, dict]:
    ge = t.rule == "ge"
    params = {"run": run_id, "tau": t.clip_tau, "tau_dyn": t.dynamic_tau, "ptau": t.patch_tau,
              "pooling": t.pooling}
    sql = f"""
    WITH cellagg AS (
        SELECT file_id, avg(CASE WHEN sim {'>=' if ge else '>'} $ptau THEN 1.0 ELSE 0.0 END) AS vr
        FROM cell_sims WHERE run_id = $run GROUP BY file_id
    ), img AS (
        SELECT f.model, f.slug, rf.kind, f.variant, f.relpath AS image, f.file_id, f.label, f.seed,
               c.sim AS clip_sim,
               c.sim {'>=' if ge else '>'} CASE WHEN rf.kind = 'dynamic' THEN $tau_dyn ELSE $tau END AS recognised,
               ca.vr, 1.0 - ca.vr AS vi
        FROM clip_sims c JOIN files f USING (file_id) JOIN refs rf ON rf.slug = f.slug
             JOIN cellagg ca USING (file_id)
        WHERE c.run_id = $run {where_filters(f, params)}
    ), refagg AS (
        SELECT model, slug, kind, variant, count(*) AS n,
               avg(CASE WHEN recognised THEN 1.0 ELSE 0.0 END) AS cra,
               CASE WHEN $pooling = 'all' THEN avg(vr) ELSE avg(vr) FILTER (WHERE recognised) END AS vr
        FROM img GROUP BY model, slug, kind, variant
    ), refs_m AS (
        SELECT model, slug, kind, variant, n, cra, vr, 1.0 - vr AS vi,
               CASE WHEN cra > 0 THEN cra * (1.0 - vr) ELSE 0.0 END AS crt
        FROM refagg
    )"""
    return sql, params


_MODEL_AGG = """
        SELECT model, coalesce(kind, 'all') AS kind, variant, count(*) AS n_refs,
               avg(cra) AS cra, avg(vr) AS vr, avg(vi) AS vi, avg(crt) AS crt
        FROM {src} GROUP BY GROUPING SETS ((model, kind, variant), (model, variant))
        ORDER BY model, variant, kind = 'all', kind"""


def model_table_from_references(con, ref_table: pd.DataFrame) -> pd.DataFrame:
    """``--by model`` from an already computed ``--by reference`` table (saves a second scan)."""
    con.register("_refs_m", ref_table.drop(columns=["pooling"], errors="ignore"))
    try:
        df = con.execute(_MODEL_AGG.format(src="_refs_m")).df()
    finally:
        con.unregister("_refs_m")
    if "pooling" in ref_table:
        df["pooling"] = ref_table["pooling"].iloc[0] if len(ref_table) else None
    return df


def metrics_table(con, by: str, t: Thresholds = Thresholds(), f: Filters = Filters(),
                  run_id: str | None = None) -> pd.DataFrame:
    """The ``metrics --by image|reference|model`` table as a DataFrame.

    ``--by model`` has one row per (model, kind, variant) plus ``kind = 'all'`` rows (macro means
    over references).
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    run_id = runs.resolve(con, run_id)
    cte, params = _image_cte(run_id, t, f)
    if by == "image":
        q = cte + """
        SELECT model, slug, kind, variant, image, clip_sim, recognised, vr, vi, label, seed, file_id
        FROM img ORDER BY model, slug, variant, image"""
    elif by == "reference":
        q = cte + " SELECT * FROM refs_m ORDER BY model, slug, variant"
    else:
        q = cte + _MODEL_AGG.format(src="refs_m")
    df = con.execute(q, params).df()
    if by != "image":
        df["pooling"] = t.pooling
    return df
