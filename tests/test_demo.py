"""The embedded demo: offline, deterministic, labelled, and calibrated."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import SMALL_DEMO

import iconicity_core
from iconicity_core.analysis.calibration import calibration_table
from iconicity_core.db.metrics_sql import metrics_table
from iconicity_core.demo.simulate import LABELS, MODELS
from iconicity_core.demo.sources import SOURCES


def _tables(db):
    con = duckdb.connect(str(db), read_only=True)
    out = {by: metrics_table(con, by) for by in ("image", "reference", "model")}
    run = con.execute("SELECT clip_key, dino_key, semantic FROM runs WHERE kind = 'score' ORDER BY dino_key").fetchall()
    con.close()
    return out, run


@pytest.mark.slow
def test_demo_is_offline_deterministic_and_complete(small_demo_db, build_demo_subprocess, tmp_path):
    second = build_demo_subprocess(tmp_path / "again.duckdb")
    (a, run_a), (b, run_b) = _tables(small_demo_db), _tables(second)
    assert run_a == run_b == [("baseline:global:v1", "baseline:cells:v1:crop:3x3", False),   # the second run
                              ("baseline:global:v1", "baseline:cells:v1:crop:4x4", False)]
    for by in a:
        cols = [c for c in a[by].columns if c != "file_id"]
        pd.testing.assert_frame_equal(a[by][cols], b[by][cols])
    img = a["image"]
    assert set(img.slug) == {s.slug for s in SOURCES}
    assert set(img.model) == set(MODELS)
    assert set(img.variant) == {"title", "description"}
    assert set(img.label) == set(LABELS)
    assert img.label.notna().all()
    assert len(img) == len(SOURCES) * len(MODELS) * 2 * SMALL_DEMO


@pytest.mark.slow
def test_demo_first_screen_separates_the_simulated_models(demo_db):
    """At the run's defaults (the baseline's calibrated operating point) the Overview's per-model numbers
    tell the simulated behaviours apart: replicator-xl reuses, painter-2 is recognised without reuse,
    noisy-mini is mostly not recognised."""
    from iconicity_core import db
    from iconicity_core.config import run_thresholds

    con = db.connect(demo_db, read_only=True)
    t = run_thresholds(db.runs.get(con, db.runs.latest_score_run(con))["config"])
    m = db.metrics_sql.metrics_table(con, "model", t)
    con.close()
    m = m[(m.kind == "all") & (m.variant == "title")].set_index("model")
    assert (t.clip_tau, t.patch_tau) == (0.47, 0.61)
    assert m.loc["replicator-xl", "vr"] > m.loc["painter-2", "vr"] + 0.2          # the exact values: tests/golden
    assert m.loc["painter-2", "cra"] > m.loc["noisy-mini", "cra"] + 0.25
    assert m.loc["noisy-mini", "cra"] == m["cra"].min()
    assert m.loc["replicator-xl", "vr"] == m["vr"].max()


@pytest.mark.slow
def test_demo_calibration(demo_db):
    tables, _ = _tables(demo_db)
    cal = calibration_table(tables["image"]).set_index("separation")
    # reinterpretations keep a setting or a poster's layout, so some reuse some cells
    assert cal.loc["VR: replica vs reinterpretation", "roc_auc"] >= 0.83
    labels = tables["image"]["label"].value_counts()
    rec = cal.loc["recognition similarity: recognisable vs miss"]
    assert rec.n_neg == labels["miss"]
    assert rec.n_pos == labels.drop("miss").sum()
    rr = cal.loc["VR: replica vs reinterpretation"]
    assert (rr.n_pos, rr.n_neg) == (labels["replica"], labels["reinterpretation"])


def test_demo_dedups_the_stereo_pair(small_demo_db):
    con = duckdb.connect(str(small_demo_db), read_only=True)
    dropped = con.execute("SELECT slug FROM ref_dedup WHERE NOT kept").fetchall()
    assert ("motorcycle",) in dropped


# -- the demo owns only what it made ------------------------------------------------------------------------------
def _bytes(folder):
    from pathlib import Path

    return {str(p.relative_to(folder)): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_the_demo_never_replaces_a_users_database_or_folder(small_demo_db, tmp_path):
    from helpers import invoke

    user = tmp_path / "study.duckdb"
    user.write_bytes(b"")
    import shutil

    shutil.copy(small_demo_db, tmp_path / "scratch.duckdb")
    con = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    con.execute("DELETE FROM meta WHERE key = 'demo_version'")                 # a scores database, not a demo
    con.close()
    (tmp_path / "scratch.duckdb").rename(user)
    dataset = tmp_path / "study_dataset"
    dataset.mkdir()
    (dataset / "notes.txt").write_text("my notes")
    before = _bytes(tmp_path)
    r = invoke("demo", "--db", user, "--embedders", "baseline", "--per-cell", "1", "--quiet")
    assert r.exit_code == 2, r.output
    assert "is not a demo database" in r.stderr, r.output
    assert "--db" in r.stderr, r.output
    r = invoke("demo", "--db", tmp_path / "new.duckdb", "--embedders", "baseline", "--per-cell", "1", "--quiet")
    assert r.exit_code == 0, r.output                                             # a new path next to them is fine
    (tmp_path / "other_dataset").mkdir()
    (tmp_path / "other_dataset" / "x.png").write_bytes(b"mine")
    r = invoke("demo", "--db", tmp_path / "other.duckdb", "--embedders", "baseline", "--per-cell", "1", "--quiet")
    assert r.exit_code == 2, r.output
    assert "was not made by the demo" in r.stderr, r.output
    after = _bytes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before              # every byte of the user's files
    assert (tmp_path / "other_dataset" / "x.png").read_bytes() == b"mine"


def test_the_demo_rebuilds_what_it_made(tmp_path):
    from helpers import invoke

    from iconicity_core.demo.build import MARKER, demo_state

    db = tmp_path / "demo.duckdb"
    for _ in range(2):
        r = invoke("demo", "--db", db, "--embedders", "baseline", "--per-cell", "1", "--quiet")
        assert r.exit_code == 0, r.output
    assert demo_state(db) == "current"
    assert (tmp_path / "demo_dataset" / MARKER).is_file()


def test_a_demo_being_written_is_waited_for_never_rebuilt(small_demo_db, tmp_path, monkeypatch):
    """`iconicity analyze` (a writer) holds the demo while the dashboard starts for the first time, or while
    `iconicity demo` runs: both say "wait", and the writer's file is untouched."""
    import shutil
    import subprocess
    import sys

    from helpers import APP, invoke
    from streamlit.testing.v1 import AppTest

    from iconicity_core.dashboard import databases
    from iconicity_core.errors import DatabaseBusy

    data = tmp_path / "data"
    data.mkdir()
    demo = data / "demo.duckdb"
    shutil.copy(small_demo_db, demo)
    con = duckdb.connect(str(demo))
    con.execute("UPDATE meta SET value = 'older' WHERE key = 'demo_version'")     # a demo the dashboard would rebuild
    con.close()
    before = demo.read_bytes()
    monkeypatch.delenv("ICONICITY_DB", raising=False)
    monkeypatch.setenv("ICONICITY_DATA", str(data))
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(120)", str(demo)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseBusy):
            databases.needs_demo(demo)                                             # busy is not "not current"
        r = invoke("demo", "--embedders", "baseline", "--per-cell", "1", "--quiet")
        assert r.exit_code == 2, r.output
        assert "in use by another process" in r.stderr, r.output
        import streamlit as st

        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=180).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("in use by another process" in e.value and "reload" in e.value for e in at.error), \
            [e.value for e in at.error]
    finally:
        holder.kill()
        holder.wait()
    assert demo.read_bytes() == before
    assert not (data / "demo_dataset").exists()


@pytest.mark.slow
def test_the_demo_tells_the_papers_story(demo_db):
    """Reinterpretations are recognised but not copied; misses are not recognised."""
    res = iconicity_core.open(demo_db)
    images = res.images()                                    # the demo's ground truth comes with it
    by = images.groupby("label")[["clip_sim", "vr"]].mean()
    assert by.loc["reinterpretation", "vr"] < by.loc["replica", "vr"] - 0.2
    assert by.loc["reinterpretation", "clip_sim"] > by.loc["miss", "clip_sim"] + 0.2
    models = res.metrics("model", pooling="all", variants="title")
    models = models[models["kind"] == "all"].set_index("model")
    assert models["crt"].idxmax() == "painter-2"
    assert models["vr"].idxmax() == "replicator-xl"


def test_the_cli_uses_the_demo_without_db(small_demo_db, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "demo.duckdb")
    env = {"ICONICITY_DATA": str(data), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics", "--format", "csv"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "no --db given: using the demo database" in out.stderr
    assert out.stdout.splitlines()[0].startswith("model,")
    assert "painter-2" in out.stdout
    missing = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics"], capture_output=True, text=True,
                             env={**env, "ICONICITY_DATA": str(tmp_path / "none")}, timeout=300)
    assert missing.returncode != 0
    assert "run `iconicity demo`, or give --db FILE" in missing.stderr
