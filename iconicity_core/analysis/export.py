"""Exports: the authors' CSV files (to compare with their released scripts)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import db
from ..config import Thresholds
from ..core.grid import parse_grid
from ..io.atomic import atomic_write
from ..io.provenance import sha256_file

DYN_COLS = ["ref_images_kept", "n_ref_before", "n_ref_kept", "n_ref_dups_removed"]


def export_authors(con, out_dir: str | Path, t: Thresholds = Thresholds(), run_id: str | None = None) -> list[Path]:
    """Write ``results_cra_static.csv``, ``results_cra_dynamic.csv`` and ``results_vr.csv`` (+ ``.meta.json``),
    recorded as an ``export`` run with the files' hashes.

    Unlike the authors' CRA file, every generated image has a row, with ``cra_pass`` (strict ``>``).
    """
    run_id = db.runs.resolve(con, run_id)
    out = Path(out_dir)
    run = db.runs.get(con, run_id)
    rows, cols = parse_grid(run["grid"])
    base = db.exports.generated_rows(con, run_id).merge(db.exports.reference_info(con, run_id), on="slug", how="left")
    tau = base["mode"].map({"static": t.clip_tau, "dynamic": t.dynamic_tau})
    base["cra_pass"] = base["cra_sim"] > tau
    tables: dict[Path, pd.DataFrame] = {}
    core = ["mode", "model", "slug", "ref_image_path", "gen_image_path"]
    for kind in ("static", "dynamic"):
        part = base[base["mode"] == kind]
        cols_ = core + ["cra_sim", "cra_pass"] + (DYN_COLS if kind == "dynamic" else []) + ["variant"]
        tables[out / f"results_cra_{kind}.csv"] = part[cols_]
    vr = base.merge(db.exports.cell_summaries(con, run_id, t.patch_tau), on="file_id")
    vr["grid_rows"], vr["grid_cols"] = rows, cols
    vr["n_ref_patches"] = vr["n_ref_kept"] * rows * cols
    vr_cols = core + ["grid_rows", "grid_cols", "n_ref_patches", "n_gen_patches", "vr_max", "vr_mean",
                      "vr_p90"] + DYN_COLS + ["variant", "vr"]
    tables[out / "results_vr.csv"] = vr[vr_cols]
    config = {"format": "authors", "thresholds": t.as_dict(), "threshold_rule": "strict >", "out": str(out)}
    with db.runs.recorded(con, "export", config, parent_run=run_id) as rec:
        files = {}
        for path, df in tables.items():
            meta = {"run_id": run_id, "export_run": rec.run_id, "thresholds": t.as_dict(), "threshold_rule": "strict >",
                    "clip": run["clip_info"], "dino": run["dino_info"], "versions": run["versions"],
                    "rows": len(df), "note": "one row per generated image (cra_pass marks the threshold)"}
            files[path] = atomic_write(path, df.to_csv(index=False))
            files[path.with_suffix(".meta.json")] = atomic_write(path.with_suffix(".meta.json"),
                                                                 json.dumps(meta, indent=2, default=str))
        rec.outputs["files"] = {str(p): sha256_file(p) for p in files}
    return list(tables)
