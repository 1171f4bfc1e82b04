"""Metrics from the stored similarities: SQL returns each generated image's sufficient statistics (its
best CLIP similarity, how many of its cells pass the patch cut, how many cells it has) and the metric
kernel (:mod:`iconicity_core.core.metrics`) finishes them — the same functions the in-memory engine
calls, so the two cannot disagree. Thresholds enter SQL only as bound cuts (``> $cut``), computed by
the kernel from the threshold and its rule; moving a threshold is a new query, never a re-embedding.
"""
from __future__ import annotations

import pandas as pd

from ..config import Filters, Match, Rule, Thresholds
from ..core import metrics as kernel
from . import runs

BY = ("image", "reference", "model")
IMAGE_COLUMNS = ["model", "slug", "kind", "variant", "image", "clip_sim", "recognised", "vr", "vi", "label", "seed",
                 "file_id"]


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


def image_stats(con, run_id: str, patch_tau: float, rule: Rule, match: Match = "any",
                f: Filters = Filters()) -> pd.DataFrame:
    """Per scored generated image: ``model, slug, kind, variant, image, file_id, label, seed, clip_sim,
    n_reused, n_cells`` — ``n_reused`` counting the cells whose similarity (``match``: best anywhere, or
    same position) passes the patch threshold. Only images with every cell scored take part."""
    kernel.check_match(match)
    col = kernel.MATCH_COLUMNS[match]                       # a code constant, never user text
    params = {"run": run_id, "pcut": kernel.cut(patch_tau, rule)}
    return con.execute(f"""
        WITH cellagg AS (
            SELECT file_id, count(*) AS n_cells, count(*) FILTER (WHERE {col} > $pcut) AS n_reused
            FROM cell_sims WHERE run_id = $run GROUP BY file_id)
        SELECT f.model, f.slug, rf.kind, f.variant, f.relpath AS image, f.file_id, f.label, f.seed,
               c.sim AS clip_sim, ca.n_reused, ca.n_cells
        FROM clip_sims c JOIN files f USING (file_id) JOIN refs rf ON rf.slug = f.slug JOIN cellagg ca USING (file_id)
        WHERE c.run_id = $run {where_filters(f, params)}
        ORDER BY f.model, f.slug, f.variant, f.relpath""", params).df()


def metrics_table(con, by: str, t: Thresholds = Thresholds(), f: Filters = Filters(),
                  run_id: str | None = None) -> pd.DataFrame:
    """The ``metrics --by image|reference|model`` table as a DataFrame.

    ``--by model`` has one row per (model, kind, variant) plus ``kind = 'all'`` rows (macro means
    over references). Reference and model tables say their ``pooling`` and ``match`` in columns.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    run_id = runs.resolve(con, run_id)
    img = image_stats(con, run_id, t.patch_tau, t.rule, t.match, f)
    dynamic = img["kind"].to_numpy() == "dynamic"
    rec = kernel.recognised(img["clip_sim"].to_numpy(float), kernel.clip_taus(dynamic, t.clip_tau, t.dynamic_tau), t.rule,
                       dynamic)
    vr = kernel.vr_from_counts(img["n_reused"].to_numpy(), img["n_cells"].to_numpy())
    if by == "image":
        return img.assign(recognised=rec, vr=vr, vi=1.0 - vr)[IMAGE_COLUMNS]
    table = kernel.reference_table(img, rec, vr, t.pooling)
    if by == "model":
        table = kernel.model_table(table)
    return table.assign(pooling=t.pooling, match=t.match)
