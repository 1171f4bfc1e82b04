"""`iconicity generate` with a tiny random-init diffusers pipeline saved to a temp dir."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from iconicity_core.cli import app
from iconicity_core.io.dataset import scan_dataset

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from iconicity_core.testing import save_tiny_stable_diffusion

    return save_tiny_stable_diffusion(tmp_path_factory.mktemp("pipe") / "tiny-sd")


def _pixels(p):
    return np.asarray(Image.open(p), dtype=np.int16)


def test_generate_writes_images_with_seeds_and_resumes(tmp_path, tiny_pipeline):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "references.csv").write_text("slug,title,kind\nstarry,The Starry Night,static\nup,Up,dynamic\n")
    (ds / "prompts.csv").write_text("slug,variant,prompt,detail\nstarry,synonym,The Starry nighttime,x\n"
                                    "up,synonym,Up,no synonym\n")
    args = ["generate", str(ds), "--model", str(tiny_pipeline), "--n", "3", "--size", "32", "--steps", "2",
            "--batch-size", "2", "--device", "cpu", "--seed", "100"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "6 image(s) generated" in r.output
    files = sorted((ds / "generations").rglob("*.png"))
    assert [f.relative_to(ds).as_posix() for f in files][:3] == [
        "generations/tiny-sd/starry/title/000100.png", "generations/tiny-sd/starry/title/000101.png",
        "generations/tiny-sd/starry/title/000102.png"]
    first = {f.name + f.parent.parent.name: _pixels(f) for f in files}
    r = runner.invoke(app, [*args, "--variant", "synonym"])
    assert r.exit_code == 0
    assert "6 image(s) generated" in r.output
    (ds / "generations/tiny-sd/up/title/000101.png").unlink()       # as if the first run had been killed
    r = runner.invoke(app, args)
    assert r.exit_code == 0
    assert "1 image(s) generated" in r.output
    again = {f.name + f.parent.parent.name: _pixels(f) for f in sorted((ds / "generations").rglob("title/*.png"))}
    assert again.keys() == first.keys()
    for k in first:      # same seed, same image (a different batch may change the last bit of some pixels)
        assert np.abs(again[k] - first[k]).max() <= 2, k
    assert np.abs(first["000100.pngup"] - first["000101.pngup"]).mean() > 5      # other seed, other image
    r = runner.invoke(app, args)
    assert "nothing to generate" in r.output
    with open(ds / "generations.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    assert {r["variant"] for r in rows} == {"title", "synonym"}
    syn = [r for r in rows if r["variant"] == "synonym" and r["slug"] == "starry"]
    assert syn[0]["prompt"] == "The Starry nighttime"
    assert sorted(r["seed"] for r in syn) == ["100", "101", "102"]
    gens = [e for e in scan_dataset(ds).files if e.role == "generation"]
    assert len(gens) == 12
    assert {e.variant for e in gens} == {"title", "synonym"}


def test_generate_unknown_model_says_what_to_do(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "references.csv").write_text("slug,title,kind\nx,X,static\n")
    r = runner.invoke(app, ["generate", str(ds), "--model", "no-such-org/no-such-model", "--n", "1", "--device", "cpu"])
    assert r.exit_code == 2
    assert "save_pretrained" in r.output
