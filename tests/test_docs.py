"""The documents tell what the tool does: the README is a front door of at most 200 lines whose test command is the
one CI runs, and every number in the docs comes from something a test checks — the benchmark tables from the
recorded runs, the demo's table from the golden file the demo is held to, the operating points from the registry."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_readme_is_a_front_door_and_its_test_command_is_cis():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    commands = re.findall(r"```bash\n(python3 -m venv .*?)\n```", readme)
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, "CI runs the README's test command verbatim"
    for doc in re.findall(r"\]\((docs/[\w.-]+\.md)", readme):
        assert (ROOT / doc).is_file(), doc


def test_benchmark_tables_are_the_recorded_runs():
    report = _module(ROOT / "bench" / "report.py")
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert doc.count("<!-- bench:") == len(report.TABLES)
    assert report.rendered(doc) == doc, "run `python bench/report.py` after recording a bench run"


def test_an_empty_benchmark_block_is_filled_and_the_text_between_blocks_kept():
    report = _module(ROOT / "bench" / "report.py")
    doc = ("<!-- bench:caption_counts -->\n<!-- /bench -->\nprose between\n"
           "<!-- bench:caption_counts -->\nstale\n<!-- /bench -->\n")
    out = report.rendered(doc)
    assert "prose between" in out
    assert "stale" not in out
    assert out.count("captions/s") == 4
    assert report.rendered(out) == out


@pytest.mark.parametrize("name", ["demo", "evaluate"])
def test_the_demo_tables_in_the_docs_are_the_golden_files(name):
    golden = _module(ROOT / "tests" / "golden" / "regenerate.py")
    path, page, _ = golden.TABLES[name]
    doc = page.read_text(encoding="utf-8")
    assert f"<!-- golden:{name} -->" in doc
    assert golden.docs_with_table(doc, path.read_text(), name) == doc, "run `python tests/golden/regenerate.py --docs-only`"


def test_the_operating_points_the_docs_state_are_the_registrys():
    from iconicity_core.embedders import spec_for

    doc = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    rec, real = spec_for("recognition", "baseline").default_tau, spec_for("realization", "baseline").default_tau
    assert f"recognition τ {rec:.2f} and patch τ {real:.2f}" in doc


def test_iconicity_embedders_lists_each_operating_point():
    """The docs send readers to `iconicity embedders` for the operating points: it prints each one's."""
    from helpers import cli

    from iconicity_core.embedders import list_embedders

    rows = {tuple(line.split()[:3]) for line in cli("embedders").splitlines()[1:]}
    for e in list_embedders():
        assert (e.role, e.name, "–" if e.default_tau is None else f"{e.default_tau:.2f}") in rows


def test_the_defaults_the_readme_states_are_the_configs():
    from iconicity_core import config

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"passes τ ({config.CLIP_TAU:.2f};" in readme
    assert f"passes τ_patch ({config.PATCH_TAU:.2f})" in readme
    assert f", {config.GRID} grid; resumable" in readme


@pytest.mark.slow
def test_the_demo_is_its_golden_file(demo_db):
    """The full demo's `iconicity metrics --by model`, exactly (tests/golden/regenerate.py says when to change it)."""
    out = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics", "--db", str(demo_db), "--by", "model",
                          "--format", "csv"], capture_output=True, text=True, check=True).stdout
    assert out == (ROOT / "tests" / "golden" / "demo_metrics_by_model.csv").read_text()


@pytest.mark.slow
def test_the_demos_evaluate_is_its_golden_file(demo_db):
    """`iconicity evaluate`'s ROC-AUCs on the full demo, exactly (the docs' table of plain measures shows them)."""
    golden = _module(ROOT / "tests" / "golden" / "regenerate.py")
    assert golden.evaluate_csv(demo_db) == golden.GOLDEN_EVALUATE.read_text()
