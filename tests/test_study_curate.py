"""`iconicity references curate` with the real loaders (tiny CLIP) and real files."""
from __future__ import annotations

import csv

from helpers import save, texture
from typer.testing import CliRunner

from iconicity_core.cli import app

runner = CliRunner()


def test_curate_dedups_filters_and_records_why(tmp_path, tiny_models):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "references.csv").write_text("slug,title,kind\nfilm,A Film,dynamic\npainting,A Painting,static\n")
    c = ds / "candidates" / "film"
    a = texture(1)
    save(a, c / "a.png")
    save(a, c / "b_same.png")                           # identical: pHash duplicate
    save(a.rotate(2), c / "c_close.png")                # near-duplicate
    save(texture(2), c / "d.png")
    save(texture(3), c / "e.png")
    (c / "f_broken.jpg").write_bytes(b"not an image")
    save(texture(4), ds / "candidates" / "painting" / "x.png")
    r = runner.invoke(app, ["references", "curate", str(ds), "--clip-model", "ViT-S-32",
                            "--clip-pretrained", str(tiny_models["clip"]), "--device", "cpu", "--min-sim", "0.99"])
    assert r.exit_code == 0, r.output
    with open(ds / "curate_log.csv") as f:
        log = {(row["slug"], row["file"]): row for row in csv.DictReader(f)}
    assert log[("film", "b_same.png")]["status"] == "duplicate"
    assert "a.png" in log[("film", "b_same.png")]["detail"]
    assert log[("film", "c_close.png")]["status"] == "duplicate"
    assert log[("film", "f_broken.jpg")]["status"] == "unreadable"
    assert log[("painting", "painting")]["status"] == "skipped"          # static works are not curated
    statuses = {k[1]: v["status"] for k, v in log.items() if k[0] == "film"}
    kept = sorted(k for k, s in statuses.items() if s == "kept")
    off = sorted(k for k, s in statuses.items() if s == "off-consensus")
    assert len(kept) >= 1
    assert set(kept) | set(off) == {"a.png", "d.png", "e.png"}
    assert sorted(p.name for p in (ds / "references" / "film").iterdir()) == kept
    assert sum(1 for v in log.values() if v["detail"] == "medoid") == 1
    for name in off:                                    # dropped ones say why, with the similarity
        assert float(log[("film", name)]["clip_sim_to_medoid"]) <= 0.99
