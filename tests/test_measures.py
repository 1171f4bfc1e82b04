"""Plain similarity measures: known answers on constructed pairs, and `iconicity evaluate` end to end."""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from helpers import texture
from PIL import Image, ImageEnhance, ImageOps
from typer.testing import CliRunner

from iconicity_core.analysis.plain_measures import PAIR_MEASURES, phash_similarity, ssim, tiled_l2_similarity
from iconicity_core.analysis.roc import auc_ci, threshold_at_precision
from iconicity_core.cli import app

runner = CliRunner()


def test_identical_pairs_get_the_best_score():
    a = texture(1, 256)
    assert phash_similarity(a, a) == 1.0
    assert ssim(a, a) == pytest.approx(1.0)
    assert tiled_l2_similarity(a, a) == 0.0
    assert PAIR_MEASURES["appearance"](a, a) == pytest.approx(1.0, abs=1e-6)


def test_perturbations_are_ordered():
    a = texture(1, 256)
    slight = ImageEnhance.Brightness(a).enhance(1.05)
    shifted = Image.fromarray(np.roll(np.asarray(a), 64, axis=1))
    recoloured = ImageOps.invert(a)
    other = texture(2, 256)
    for fn in (ssim, tiled_l2_similarity):
        assert fn(a, slight) > fn(a, shifted), fn.__name__
        assert fn(a, slight) > fn(a, recoloured), fn.__name__
    assert tiled_l2_similarity(a, slight) > tiled_l2_similarity(a, other)
    assert phash_similarity(a, slight) > phash_similarity(a, other)


def test_auc_and_precision_threshold():
    y = np.array([1, 1, 1, 0, 0, 0], bool)
    s = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.75])
    auc, lo, hi = auc_ci(y, s, 200)
    assert auc == pytest.approx(8 / 9)
    assert lo <= auc <= hi
    thr, rec = threshold_at_precision(y, s, 1.0)
    assert thr == 0.8
    assert rec == pytest.approx(2 / 3)


@pytest.mark.parametrize(("n", "decimals"), [(7, 1), (60, 1), (400, None)])
def test_bootstrap_auc_equals_scoring_every_resample_with_sklearn(n, decimals):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(n)
    y = rng.random(n) < 0.35
    s = rng.random(n) + 0.3 * y
    s = np.round(s, decimals) if decimals else s                       # ties between and within classes
    draws = np.random.default_rng(0)
    boots = []
    for _ in range(99):
        i = draws.integers(0, n, n)
        if y[i].any() and (~y[i]).any():
            boots.append(roc_auc_score(y[i], s[i]))
    want = (roc_auc_score(y, s), *np.percentile(boots, [2.5, 97.5]))
    assert auc_ci(y, s, 99, seed=0) == pytest.approx(want, abs=1e-12)


def test_evaluate_cli_with_user_labels_and_sscd(tmp_path, small_dataset, tiny_models):
    import torch

    class Tiny(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)

    sscd = tmp_path / "sscd.torchscript.pt"
    torch.jit.script(Tiny()).save(str(sscd))
    db = tmp_path / "e.duckdb"
    r = runner.invoke(app, ["score", str(small_dataset), "--db", str(db), "--clip-model", "baseline",
                            "--dino-model", "baseline", "--quiet"])
    assert r.exit_code == 0, r.output
    labels = tmp_path / "labels.csv"
    rows = [("generations/model_a/mona/copy.png", "replica"), ("generations/model_b/mona/copy.png", "replica"),
            ("generations/model_a/film/copy_of_b.png", "replica"),
            ("generations/model_a/mona/shuffled.png", "reinterpretation"),
            ("generations/model_b/mona/shuffled.png", "reinterpretation"),
            ("generations/model_a/mona/other.png", "miss"), ("generations/model_b/film/other.png", "miss")]
    with open(labels, "w", newline="") as f:
        csv.writer(f).writerows([("image", "label"), *rows])
    out = tmp_path / "eval.csv"
    r = runner.invoke(app, ["evaluate", "--db", str(db), "--labels", str(labels), "--sscd", str(sscd),
                            "--dino-model", str(tiny_models["dino"]),
                            "--out", str(out), "--n-resamples", "50", "--quiet"])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}, {out.with_suffix('.meta.json')}" in r.stderr        # every file it writes, named
    t = pd.read_csv(out).set_index(["separation", "measure"])
    assert {"clip_sim", "vr", "phash", "ssim", "tiled_l2", "appearance", "dino_global", "sscd"} <= set(
        t.index.get_level_values(1))
    # copies vs tile-shuffled copies: position-free VR cannot tell them apart, position-bound SSIM can
    assert t.loc[("replica vs reinterpretation", "vr"), "roc_auc"] == 0.5
    assert t.loc[("replica vs reinterpretation", "ssim"), "roc_auc"] == 1.0
    assert t.loc[("replica vs reinterpretation", "sscd"), "n_pos"] == 3


def test_evaluate_skips_missing_and_broken_files_instead_of_scoring_placeholders(tmp_path, small_demo_db):
    """A deleted or damaged labelled image is skipped and reported per item; the AUCs are those of the
    images that remain (a grey placeholder is never scored)."""
    import json
    import shutil

    import duckdb

    from iconicity_core import db as database

    db = tmp_path / "d.duckdb"
    shutil.copy(small_demo_db, db)
    root = tmp_path / "dataset"                    # a private copy of the images: this test deletes some
    shutil.copytree(small_demo_db.with_name("demo_dataset"), root)
    con = duckdb.connect(str(db))
    con.execute("UPDATE roots SET path = ?", [str(root.resolve())])
    con.close()
    con = database.connect(db, read_only=True)
    img = database.metrics_sql.metrics_table(con, "image")
    con.close()
    replicas = img[img.label == "replica"].image.tolist()
    gone, broken = replicas[: len(replicas) // 2], replicas[len(replicas) // 2]
    for rel in gone:
        (root / rel).unlink()
    (root / broken).write_bytes(b"not a jpeg any more")
    out = tmp_path / "eval.csv"
    r = runner.invoke(app, ["evaluate", "--db", str(db), "--out", str(out), "--n-resamples", "20", "--quiet",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["n_skipped"] == len(gone) + 1
    assert summary["n_scored"] == len(img) - len(gone) - 1
    assert all(rel in r.output for rel in gone[:3])
    assert f"{broken}: not a readable image" in r.output
    con = database.connect(db, read_only=True)
    stored = database.measure_scores.read(con, summary["evaluate_run"])
    kept = img[~img.image.isin([*gone, broken])]
    assert set(stored.file_id) == set(kept.file_id)                     # nothing stored for the skipped files

    scores = kept.merge(stored, on="file_id")
    sep = scores[scores.label.isin(["replica", "reinterpretation"])]
    want = auc_ci(sep.label == "replica", sep.phash, 20)[0]
    got = next(row for row in summary["rows"] if row["measure"] == "phash"
               and row["separation"] == "replica vs reinterpretation")
    assert got["roc_auc"] == pytest.approx(want)
    assert got["n_pos"] == len(replicas) - len(gone) - 1
