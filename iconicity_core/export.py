"""Exports: the authors' CSV files (to compare with their released scripts)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import store
from .grid import parse_grid
from .queries import Thresholds, thresholds_dict

DYN_COLS = ["ref_images_kept", "n_ref_before", "n_ref_kept", "n_ref_dups_removed"]


def _ref_info(con, run_id: str) -> pd.DataFrame:
    """Per slug: first kept reference path, kept paths, counts before/after de-duplication."""
    return con.execute(
        """SELECT d.slug,
                  first(r.path || '/' || f.relpath ORDER BY f.relpath) FILTER (WHERE d.kept) AS ref_image_path,
                  string_agg(r.path || '/' || f.relpath, ';' ORDER BY f.relpath) FILTER (WHERE d.kept) AS ref_images_kept,
                  count(*) AS n_ref_before, count(*) FILTER (WHERE d.kept) AS n_ref_kept,
                  count(*) FILTER (WHERE NOT d.kept) AS n_ref_dups_removed
           FROM ref_dedup d JOIN files f USING (file_id) JOIN roots r USING (root_id)
           WHERE d.run_id = ? GROUP BY d.slug""", [run_id]).df()


def export_authors(con, out_dir: str | Path, t: Thresholds = Thresholds(), run_id: str | None = None) -> list[Path]:
    """Write ``results_cra_static.csv``, ``results_cra_dynamic.csv`` and ``results_vr.csv`` (+ ``.meta.json``).

    Unlike the authors' CRA file, every generated image has a row, with ``cra_pass`` (strict ``>``).
    """
    run_id = run_id or store.latest_run(con)
    if run_id is None:
        raise LookupError("the database has no scoring run yet — run `iconicity score` first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = con.execute("SELECT grid, clip_info, dino_info FROM runs WHERE run_id = ?", [run_id]).fetchone()
    rows, cols = parse_grid(run[0])
    base = con.execute(
        """SELECT rf.kind AS mode, f.model, f.slug, f.variant, r.path || '/' || f.relpath AS gen_image_path,
                  c.sim AS cra_sim, c.file_id
           FROM clip_sims c JOIN files f USING (file_id) JOIN roots r USING (root_id) JOIN refs rf ON rf.slug = f.slug
           WHERE c.run_id = ? ORDER BY f.model, f.slug, f.relpath""", [run_id]).df()
    base = base.merge(_ref_info(con, run_id), on="slug", how="left")
    tau = base["mode"].map({"static": t.clip_tau, "dynamic": t.dynamic_tau})
    base["cra_pass"] = base["cra_sim"] > tau
    written = []
    core = ["mode", "model", "slug", "ref_image_path", "gen_image_path"]
    for kind in ("static", "dynamic"):
        part = base[base["mode"] == kind]
        cols_ = core + ["cra_sim", "cra_pass"] + (DYN_COLS if kind == "dynamic" else []) + ["variant"]
        written.append(_write(part[cols_], out / f"results_cra_{kind}.csv", run_id, t, con))
    cells = con.execute(
        """SELECT file_id, max(sim) AS vr_max, avg(sim) AS vr_mean, quantile_cont(sim, 0.9) AS vr_p90,
                  count(*) AS n_gen_patches, avg(CASE WHEN sim > ? THEN 1.0 ELSE 0.0 END) AS vr
           FROM cell_sims WHERE run_id = ? GROUP BY file_id""", [t.patch_tau, run_id]).df()
    vr = base.merge(cells, on="file_id")
    vr["grid_rows"], vr["grid_cols"] = rows, cols
    vr["n_ref_patches"] = vr["n_ref_kept"] * rows * cols
    vr_cols = core + ["grid_rows", "grid_cols", "n_ref_patches", "n_gen_patches", "vr_max", "vr_mean",
                      "vr_p90"] + DYN_COLS + ["variant", "vr"]
    written.append(_write(vr[vr_cols], out / "results_vr.csv", run_id, t, con))
    return written


def _write(df: pd.DataFrame, path: Path, run_id: str, t: Thresholds, con) -> Path:
    df.to_csv(path, index=False)
    run = con.execute("SELECT clip_info, dino_info, versions FROM runs WHERE run_id = ?", [run_id]).fetchone()
    meta = {"run_id": run_id, "thresholds": thresholds_dict(t), "threshold_rule": "strict >",
            "clip": json.loads(run[0]), "dino": json.loads(run[1]), "versions": json.loads(run[2]),
            "rows": len(df), "note": "one row per generated image (cra_pass marks the threshold)"}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return path
