"""Reproducing the released scripts (`--preset authors` and its options), operating points per embedder,
and calibration against labels."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import APP, BASELINE, build_small_dataset, cli, live_data, model_args, save, texture
from streamlit.testing.v1 import AppTest

from iconicity_core import db


def by_image(database, *extra) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--by", "image", *extra))).set_index("image")


def test_the_authors_rule_passes_at_equality_and_gt_does_not(tmp_path, small_dataset):
    ge, gt = tmp_path / "ge.duckdb", tmp_path / "gt.duckdb"
    cli("score", small_dataset, "--db", ge, *BASELINE, "--preset", "authors", "--cell-preprocess", "squash")
    cli("score", small_dataset, "--db", gt, *BASELINE)
    copy = "generations/model_a/mona/copy.png"
    s = by_image(gt).loc[copy, "clip_sim"]                         # the stored similarity of an exact copy
    con = db.connect(gt, read_only=True)
    cell = float(con.execute("""SELECT max(sim) FROM cell_sims c JOIN files f USING (file_id)
                                WHERE f.relpath = ?""", [copy]).fetchone()[0])
    con.close()
    args = ["--clip-tau", repr(float(s)), "--patch-tau", repr(cell)]
    a, b = by_image(ge, *args).loc[copy], by_image(gt, *args).loc[copy]
    assert bool(a.recognised)
    assert not bool(b.recognised)
    assert a.vr > 0
    assert b.vr == 0.0
    run = json.loads(cli("runs", "--db", ge, "--format", "json"))["rows"][0]["run_id"]
    shown = json.loads(cli("runs", "show", run, "--db", ge))
    assert shown["config"]["preset"] == "authors"
    assert shown["config"]["threshold_rule"] == "authors"
    assert shown["config"]["clip_model"] == "baseline"              # an explicit option overrides the preset
    assert shown["config"]["operating_point"]["clip_tau_dynamic"] == 0.75
    assert shown["config"]["k_gen"] == 50
    meta = json.loads(cli("metrics", "--db", ge, "--format", "json"))
    assert meta["thresholds"]["rule"] == "authors"
    assert meta["thresholds"]["clip_tau_dynamic"] == 0.75


def test_a_similarity_on_tau_passes_as_the_scripts_compare_static_in_float32_dynamic_in_float64(tmp_path, small_dataset):
    """compute_CRA.py compares a static work's similarity as ``np.float32(sim) >= tau`` and a dynamic work's as
    ``float(sim) >= tau``. With τ one float64 step above a stored (float32) similarity, float32(τ) is that
    similarity: the static image passes, the dynamic one does not; exactly at τ both pass. The SQL (CLI),
    the engine (API) and the authors' export decide alike; a run recorded with ``ge`` reads as before."""
    import iconicity_core

    database = tmp_path / "a.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--preset", "authors", "--cell-preprocess", "squash")
    st, dy = "generations/model_a/mona/other.png", "generations/model_a/film/other.png"
    img = by_image(database)
    s_st, s_dy = float(img.loc[st, "clip_sim"]), float(img.loc[dy, "clip_sim"])
    assert float(np.float32(s_st)) == s_st
    assert float(np.float32(s_dy)) == s_dy
    assert max(s_st, s_dy) < 0.99
    up_st, up_dy = float(np.nextafter(s_st, 2)), float(np.nextafter(s_dy, 2))
    assert bool(np.float32(s_st) >= up_st)
    assert not float(np.float32(s_dy)) >= up_dy
    res = iconicity_core.open(database)
    for tau_st, tau_dy, want in ((up_st, up_dy, (True, False)), (s_st, s_dy, (True, True))):
        args = ["--clip-tau", repr(tau_st), "--clip-tau-dynamic", repr(tau_dy)]
        sql = by_image(database, *args)
        api = res.metrics(by="image", clip_tau=tau_st, clip_tau_dynamic=tau_dy).set_index("image")
        assert (bool(sql.loc[st, "recognised"]), bool(sql.loc[dy, "recognised"])) == want
        assert (bool(api.loc[st, "recognised"]), bool(api.loc[dy, "recognised"])) == want
        out = tmp_path / f"export_{tau_st}"
        cli("export", "--db", database, "--out", out, *args)
        ours = pd.read_csv(out / "iconicity_images.csv")
        passed = ours.loc[ours["cra_pass"], "gen_image_path"]
        assert (bool(passed.str.endswith(st).any()), bool(passed.str.endswith(dy).any())) == want
    ge = res.metrics(by="image", clip_tau=up_st, clip_tau_dynamic=up_dy, rule="ge").set_index("image")
    assert not ge.loc[st, "recognised"]
    assert not ge.loc[dy, "recognised"]


def test_k_gen_scores_the_first_files_by_name(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    for name in ("e.png", "a.png", "d.png", "b.png", "c.png"):
        save(texture(ord(name[0])), root / "generations" / "model_c" / "mona" / name)
    database = tmp_path / "k.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--k-gen", "3")
    img = by_image(database)
    got = sorted(i for i in img.index if i.startswith("generations/model_c/"))
    assert got == [f"generations/model_c/mona/{n}.png" for n in "abc"]
    assert len(img.filter(like="generations/model_a/mona/", axis=0)) == 3     # model_a has exactly 3 there


def test_center_crop_cells_equal_timm_transform(tmp_path, tiny_models):
    """The authors' cell preprocessing: timm's eval transform of vit_small_patch16_dinov3 (shorter side
    to 256 bicubic + antialias, centre crop, ImageNet normalisation), on a non-square cell."""
    import timm
    import torch
    from PIL import Image
    from timm.data import create_transform, resolve_data_config

    from iconicity_core.embedders import load_cells

    emb = load_cells(str(tiny_models["dino"]), "crop", 4, 4, cell_preprocess="center-crop", cell_size=256)
    ref = create_transform(**resolve_data_config({}, model=timm.create_model("vit_small_patch16_dinov3.lvd1689m",
                                                                              pretrained=False)))
    rng = np.random.default_rng(0)
    cell = Image.fromarray(rng.integers(0, 256, (90, 170, 3), dtype=np.uint8))        # wide: edges cropped away
    assert torch.equal(emb.cell_transform(cell), ref(cell))
    assert emb.info.extra["cell_preprocess"] == "center-crop"
    assert ":cc256" in emb.info.key
    im = Image.fromarray(rng.integers(0, 256, (200, 320, 3), dtype=np.uint8))
    v = emb.embed_cells([im, im])
    assert v.shape[:2] == (2, 16)
    assert np.allclose(v[0], v[1])
    squash = load_cells(str(tiny_models["dino"]), "crop", 4, 4)
    assert squash.info.key != emb.info.key                        # a different embedder identity, never mixed


def test_runs_start_at_their_embedders_operating_points(tmp_path, small_dataset, tiny_models, monkeypatch):
    base, dino = tmp_path / "baseline.duckdb", tmp_path / "dino.duckdb"
    cli("score", small_dataset, "--db", base, *BASELINE)
    cli("score", small_dataset, "--db", dino, *model_args(tiny_models))
    for database, clip_tau, patch_tau in ((base, 0.47, 0.61), (dino, 0.70, 0.60)):
        monkeypatch.setenv("ICONICITY_DB", str(database))
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception, [e.value for e in at.exception]
        state = live_data(at, "controls")["state"]
        assert (state["clip_tau"], state["patch_tau"]) == (clip_tau, patch_tau)
        assert any("operating point" in m.value for m in at.markdown)      # in the run details
        m = pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--format", "csv")))
        explicit = pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--clip-tau", str(clip_tau),
                                               "--patch-tau", str(patch_tau))))
        pd.testing.assert_frame_equal(m, explicit)                # the CLI reads a run at its defaults too
    monkeypatch.setenv("ICONICITY_DB", str(base))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["clip_tau"] = "0.33"
    at.run()
    assert live_data(at, "controls")["state"]["clip_tau"] == 0.33      # a link's value wins


@pytest.mark.slow
def test_calibrate_suggests_thresholds_and_the_dashboard_applies_them(small_demo_db, tmp_path, monkeypatch):
    import shutil

    database = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, database)
    out = json.loads(cli("calibrate", "--db", database, "--n-resamples", "50", "--format", "json"))
    t = pd.DataFrame(out["rows"]).set_index("threshold")
    assert t.loc["clip_tau", "roc_auc"] > 0.8
    assert t.loc["patch_tau", "roc_auc"] > 0.8
    assert 0 < t.loc["clip_tau", "youden_tau"] < 1
    assert 0 < t.loc["patch_tau", "youden_tau"] < 1
    assert json.loads(cli("runs", "show", out["calibrate_run"], "--db", database))["kind"] == "calibrate"
    monkeypatch.setenv("ICONICITY_DB", str(database))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception, [e.value for e in at.exception]
    rev = live_data(at, "controls")["rev"]
    at.button(key="th_apply").click().run()
    assert not at.exception
    sent = live_data(at, "controls")
    assert sent["state"]["clip_tau"] == pytest.approx(t.loc["clip_tau", "youden_tau"], abs=0.011)
    assert sent["state"]["patch_tau"] == pytest.approx(t.loc["patch_tau", "youden_tau"], abs=0.011)
    assert sent["rev"] > rev                       # Python's own change: the browser's sliders take it


@pytest.mark.parametrize("rule", ["gt", "ge"])
def test_calibration_sweeps_equal_deciding_every_threshold_one_by_one(rule):
    from iconicity_core.analysis.calibration import TAU_GRID, calibrate

    rng = np.random.default_rng(7)
    n, k = 600, 16
    labels = rng.choice(["replica", "partial", "reinterpretation", "miss", None], n)
    clip = np.round(rng.random(n), 2)                                  # values on the grid: boundaries matter
    cells = np.round(rng.random((n, k)), 2).astype(np.float64)
    got = calibrate(labels, clip, cells, rule, 0.6, n_resamples=10).set_index("threshold")
    above = (lambda v, t: v >= t) if rule == "ge" else (lambda v, t: v > t)
    lab = pd.Series(labels, dtype=object)
    for name, keep, pos, decide in (
            ("clip_tau", lab.notna(), lab.isin(["replica", "partial", "reinterpretation"]), lambda t: above(clip, t)),
            ("patch_tau", lab.isin(["replica", "reinterpretation"]), lab == "replica",
             lambda t: above(cells, t).mean(axis=1) > 0.5)):
        keep, y = keep.to_numpy(), pos.to_numpy()[keep.to_numpy()]
        j, prec = [], []
        for t in TAU_GRID:
            d = decide(t)[keep]
            tp, fp = (d & y).sum(), (d & ~y).sum()
            j.append(tp / y.sum() - fp / (~y).sum())
            prec.append(tp / (tp + fp) if tp + fp else np.nan)
        assert got.loc[name, "youden_tau"] == TAU_GRID[int(np.argmax(j))]
        first = np.flatnonzero(np.array(prec) >= 0.6)
        if len(first):
            assert got.loc[name, "tau_at_precision_0.6"] == TAU_GRID[first[0]]
        else:
            assert np.isnan(got.loc[name, "tau_at_precision_0.6"])
