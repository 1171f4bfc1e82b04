"""Caption counting throughput: the DuckDB counter vs a straightforward Python loop, same data.

A synthetic corpus (default 10 M captions in Parquet files) and 800 titles; 2% of captions mention a
title. Prints captions per second of both and their ratio (targets: >= 20x, >= 1 M captions/s).

    python bench/caption_counts.py                 # 10 M captions
    python bench/caption_counts.py --captions 2000000 --python-sample 200000
"""
from __future__ import annotations

import argparse
import re
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iconicity_core import db
from iconicity_core.analysis import covariates

WORDS = ("photo of a the with on in at red blue green old new man woman dog cat house street city painting "
         "portrait sky night day river mountain car poster art print vintage modern abstract black white").split()


def build(d: Path, n: int, n_titles: int, seed: int = 0) -> tuple[list[Path], list[str]]:
    rng = np.random.default_rng(seed)
    titles = [" ".join(f"{WORDS[i % len(WORDS)]}{j}" for j in range(1 + k % 3))
              for k, i in enumerate(rng.integers(0, len(WORDS), n_titles))]
    titles = [f"title{k} " + t for k, t in enumerate(titles)]
    files, chunk = [], 1_000_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        words = np.array(WORDS)[rng.integers(0, len(WORDS), (m, 8))]
        caps = [" ".join(w) for w in words]
        for i in np.nonzero(rng.random(m) < 0.02)[0]:
            caps[i] = caps[i][:20] + " " + titles[int(rng.integers(0, n_titles))].upper() + ", " + caps[i][20:]
        f = d / f"part-{start // chunk:03d}.parquet"
        pq.write_table(pa.table({"caption": caps}), f)
        files.append(f)
    return files, titles


def python_count(files: list[Path], titles: list[str], limit: int) -> tuple[dict, int]:
    def norm(s: str) -> str:
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()
        return " " + re.sub(r"[\W_]+", " ", s).strip() + " "

    pats = {t: norm(t) for t in titles}
    counts, seen = dict.fromkeys(titles, 0), 0
    for f in files:
        for cap in pq.read_table(f).column("caption").to_pylist():
            if seen >= limit:
                return counts, seen
            seen += 1
            c = norm(cap or "")
            for t, p in pats.items():
                if p in c:
                    counts[t] += 1
    return counts, seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--captions", type=int, default=10_000_000)
    ap.add_argument("--titles", type=int, default=800)
    ap.add_argument("--python-sample", type=int, default=100_000,
                    help="captions timed for the Python loop (its cost per caption is constant)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files, titles = build(d, args.captions, args.titles)
        refs = [{"slug": f"t{i}", "title": t, "kind": "static"} for i, t in enumerate(titles)]
        con = db.connect(d / "b.duckdb")
        db.refs.upsert(con, refs, {}, {})
        t0 = time.perf_counter()
        col = covariates.caption_frequency(con, files, "caption", "freq", "synthetic")
        duck_s = time.perf_counter() - t0
        duck = {titles[int(s[1:])]: v for s, v in db.refs.column_values(con, col).items()}
        t0 = time.perf_counter()
        py_counts, seen = python_count(files, titles, args.python_sample)
        py_s = time.perf_counter() - t0
        # correctness on the sample: counting the same first captions with DuckDB must agree
        sample_con = db.connect(d / "s.duckdb")
        db.refs.upsert(sample_con, refs, {}, {})
        sf = d / "sample.parquet"
        pq.write_table(pq.read_table(files[0]).slice(0, seen), sf)
        covariates.caption_frequency(sample_con, [sf], "caption", "freq", "sample")
        got = {titles[int(s[1:])]: v for s, v in db.refs.column_values(sample_con, "freq").items()}
        agree = got == {k: float(v) for k, v in py_counts.items()}
        duck_rate, py_rate = args.captions / duck_s, seen / py_s
        print(f"captions={args.captions:,} titles={len(titles)} matches={int(sum(duck.values())):,}")
        print(f"duckdb : {duck_rate:,.0f} captions/s ({duck_s:.1f} s)")
        print(f"python : {py_rate:,.0f} captions/s (loop over {seen:,} captions, {py_s:.1f} s)")
        print(f"ratio  : {duck_rate / py_rate:.1f}x   counts agree on the sample: {agree}")


if __name__ == "__main__":
    main()
