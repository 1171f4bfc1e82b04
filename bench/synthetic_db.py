"""A synthetic scores database of the paper's shape x SCALE that the app opens (valid run and embedder
records, covariates, three prompt variants, labels on a subset), written through the project's own
storage code.

    python bench/synthetic_db.py --scale 1 --db /tmp/paper.duckdb       # 767 refs, 191,750 images, 3.07 M cell rows
    python bench/synthetic_db.py --scale 10 --db /tmp/paper10.duckdb    # 30.7 M cell rows
    python bench/synthetic_db.py --scale 1 --clip-dim 512 --db /tmp/paper_map.duckdb   # + every CLIP vector
    streamlit run app.py -- --db /tmp/paper.duckdb
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from iconicity_core.testing import build_synthetic_db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="references = 767 x SCALE (50 generations each per model)")
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clip-dim", type=int, default=0, help="also keep a CLIP embedding of this size per image "
                    "(512 as ViT-B-32) for the Map and Find similar pages")
    args = ap.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists — remove it first")
    t = time.perf_counter()
    out = build_synthetic_db(args.db, args.scale, args.seed, progress=True, clip_dim=args.clip_dim)
    print(json.dumps({**out, "db_MB": round(args.db.stat().st_size / 2**20, 1), "build_s": round(time.perf_counter() - t, 1)}))


if __name__ == "__main__":
    main()
