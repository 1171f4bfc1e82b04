"""Regenerate the golden files of the demo — `iconicity metrics --by model` and `iconicity evaluate`'s ROC-AUCs — and
the tables the docs show from them.

The demo is deterministic (the simulator is seeded; the appearance baseline needs no weights), so both commands always
print the same numbers on it; tests/test_docs.py holds the demo to these files. Run this — and say so in
CHANGELOG.md ("can move metrics") — only when a change is *meant* to move those numbers: the simulator, the baseline
embedder, a plain measure, the kernel or a default threshold. A test that fails for any other reason has found a bug;
do not regenerate it away.

    python tests/golden/regenerate.py                 # builds the full demo in a temporary folder (~1 minute)
    python tests/golden/regenerate.py --db data/demo.duckdb
    python tests/golden/regenerate.py --docs-only     # rewrite the docs' tables from the golden files as they are
"""
from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "demo_metrics_by_model.csv"
GOLDEN_EVALUATE = HERE / "demo_evaluate_auc.csv"
DOC = ROOT / "docs" / "getting-started.md"
DOC_EVALUATE = ROOT / "docs" / "analysis.md"


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "iconicity_core.cli", *args], capture_output=True, text=True,
                          check=True).stdout


def metrics_csv(db: Path) -> str:
    """`iconicity metrics --by model --format csv` on ``db``, as the CLI prints it."""
    return _cli("metrics", "--db", str(db), "--by", "model", "--format", "csv")


def evaluate_csv(db: Path) -> str:
    """`iconicity evaluate` on a copy of ``db`` (it records a run): each separation and measure's ROC-AUC and counts —
    the columns that do not depend on bootstrap resampling."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "demo.duckdb"
        shutil.copy(db, copy)
        out = Path(tmp) / "evaluation.csv"
        _cli("evaluate", "--db", str(copy), "--out", str(out), "--n-resamples", "10", "--quiet")
        df = pd.read_csv(out)[["separation", "measure", "roc_auc", "n_pos", "n_neg"]]
    return df.to_csv(index=False, float_format="%.6f")


def docs_table(golden_csv: str) -> str:
    """The demo's table: the title prompt, static and dynamic references."""
    df = pd.read_csv(io.StringIO(golden_csv))
    df = df[(df["kind"] == "all") & (df["variant"] == "title")]
    rows = [f"| {r.model} | {r.cra:.3f} | {r.vr:.3f} | {r.crt:.3f} |" for r in df.itertuples()]
    return "\n".join(["| model | CRA | VR | CRT |", "|---|---:|---:|---:|", *rows]) + "\n"


def evaluate_table(golden_csv: str) -> str:
    """Evaluate's ROC-AUCs, a measure a row and a separation a column."""
    df = pd.read_csv(io.StringIO(golden_csv))
    wide = df.pivot(index="measure", columns="separation", values="roc_auc")
    order = list(dict.fromkeys(df["measure"]))
    cols = list(dict.fromkeys(df["separation"]))
    counts = {s: df[df["separation"] == s].iloc[0] for s in cols}
    head = " | ".join(f"{s} ({int(counts[s].n_pos):,} vs {int(counts[s].n_neg):,})" for s in cols)
    from iconicity_core.display import column_label

    rows = [f"| {column_label(m)} | " + " | ".join(f"{wide.loc[m, s]:.3f}" for s in cols) + " |" for m in order]
    return "\n".join([f"| measure | {head} |", "|---|" + "---:|" * len(cols), *rows]) + "\n"


#: Each golden file, the docs page that shows it and how: the marker's name, the file, the page, the renderer.
TABLES: dict[str, tuple[Path, Path, Callable[[str], str]]] = {
    "demo": (GOLDEN, DOC, docs_table),
    "evaluate": (GOLDEN_EVALUATE, DOC_EVALUATE, evaluate_table),
}


def docs_with_table(doc: str, golden_csv: str, name: str = "demo") -> str:
    """``doc`` with the block ``<!-- golden:NAME -->`` … ``<!-- /golden -->`` written from ``golden_csv``."""
    render = TABLES[name][2]
    block = re.compile(rf"<!-- golden:{name} -->.*?<!-- /golden -->", re.S)
    return block.sub(lambda m: f"<!-- golden:{name} -->\n{render(golden_csv)}<!-- /golden -->", doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="a demo database built by this version (default: build one)")
    ap.add_argument("--docs-only", action="store_true")
    args = ap.parse_args()
    if not args.docs_only:
        with tempfile.TemporaryDirectory() as tmp:
            db = args.db
            if db is None:
                from iconicity_core.demo.build import build_demo

                db = Path(tmp) / "demo.duckdb"
                build_demo(db, embedders="baseline", quiet=True)
            GOLDEN.write_text(metrics_csv(db))
            GOLDEN_EVALUATE.write_text(evaluate_csv(db))
    for name, (golden, doc, _) in TABLES.items():
        doc.write_text(docs_with_table(doc.read_text(encoding="utf-8"), golden.read_text(), name), encoding="utf-8")


if __name__ == "__main__":
    main()
