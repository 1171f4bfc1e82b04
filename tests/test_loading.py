"""Model loading: the real loaders, clear errors, no silent fallback, provenance recorded."""
import json

import duckdb
import pytest
from helpers import model_args
from typer.testing import CliRunner

from iconicity_core.cli import app
from iconicity_core.embedders import ModelLoadError, load_cells, load_global

runner = CliRunner()


def test_missing_clip_weights_say_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError, match="--clip-pretrained") as e:
        load_global("ViT-S-32", str(tmp_path / "missing.safetensors"))
    assert "no such checkpoint" in str(e.value)
    with pytest.raises(ModelLoadError, match="offline"):
        load_global("ViT-B-32", "openai")     # HF_HUB_OFFLINE=1 and no cache: must not fall back


def test_missing_dino_weights_mention_gating_and_local_dir():
    with pytest.raises(ModelLoadError) as e:
        load_cells("facebook/dinov3-vits16-pretrain-lvd1689m")
    msg = str(e.value)
    assert "gated" in msg
    assert "HF_TOKEN" in msg
    assert "--dino-model /path/to/dir" in msg


def test_cli_reports_model_error_and_writes_no_scores(tmp_path, small_dataset):
    db = tmp_path / "x.duckdb"
    r = runner.invoke(app, ["score", str(small_dataset), "--db", str(db), "--clip-model", "baseline",
                            "--dino-model", "facebook/dinov3-vits16-pretrain-lvd1689m", "--quiet"])
    assert r.exit_code == 2
    assert "gated" in r.output
    assert not db.exists()


def test_models_used_are_recorded_with_the_run(tmp_path, tiny_models, small_dataset):
    db = tmp_path / "p.duckdb"
    r = runner.invoke(app, ["score", str(small_dataset), "--db", str(db), *model_args(tiny_models, "token")])
    assert r.exit_code == 0, r.output
    con = duckdb.connect(str(db), read_only=True)
    clip_key, dino_key, clip_info, mode, grid, versions = con.execute(
        "SELECT clip_key, dino_key, clip_info, patch_mode, grid, versions FROM runs").fetchone()
    assert clip_key.startswith("open_clip:ViT-S-32:sha256:")
    assert dino_key.startswith("dinov3:dinov3-tiny:sha256:")
    assert dino_key.endswith(":token:4x4:224:u8")
    assert mode == "token"
    assert grid == "4x4"
    assert json.loads(clip_info)["extra"]["pretrained_arg"] == "vit-s-32.safetensors"
    assert {"torch", "open_clip_torch", "transformers", "duckdb"} <= set(json.loads(versions))
