"""Regenerate the golden file of the demo's per-model metrics, and the table docs/getting-started.md shows from it.

The demo is deterministic (the simulator is seeded; the appearance baseline needs no weights), so
`iconicity metrics --by model` on it is always the same table; tests/test_docs.py holds the demo to this file. Run
this — and say so in CHANGELOG.md ("can move metrics") — only when a change is *meant* to move those numbers: the
simulator, the baseline embedder, the kernel or a default threshold. A test that fails for any other reason has
found a bug; do not regenerate it away.

    python tests/golden/regenerate.py                 # builds the full demo in a temporary folder (~1 minute)
    python tests/golden/regenerate.py --db data/demo.duckdb
    python tests/golden/regenerate.py --docs-only     # rewrite the docs table from the golden file as it is
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "demo_metrics_by_model.csv"
DOC = ROOT / "docs" / "getting-started.md"
BLOCK = re.compile(r"(<!-- golden:demo -->\n)(.*?)(<!-- /golden -->)", re.S)


def metrics_csv(db: Path) -> str:
    """`iconicity metrics --by model --format csv` on ``db``, as the CLI prints it."""
    r = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics", "--db", str(db), "--by", "model",
                        "--format", "csv"], capture_output=True, text=True, check=True)
    return r.stdout


def docs_table(golden_csv: str) -> str:
    """The docs' table: the title prompt, static and dynamic references."""
    df = pd.read_csv(io.StringIO(golden_csv))
    df = df[(df["kind"] == "all") & (df["variant"] == "title")]
    rows = [f"| {r.model} | {r.cra:.3f} | {r.vr:.3f} | {r.crt:.3f} |" for r in df.itertuples()]
    return "\n".join(["| model | CRA | VR | CRT |", "|---|---:|---:|---:|", *rows]) + "\n"


def docs_with_table(doc: str, golden_csv: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + docs_table(golden_csv) + m.group(3), doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="a demo database built by this version (default: build one)")
    ap.add_argument("--docs-only", action="store_true")
    args = ap.parse_args()
    if not args.docs_only:
        if args.db:
            GOLDEN.write_text(metrics_csv(args.db))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "demo.duckdb"
                from iconicity_core.demo.build import build_demo

                build_demo(db, embedders="baseline", quiet=True)
                GOLDEN.write_text(metrics_csv(db))
    DOC.write_text(docs_with_table(DOC.read_text(encoding="utf-8"), GOLDEN.read_text()), encoding="utf-8")


if __name__ == "__main__":
    main()
