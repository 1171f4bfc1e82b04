"""Rows for the authors' CSV export (one per generated image, with the reference bookkeeping)."""
from __future__ import annotations

import pandas as pd

from ..config import Match, Rule
from ..core import metrics as kernel


def reference_info(con, run_id: str) -> pd.DataFrame:
    """Per slug: the folder name it was read from (as the released scripts write their ``slug``), first kept
    reference path, kept paths, counts before/after de-duplication."""
    return con.execute(
        """SELECT d.slug,
                  first(CASE WHEN r.layout = 'authors' THEN split_part(f.relpath, '/', 1)
                             ELSE split_part(f.relpath, '/', 2) END ORDER BY f.relpath) AS folder,
                  first(r.path || '/' || f.relpath ORDER BY f.relpath) FILTER (WHERE d.kept) AS ref_image_path,
                  string_agg(r.path || '/' || f.relpath, ';' ORDER BY f.relpath) FILTER (WHERE d.kept) AS ref_images_kept,
                  count(*) AS n_ref_before, count(*) FILTER (WHERE d.kept) AS n_ref_kept,
                  count(*) FILTER (WHERE NOT d.kept) AS n_ref_dups_removed
           FROM ref_dedup d JOIN files f USING (file_id) JOIN roots r USING (root_id)
           WHERE d.run_id = ? GROUP BY d.slug""", [run_id]).df()


def generated_rows(con, run_id: str) -> pd.DataFrame:
    """Every scored generated image with its kind, model, slug, variant, path and CLIP similarity."""
    return con.execute(
        """SELECT rf.kind AS mode, f.model, f.slug, f.variant, r.path || '/' || f.relpath AS gen_image_path,
                  c.sim AS cra_sim, c.file_id
           FROM clip_sims c JOIN files f USING (file_id) JOIN roots r USING (root_id) JOIN refs rf ON rf.slug = f.slug
           WHERE c.run_id = ? ORDER BY f.model, f.slug, f.relpath""", [run_id]).df()


def cell_summaries(con, run_id: str, patch_tau: float, rule: Rule = "gt", match: Match = "any") -> pd.DataFrame:
    """Per generated file: max / mean / p90 of the per-cell best similarities (of the matching mode), cell
    count, and VR (the kernel's: reused cells over cells, with its cut)."""
    kernel.check_match(match)
    col = kernel.MATCH_COLUMNS[match]                       # a code constant, never user text
    df = con.execute(
        f"""SELECT file_id, max({col}) AS vr_max, avg({col}) AS vr_mean, quantile_cont({col}, 0.9) AS vr_p90,
                   count(*) AS n_gen_patches, count(*) FILTER (WHERE {col} > ?) AS n_reused
            FROM cell_sims WHERE run_id = ? GROUP BY file_id""", [kernel.cut(patch_tau, rule), run_id]).df()
    return df.assign(vr=kernel.vr_from_counts(df.pop("n_reused").to_numpy(), df["n_gen_patches"].to_numpy()))
