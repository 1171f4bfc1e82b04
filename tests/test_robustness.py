"""The paper's robustness checks: position independence, the sensitivity grid, reference consistency and
perturbation statistics — with known answers on constructed data."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import BASELINE, build_small_dataset, cli, save, texture
from PIL import Image
from scipy.stats import wilcoxon

from iconicity_core.analysis import consistency, robustness
from iconicity_core.analysis.engine import Arrays, Engine
from iconicity_core.config import Thresholds


def _engine(rows: list[dict], kinds: dict[str, str]) -> Engine:
    """An engine over constructed images: each row has model, slug, variant, clip, cells (16 values)."""
    n = len(rows)

    def sixteen(v):
        return np.full(16, v, np.float32) if np.isscalar(v) else np.asarray(v, np.float32)
    return Engine(Arrays.from_columns({
        "file_id": np.array([f"f{i:05d}" for i in range(n)]), "model": np.array([r["model"] for r in rows], object),
        "slug": np.array([r["slug"] for r in rows], object), "variant": np.array([r.get("variant", "title") for r in rows], object),
        "label": np.array([None] * n, object), "sim": np.array([r["clip"] for r in rows], float),
        "cells": np.concatenate([sixteen(r["cells"]) for r in rows]),
        "same_pos": np.concatenate([sixteen(r.get("same", r["cells"])) for r in rows]),
        "kinds": kinds}))


def test_the_grid_reports_exactly_the_flip_a_constructed_database_has():
    """Model A is recognised at CLIP τ 0.6 (sims 0.7) and reuses nothing: CRT 1; at 0.8 it is not recognised:
    CRT 0. Model B (sims 0.85, half its cells reused) has CRT 0.5 at both. So A > B at 0.6, B > A at 0.8."""
    rows = [{"model": "A", "slug": s, "clip": 0.7, "cells": 0.1} for s in ("w1", "w2") for _ in range(4)]
    rows += [{"model": "B", "slug": s, "clip": 0.85, "cells": [0.9] * 8 + [0.1] * 8} for s in ("w1", "w2") for _ in range(4)]
    eng = _engine(rows, {"w1": "static", "w2": "static"})
    g = robustness.sensitivity_grid(eng, Thresholds(0.6, None, 0.5, "all"), clip_taus=(0.6, 0.8), patch_taus=(0.5,),
                                    n_resamples=50)
    pts = g["points"].set_index("clip_tau")
    assert pts.loc[0.6, "kendall_tau"] == pytest.approx(1.0)
    assert pts.loc[0.8, "kendall_tau"] == pytest.approx(-1.0)
    assert pts.loc[0.6, "ranking"] == "A > B"
    assert pts.loc[0.8, "ranking"] == "B > A"
    table = g["table"].set_index(["clip_tau", "model"])
    assert table.loc[(0.6, "A"), "crt"] == 1.0
    assert table.loc[(0.8, "A"), "crt"] == 0.0
    assert table.loc[(0.6, "B"), "crt"] == 0.5
    assert table.loc[(0.6, "B"), "crt_ci_low"] <= 0.5 <= table.loc[(0.6, "B"), "crt_ci_high"]
    c = g["conclusions"].set_index("statement")
    flip = c.loc["A transforms more (CRT) than B"]
    assert not flip["holds_everywhere"]
    assert flip["verdict"] == "flips"
    assert flip["flips_at"] == "recognition τ 0.8 / patch τ 0.5"
    assert flip["holds_at"] == "1 of 2"
    assert c.loc["B reuses more (VR) than A", "holds_everywhere"]          # B's VR is higher at every point
    assert c.loc["B reuses more (VR) than A", "verdict"] == "holds"
    assert pts.loc[0.8, "quadrant_changed"] == 0.5                           # A's two references leave "reinterpreted"


def test_position_independence_separates_a_collage_from_a_copy():
    rows = [{"model": "collage", "slug": "w", "clip": 0.9, "cells": 0.95, "same": 0.2} for _ in range(3)]
    rows += [{"model": "copy", "slug": "w", "clip": 0.9, "cells": 0.95, "same": 0.95} for _ in range(3)]
    out = robustness.position_independence(_engine(rows, {"w": "static"}), Thresholds(0.7, None, 0.6))
    pm = out["per_model"].set_index("model")
    assert pm.loc["collage", "vr_any"] == 1.0
    assert pm.loc["collage", "vr_same"] == 0.0
    assert pm.loc["copy", "ratio_same_to_any"] == 1.0
    assert out["movers"].iloc[0]["model"] == "collage"


def test_tile_shuffled_copies_reuse_everything_anywhere_and_little_in_place(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    database = tmp_path / "s.duckdb"
    cli("score", root, "--db", database, *BASELINE)
    read = lambda *a: pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--by", "image", "--patch-tau", "0.99",
                                                   *a))).set_index("image")
    anywhere, in_place = read(), read("--match", "same-position")
    shuffled, copy = "generations/model_a/mona/shuffled.png", "generations/model_a/mona/copy.png"
    assert anywhere.loc[shuffled, "vr"] == 1.0
    assert in_place.loc[shuffled, "vr"] < 0.5
    assert anywhere.loc[copy, "vr"] == 1.0 == in_place.loc[copy, "vr"]
    model = json.loads(cli("metrics", "--db", database, "--by", "model", "--match", "same-position", "--format", "json"))
    assert model["match"] == "same-position"
    assert {r["match"] for r in model["rows"]} == {"same-position"}


def test_paired_statistics_equal_scipys():
    rows = []
    rng = np.random.default_rng(1)
    for s in range(12):
        base = float(rng.uniform(0.55, 0.95))
        for v, shift in (("title", 0.0), ("synonym", -0.2)):
            for j in range(5):
                rows.append({"model": "m", "slug": f"w{s}", "variant": v, "clip": base + shift + 0.01 * j,
                             "cells": float(rng.uniform(0.2, 0.9))})
    eng = _engine(rows, {f"w{s}": "static" for s in range(12)})
    t = Thresholds(0.6, None, 0.5)
    got = robustness.perturbation(eng, t, n_resamples=200).set_index("variant").loc["synonym"]
    ref = eng.reference_table(t).pivot_table(index="slug", columns="variant", values=["cra", "vr", "crt"])
    for m in ("cra", "vr", "crt"):
        d = (ref[(m, "synonym")] - ref[(m, "title")]).dropna()
        assert got[f"d{m}"] == pytest.approx(d.mean())
        nz = d[d != 0]
        if len(nz) >= 2:
            assert got[f"d{m}_p_wilcoxon"] == pytest.approx(wilcoxon(d.to_numpy()).pvalue)
        assert got[f"d{m}_ci_low"] <= got[f"d{m}"] <= got[f"d{m}_ci_high"]
    still = (ref[("cra", "synonym")] > 0.5)[ref[("cra", "title")] > 0.5].mean()
    assert got["share_still_recognised"] == pytest.approx(still)


def test_a_dynamic_reference_with_one_unrelated_image_flags_it(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    film = root / "references" / "film"
    for p in film.iterdir():
        p.unlink()
    base = np.asarray(texture(2, 128), np.int16)
    rng = np.random.default_rng(4)
    for i in range(4):                                 # four shots of one subject: noisy, brighter and brighter
        im = base + rng.integers(-30, 31, base.shape) + 8 * i
        save(Image.fromarray(np.clip(im, 0, 255).astype(np.uint8)), film / f"view{i}.png")
    save(Image.new("RGB", (128, 128), (250, 250, 250)).rotate(10), film / "unrelated.png")   # a blank page
    database = tmp_path / "c.duckdb"
    # keep every shot (no pHash de-duplication) so that the consistency check sees them all
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all", "--phash-max", "-1")
    out = pd.read_csv(io.StringIO(cli("references", "consistency", "--db", database)))
    flagged = out[out["outlier"]]["relpath"].tolist()
    assert flagged == ["references/film/unrelated.png"], out
    cra = pd.read_csv(io.StringIO(cli("references", "consistency", "--db", database, "--cra")))
    assert cra["exact"].all()
    assert (cra["cra_without_outliers"] <= cra["cra_all"] + 1e-12).all()


def test_flag_outliers_known_answer():
    sim = np.full((5, 5), 0.9)
    sim[4, :] = sim[:, 4] = 0.3
    np.fill_diagonal(sim, 1.0)
    mean, _z, out = consistency.flag_outliers(sim)
    assert out.tolist() == [False] * 4 + [True]
    assert mean[4] == pytest.approx(0.3)


def test_the_robustness_command_writes_tables_and_says_what_flips(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    database = tmp_path / "r.duckdb"
    cli("score", root, "--db", database, *BASELINE)
    out = cli("robustness", "--db", database, "--out", tmp_path / "rob", "--n-resamples", "50")
    assert "[holds]" in out or "[FLIPS]" in out
    for name in ("robustness.csv", "robustness.tex", "conclusions.csv", "robustness_points.csv"):
        assert (tmp_path / "rob" / name).is_file()
    grid = pd.read_csv(tmp_path / "rob" / "robustness.csv")
    assert len(grid[["clip_tau", "patch_tau"]].drop_duplicates()) == 9
    assert set(grid["model"]) == {"model_a", "model_b"}
    op = json.loads(cli("robustness", "--db", database, "--format", "json", "--n-resamples", "5"))["operating_point"]
    assert sorted(set(grid["clip_tau"])) == pytest.approx([op["clip_tau"] + d for d in (-0.1, 0, 0.1)])   # centred
    assert sorted(set(grid["patch_tau"])) == pytest.approx([op["patch_tau"] + d for d in (-0.1, 0, 0.1)])
    far = cli("robustness", "--db", database, "--n-resamples", "5", "--clip-taus", "0.95", "--patch-taus", "0.95")
    assert all("(0 of" not in line for line in far.splitlines() if line.startswith("[FLIPS]")), far
    data = json.loads(cli("robustness", "--db", database, "--format", "json", "--n-resamples", "20",
                          "--clip-taus", "0.5,0.9", "--patch-taus", "0.6"))
    assert len(data["points"]) == 2
    assert data["operating_point"]["rule"] == "gt"


def test_bootstrap_means_are_the_means_of_the_resampled_references():
    """The counts-times-values form gives, per resample, exactly the mean of the drawn rows (NaN rows left
    out): checked against gathering the same draws, with NaN in one column and a column that is all NaN."""
    rng = np.random.default_rng(3)
    v = pd.DataFrame({"a": rng.random(41), "b": np.where(rng.random(41) < 0.3, np.nan, rng.random(41)),
                      "c": np.full(41, np.nan)})
    got = robustness.bootstrap_means(v, 257, seed=5)
    idx = np.random.default_rng(5).integers(0, 41, (257, 41))               # the draws bootstrap_means makes
    for col in ("a", "b"):
        means = np.nanmean(v[col].to_numpy()[idx], axis=1)
        lo, hi = np.nanpercentile(means, [2.5, 97.5])
        assert got.loc[col, "ci_low"] == pytest.approx(lo, abs=1e-12)
        assert got.loc[col, "ci_high"] == pytest.approx(hi, abs=1e-12)
        assert got.loc[col, "mean"] == pytest.approx(np.nanmean(v[col]))
        assert got.loc[col, "n_refs"] == v[col].notna().sum()
    assert np.isnan(got.loc["c", ["mean", "ci_low", "ci_high"]].astype(float)).all()
    assert got.loc["c", "n_refs"] == 0
    empty = robustness.bootstrap_means(v.iloc[:0], 10)
    assert empty["ci_low"].isna().all()
