from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from helpers import SMALL_DEMO, build_small_dataset

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # nothing may be downloaded in tests
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Random-init open_clip ViT-S-32 (safetensors) and a small DINOv3 ViT (save_pretrained dir)."""
    from iconicity_core.testing import save_random_dinov3, save_random_open_clip

    d = tmp_path_factory.mktemp("models")
    return {"clip": save_random_open_clip(d / "vit-s-32.safetensors"), "dino": save_random_dinov3(d / "dinov3-tiny")}


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    return build_small_dataset(tmp_path / "dataset")


def _demo_builder(tmp_path_factory, per_cell: int = 20):
    import subprocess

    def build(db: Path) -> Path:
        env = {**os.environ, "HF_HOME": str(tmp_path_factory.mktemp("empty_hf_home")), "HF_HUB_OFFLINE": "1"}
        subprocess.run([sys.executable, "-m", "iconicity_core.cli", "demo", "--db", str(db), "--quiet",
                        "--per-cell", str(per_cell)], check=True, env=env, capture_output=True)
        return db
    return build


@pytest.fixture(scope="session")
def build_demo_subprocess(tmp_path_factory):
    """Build a small demo as a user would (`iconicity demo`), with an empty Hub cache and no network."""
    return _demo_builder(tmp_path_factory, per_cell=SMALL_DEMO)




@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The full demo database (1,600 generations), built once per test session."""
    from iconicity_core.demo.build import build_demo

    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(db, embedders="baseline", quiet=True)
    return db


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory) -> Path:
    """The demo with 4 generations per model, reference and variant (320), for tests that need its shape
    and labels but not its statistics."""
    from iconicity_core.demo.build import build_demo

    db = tmp_path_factory.mktemp("small_demo") / "demo.duckdb"
    build_demo(db, embedders="baseline", per_cell=SMALL_DEMO, quiet=True)
    return db


@pytest.fixture
def app_db(small_demo_db, tmp_path, monkeypatch) -> Path:
    """A private copy of the small demo that the dashboard opens (``$ICONICITY_DB``)."""
    db = tmp_path / "demo_copy.duckdb"
    shutil.copy(small_demo_db, db)
    monkeypatch.setenv("ICONICITY_DB", str(db))
    return db


@pytest.fixture(scope="session")
def ge_synthetic_db(tmp_path_factory) -> Path:
    """A small database of the paper's shape (5 models, static and dynamic references, three prompt
    variants), read under the authors' ``>=`` rule."""
    import json

    import duckdb

    from iconicity_core.testing import build_synthetic_db

    db = tmp_path_factory.mktemp("share_syn") / "syn.duckdb"
    info = build_synthetic_db(db, scale=0.1, seed=4)
    with duckdb.connect(str(db)) as con:
        cfg = json.loads(con.execute("SELECT config FROM runs WHERE run_id = ?", [info["run_id"]]).fetchone()[0]
                         or "{}")
        cfg |= {"threshold_rule": "ge", "operating_point": {"clip_tau": 0.6, "clip_tau_dynamic": 0.65,
                                                            "patch_tau": 0.5}}
        con.execute("UPDATE runs SET config = ? WHERE run_id = ?", [json.dumps(cfg), info["run_id"]])
    return db


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, through Playwright), one per test module."""
    from helpers import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                             "--disable-background-networking", "--no-first-run"])
        yield b
        b.close()
