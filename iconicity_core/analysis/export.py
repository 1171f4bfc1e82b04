"""Exports: the authors' CSV files (to compare with their released scripts)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import db
from ..config import Thresholds
from ..core import metrics as kernel
from ..core.grid import parse_grid
from ..io.csvfiles import to_csv
from ..io.outputs import fence_output, fenced_folder, write_output
from ..io.provenance import record_files

DYN_COLS = ["ref_images_kept", "n_ref_before", "n_ref_kept", "n_ref_dups_removed"]


def export_authors(con, out_dir: str | Path, t: Thresholds = Thresholds(), run_id: str | None = None) -> list[Path]:
    """The released scripts' files, to diff against their output — ``results_cra_static.csv`` /
    ``results_cra_dynamic.csv`` (only the generations that pass the CLIP threshold, as the script
    writes them) and ``results_vr_static.csv`` / ``results_vr_dynamic.csv`` (max / mean / p90 of the
    per-cell maxima, no thresholded VR) — plus ours, ``iconicity_images.csv``, with every generated image,
    ``cra_pass`` and the thresholded ``vr``. Each with a ``.meta.json``; recorded as an ``export`` run; returns every file written.
    The threshold rule is the run's (``>=`` for a run scored with ``--preset authors``)."""
    run_id = db.runs.resolve(con, run_id)
    out = fence_output(out_dir, "folder")            # never a database, its maps folder, a file; created below
    run = db.runs.require(con, run_id)
    rows, cols = parse_grid(run["grid"])
    base = db.exports.generated_rows(con, run_id).merge(db.exports.reference_info(con, run_id), on="slug", how="left")
    # the scripts' `slug` is the folder name ("Great Wave"); ours (normalised) is kept beside it
    base = base.rename(columns={"slug": "iconicity_slug"}).assign(slug=lambda d: d["folder"].fillna(d["iconicity_slug"]))
    dynamic = base["mode"].to_numpy() == "dynamic"
    base["cra_pass"] = kernel.recognised(base["cra_sim"].to_numpy(float), kernel.clip_taus(dynamic, t.clip_tau, t.dynamic_tau),
                                    t.rule, dynamic)
    cells = db.exports.cell_summaries(con, run_id, t.patch_tau, t.rule, t.match)
    vr = base.merge(cells, on="file_id")
    vr["grid_rows"], vr["grid_cols"] = rows, cols
    vr["n_ref_patches"] = vr["n_ref_kept"] * rows * cols
    core = ["mode", "model", "slug", "iconicity_slug", "ref_image_path", "gen_image_path"]
    vr_cols = [*core, "grid_rows", "grid_cols", "n_ref_patches", "n_gen_patches", "vr_max", "vr_mean", "vr_p90"]
    tables: dict[Path, tuple[pd.DataFrame, str]] = {}
    for kind in ("static", "dynamic"):
        dyn = DYN_COLS if kind == "dynamic" else []
        part = base[(base["mode"] == kind) & base["cra_pass"]]
        tables[out / f"results_cra_{kind}.csv"] = (part[[*core, "cra_sim", "cra_pass", *dyn, "variant"]],
                                                   "generations that pass the CLIP threshold (the script's rows)")
        tables[out / f"results_vr_{kind}.csv"] = (vr[vr["mode"] == kind][vr_cols + dyn + ["variant"]],
                                                  "one row per generated image; per-cell maxima summarised")
    image_columns = [*core, "variant", "cra_sim", "cra_pass", "vr_max", "vr_mean", "vr_p90", "vr", "n_gen_patches"]
    tables[out / "iconicity_images.csv"] = (vr[image_columns],
                                            "every generated image, with cra_pass and the thresholded vr")
    rule = kernel.RULE_TEXT[t.rule]
    config = {"format": "authors", "thresholds": t.as_dict(), "threshold_rule": rule, "out": str(out)}
    fenced_folder(out)
    for path in tables:                              # every file fenced before anything is written
        fence_output(path, "file")
        fence_output(path.with_suffix(".meta.json"), "file")
    with db.runs.recorded(con, "export", config, parent_run=run_id) as rec:
        files = {}
        for path, (df, note) in tables.items():
            meta = {"run_id": run_id, "export_run": rec.run_id, "thresholds": t.as_dict(), "threshold_rule": rule,
                    "clip": run["clip_info"], "dino": run["dino_info"], "versions": run["versions"],
                    "preset": (run.get("config") or {}).get("preset"), "rows": len(df), "note": note}
            files[path] = write_output(path, to_csv(df))
            files[path.with_suffix(".meta.json")] = write_output(path.with_suffix(".meta.json"),
                                                                 json.dumps(meta, indent=2, default=str))
        rec.outputs.update(record_files(files, db.path_of(con)))
    return list(files)
