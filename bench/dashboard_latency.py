"""Latency of the queries behind the dashboard, on synthetic databases at the paper's scale and 10x.

Paper scale: 767 references x 5 models x 50 generations x 16 cells ~ 3.1 M cell rows.
Timed: one slider move on Overview (per-model table + per-reference table at new thresholds), and the
threshold-sweep curves of the Thresholds page (raw load + CRA/VR curves over 101 thresholds).

    python bench/dashboard_latency.py            # paper scale and 10x (needs ~3 GB of disk in /tmp)
    python bench/dashboard_latency.py --scales 1
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from iconicity_core import store, sweeps
from iconicity_core.queries import Thresholds, metrics_table, model_table_from_references
from iconicity_core.views import raw_images, references_table


def build(db: Path, n_refs: int, n_models: int = 5, n_gens: int = 50, k: int = 16, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    con = store.connect(db)
    con.execute("INSERT INTO roots VALUES (1, '/nonexistent', 'design')")
    con.execute("ALTER TABLE refs ADD COLUMN sitelinks DOUBLE")
    refs_df = pd.DataFrame({"slug": [f"ref{i:05d}" for i in range(n_refs)], "title": [f"Title {i}" for i in range(n_refs)],
                         "kind": np.where(np.arange(n_refs) % 2, "dynamic", "static"),
                         "sitelinks": rng.integers(21, 500, n_refs).astype(float)})
    con.register("refs_df", refs_df)
    con.execute("INSERT INTO refs SELECT * FROM refs_df")
    n = n_refs * n_models * n_gens
    slug_idx = np.repeat(np.arange(n_refs), n_models * n_gens)
    model_idx = np.tile(np.repeat(np.arange(n_models), n_gens), n_refs)
    fid = np.char.add("g", np.arange(n).astype(str))
    files_df = pd.DataFrame({"file_id": fid, "root_id": 1, "relpath": fid, "role": "generation",
                          "slug": refs_df["slug"].to_numpy()[slug_idx], "model": np.char.add("model", model_idx.astype(str)),
                          "variant": "title", "prompt": None, "seed": np.arange(n), "label": None, "image_id": fid,
                          "size": 0, "mtime": 0.0, "error": None})
    con.register("files_df", files_df)
    con.execute("INSERT INTO files SELECT * FROM files_df")
    con.execute("INSERT INTO runs (run_id, clip_key, dino_key, clip_info, dino_info, grid, patch_mode, phash_max, semantic) "
                "VALUES ('r', 'c', 'd', '{}', '{}', '4x4', 'crop', 18, true)")
    base = rng.beta(5, 2, n)
    clip_df = pd.DataFrame({"run_id": "r", "file_id": fid, "slug": files_df["slug"], "sim": base, "ref_file": "x", "n_refs": 1})
    con.register("clip_df", clip_df)
    con.execute("INSERT INTO clip_sims SELECT * FROM clip_df")
    for start in range(0, n, 200_000):       # cell rows in chunks to bound memory
        m = min(n, start + 200_000) - start
        sims = np.clip(base[start:start + m, None] + rng.normal(0, 0.15, (m, k)), -1, 1).astype(np.float32)
        cells_df = pd.DataFrame({"run_id": "r", "file_id": np.repeat(fid[start:start + m], k),
                              "cell": np.tile(np.arange(k, dtype=np.int16), m), "sim": sims.ravel(),
                              "ref_file": "x", "ref_cell": np.tile(np.arange(k, dtype=np.int16), m),
                              "same_pos_sim": sims.ravel()})
        con.register("cells_df", cells_df)
        con.execute("INSERT INTO cell_sims SELECT * FROM cells_df")
    con.execute("CHECKPOINT")
    con.close()
    return n * k


def timeit(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        for scale in args.scales:
            db = Path(d) / f"scale{scale}.duckdb"
            t0 = time.perf_counter()
            rows = build(db, 767 * scale)
            build_s = time.perf_counter() - t0
            con = store.connect(db, read_only=True)
            assert con.execute("SELECT count(*) FROM cell_sims c JOIN files f USING (file_id)").fetchone()[0] == rows
            taus = iter(np.round(np.linspace(0.5, 0.9, 1000), 3))

            def slider_move():
                t = Thresholds(float(next(taus)), None, 0.6)
                per_ref = metrics_table(con, "reference", t, run_id="r")     # as pages/overview.py does
                model_table_from_references(con, per_ref)
                references_table(con, "r", t, ref_metrics=per_ref)

            def sweep():
                images, cells = raw_images(con, "r")
                grid = np.round(np.linspace(0, 1, 101), 2)
                sweeps.cra_curve(images, grid)
                sweeps.vr_curve(images, cells, grid)

            slider_move()                                   # warm the file cache
            move = timeit(slider_move, args.repeat)
            sw = timeit(sweep, max(1, args.repeat // 3))
            con.close()
            res = {"scale": scale, "cell_rows": rows, "db_MB": round(db.stat().st_size / 1e6, 1),
                   "build_s": round(build_s, 1), "slider_move_median_ms": round(1000 * statistics.median(move), 1),
                   "sweep_median_s": round(statistics.median(sw), 2)}
            results.append(res)
            print(json.dumps(res), flush=True)
            db.unlink()
    print("targets: slider move <= 100 ms at paper scale, <= 1 s at 10x")


if __name__ == "__main__":
    main()
