"""The notebook API (`iconicity_core.open`) returns what the CLI prints, defaulting like the CLI to the
run's operating point and rule; the heatmap outlines exactly the cells VR counts; the example runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import BASELINE, cli
from PIL import Image

import iconicity_core
from iconicity_core.core import metrics as kernel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The small dataset scored with the paper's rule and with the authors' preset (baseline embedders)."""
    from helpers import build_small_dataset

    d = tmp_path_factory.mktemp("api")
    root = build_small_dataset(d / "ds")
    paper, authors = d / "paper.duckdb", d / "authors.duckdb"
    cli("score", root, "--db", paper, *BASELINE, "--keep-embeddings", "all")
    cli("score", root, "--db", authors, *BASELINE, "--preset", "authors", "--cell-preprocess", "squash")
    return {"paper": paper, "authors": authors}


def _cli_json(database, by, *args) -> pd.DataFrame:
    return pd.DataFrame(json.loads(cli("metrics", "--db", database, "--by", by, "--format", "json", *args))["rows"])


def _same(api: pd.DataFrame, cli_rows: pd.DataFrame):
    got = pd.DataFrame(json.loads(api.to_json(orient="records", double_precision=15)))
    assert list(got.columns) == list(cli_rows.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), cli_rows.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["paper", "authors"])
@pytest.mark.parametrize("by", ["model", "reference", "image"])
def test_api_equals_cli_at_the_runs_defaults_and_at_given_thresholds(runs, kind, by):
    res = iconicity_core.open(runs[kind])
    _same(res.metrics(by=by), _cli_json(runs[kind], by))
    args = {"clip_tau": 0.4, "clip_tau_dynamic": 0.55, "patch_tau": 0.5, "pooling": "all", "match": "same-position"}
    _same(res.metrics(by=by, **args),
          _cli_json(runs[kind], by, "--clip-tau", "0.4", "--clip-tau-dynamic", "0.55", "--patch-tau", "0.5",
                    "--pooling", "all", "--match", "same-position"))


def test_api_reads_an_authors_run_with_its_rule(runs):
    res = iconicity_core.open(runs["authors"])
    t = res.thresholds()
    assert t.rule == "authors"
    assert t.dynamic_tau == 0.75
    img = res.images()
    copy = img[img["image"] == "generations/model_a/mona/copy.png"].iloc[0]
    at = res.metrics(by="image", clip_tau=float(copy["clip_sim"]))
    assert bool(at.set_index("image").loc[copy["image"], "recognised"])           # >= passes at equality
    assert not bool(res.metrics(by="image", clip_tau=float(copy["clip_sim"]), rule="gt")
                    .set_index("image").loc[copy["image"], "recognised"])


def test_api_helpers(runs):
    res = iconicity_core.open(runs["paper"])
    assert "run" in repr(res)
    assert len(res.runs()) >= 1
    assert set(res.references()["slug"]) == {"mona", "film"}
    imgs = res.images(models="model_a")
    assert set(imgs["model"]) == {"model_a"}
    assert imgs["path"].map(lambda p: p is not None and p.is_file()).all()
    with pytest.raises(TypeError, match="unknown filter"):
        res.metrics(modle="x")
    with pytest.raises(LookupError, match="not a generated image"):
        res.cells("nope.png")
    sw = res.sweep(taus=[0.0, 0.5, 1.0], grid=[0.5])
    assert set(sw) == {"cra", "vr", "grid"}
    assert len(sw["grid"]) == 2
    assert res.labels().columns.tolist() == ["image", "label", "file_id", "who", "when"]


@pytest.mark.parametrize("rule", ["gt", "ge"])
def test_a_cell_exactly_at_tau_is_outlined_iff_vr_counts_it(runs, rule):
    """The heatmap's outlines come from the kernel: at τ equal to a cell's stored similarity, the cell is
    outlined under `ge` and not under `gt`, and the outlined count is VR × K."""
    res = iconicity_core.open(runs["paper"])
    image = "generations/model_a/mona/other.png"
    cells = res.cells(image)
    tau = float(np.float32(cells["sim"].iloc[3]))                 # exactly the stored float32 value
    cells = res.cells(image, patch_tau=tau, rule=rule)
    at = cells["sim"].to_numpy(np.float32) == np.float32(tau)
    assert bool(cells["reused"][at].all()) is (rule == "ge")
    vr = res.metrics(by="image", patch_tau=tau, rule=rule).set_index("image").loc[image, "vr"]
    assert cells["reused"].sum() == round(vr * len(cells))
    overlay = np.asarray(res.patch_overlay(image, patch_tau=tau, rule=rule).convert("RGB")).astype(int)
    from iconicity_core.core.grid import cell_boxes

    h, w = overlay.shape[:2]
    red = [(overlay[t + 1, l + 20] == [255, 40, 40]).all() for l, t, r, b in cell_boxes(w, h, 4, 4)]
    assert red == cells["reused"].tolist()


def test_the_notebook_example_runs(runs, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_walkthrough.py"), str(runs["paper"])],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "CRA" in out.stdout
    assert (tmp_path / "walkthrough_overlay.png").is_file()
    Image.open(tmp_path / "walkthrough_overlay.png").verify()
    assert "quadrant" in out.stdout
    assert any(q in out.stdout for q in kernel.QUADRANTS)


def test_the_readme_python_block_runs_verbatim(small_demo_db, tmp_path):
    """The README's Python example, as written, after the README's first command (which builds data/demo.duckdb)."""
    import re
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block
    assert 'iconicity_core.open("data/demo.duckdb")' in block.group(1)
    (tmp_path / "data").mkdir()
    shutil.copy(small_demo_db, tmp_path / "data" / "demo.duckdb")      # the demo's shape, models and references
    out = subprocess.run([sys.executable, "-c", block.group(1)], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "heatmap.png").is_file()
