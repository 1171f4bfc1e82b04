"""The dashboard under streamlit.testing.v1.AppTest, on the demo database."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import live_data, reference_cra, release
from streamlit.testing.v1 import AppTest

from iconicity_core import db as store
from iconicity_core.db.views import image_path

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["pages/references.py", "pages/patches.py", "pages/thresholds.py", "pages/correlations.py",
         "pages/variants.py", "pages/export.py"]


def _app(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(params)
    return at.run()


def _cra(at) -> float:
    return reference_cra(at)


def test_every_page_renders_without_exception(app_db):
    at = _app()
    assert not at.exception, at.exception
    assert "appearance baseline" in at.main.caption[0].value                  # provenance is always visible
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.caption and at.caption[0].value.startswith("Run ") and "Settings" in at.caption[1].value, page
        plots = [b.proto for b in at.get("download_button") if b.proto.label.startswith("⤓")
                 or b.proto.label in ("recognition × realization scatter", "per-model bars")]
        # a plot's standalone HTML (Plotly's 4.6 MB script inlined) is built when clicked, not on every rerun
        assert all(b.deferred_file_id and not b.url for b in plots), (page, [b.label for b in plots])
        assert page not in ("pages/thresholds.py", "pages/export.py") or plots, page


def test_a_released_slider_moves_python_pages_and_the_url(app_db):
    """What the browser sends on release reaches the Python-drawn pages, the address and the live controls (the
    live views themselves are checked in Chromium, tests/test_browser.py)."""
    at = _app()
    before = _cra(at)
    rev = live_data(at, "controls")["rev"]
    release(at, clip_tau=0.30)
    after = _cra(at)
    assert after > before
    assert at.query_params["clip_tau"] == "0.30"
    settings = next(c.value for c in at.main.caption if c.value.startswith("**Settings**"))
    assert "> **0.30** (dynamic 0.47)" in settings                 # the main area names the thresholds in force
    sent = live_data(at, "controls")
    assert sent["state"]["clip_tau"] == 0.30 and sent["rev"] == rev    # an echo: the browser keeps what it shows


def test_query_params_round_trip(app_db):
    at = _app(clip_tau="0.55", patch_tau="0.4", pooling="all", models=["painter-2", "noisy-mini"], kinds="static")
    assert not at.exception
    state = live_data(at, "controls")["state"]
    assert (state["clip_tau"], state["patch_tau"], state["pooling"]) == (0.55, 0.40, "all")
    assert set(state["models"]) == {"painter-2", "noisy-mini"} and state["kinds"] == ["static"]
    qp = at.query_params
    assert qp["clip_tau"] == "0.55" and qp["pooling"] == "all" and sorted(qp["models"]) == ["noisy-mini", "painter-2"]
    at.switch_page("pages/references.py").run()
    breakdown = at.dataframe[1].value                         # one reference's rows: only the two models
    assert set(breakdown["model"]) == {"painter-2", "noisy-mini"}
    again = _app(**{k: v for k, v in qp.items()})
    assert _cra(again) == _cra(at)


def test_bad_query_params_fall_back_with_a_notice(app_db):
    at = _app(clip_tau="abc", patch_tau="7", pooling="'; DROP TABLE refs; --", models=["no such model"],
              db="../../etc/passwd", ref="nope")
    assert not at.exception
    assert any("ignored" in w.value for w in at.warning)
    notices = " ".join(t.value for t in at.text)                        # shown as plain text
    for word in ("clip_tau", "patch_tau", "pooling", "no such model", "passwd", "nope"):
        assert word in notices, word
    state = live_data(at, "controls")["state"]
    assert (state["clip_tau"], state["patch_tau"], state["pooling"]) == (0.47, 0.61, "recognised")   # the run's
    con = duckdb.connect(str(app_db), read_only=True)
    assert con.execute("SELECT count(*) FROM refs").fetchone()[0] == 10


def test_dashboard_does_not_lock_out_a_writer(app_db):
    _app()
    con = store.connect(app_db, wait_s=0)       # the page closed its read-only connection
    con.close()


def test_database_being_written_gives_a_clear_message(app_db):
    holder = subprocess.Popen([sys.executable, "-c",
                               f"import duckdb,time; c=duckdb.connect({str(app_db)!r}); print('ok', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"ok"
        at = _app()
        assert not at.exception
        assert any("in use by another process" in e.value for e in at.error)
    finally:
        holder.kill()
        holder.wait()


def test_images_are_served_only_from_registered_roots(app_db, tmp_path):
    con = duckdb.connect(str(app_db))
    fid = con.execute("SELECT file_id FROM files WHERE role = 'generation' LIMIT 1").fetchone()[0]
    assert image_path(con, fid) is not None
    con.execute("UPDATE files SET relpath = '../../../../../../etc/hostname' WHERE file_id = ?", [fid])
    assert image_path(con, fid) is None
    assert image_path(con, "does-not-exist") is None


@pytest.mark.slow
def test_first_start_builds_the_demo_database(tmp_path, monkeypatch):
    """What `streamlit run app.py` does on a fresh clone: no database yet -> build the demo, then show it."""
    monkeypatch.delenv("ICONICITY_DB", raising=False)
    monkeypatch.setenv("ICONICITY_DATA", str(tmp_path))
    at = _app()
    assert not at.exception, at.exception
    assert (tmp_path / "demo.duckdb").is_file() and (tmp_path / "demo_dataset" / "references.csv").is_file()
    assert set(at.session_state["_ix_choices"]["models"]) == {"replicator-xl", "balanced-1.5", "painter-2", "noisy-mini"}
    assert live_data(at, "overview")["pid"] == live_data(at, "controls")["pid"]


@pytest.mark.slow
def test_correlations_and_baselines_appear_after_analysis_commands(app_db):
    from typer.testing import CliRunner

    from iconicity_core.cli import app as cli

    runner = CliRunner()
    for args in (["covariates", "uniqueness", "--db", str(app_db)],
                 ["evaluate", "--db", str(app_db), "--out", str(app_db.with_suffix(".csv")), "--n-resamples", "20",
                  "--quiet"]):
        r = runner.invoke(cli, args)
        assert r.exit_code == 0, r.output
    at = _app()
    at.switch_page("pages/correlations.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.toggle(key="co_more").set_value(True).run()
    corr = at.dataframe[0].value
    assert {"title zipf mean", "demo sitelinks"} <= set(corr["covariate"]) and "partial_rho" in corr   # in words
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("plain similarity" in s.value for s in at.subheader)


def test_a_page_run_on_its_own_draws_the_shared_sidebar(app_db):
    at = AppTest.from_file(str(Path(APP).parent / "pages" / "overview.py"), default_timeout=180)
    at.query_params["clip_tau"] = "0.4"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert live_data(at, "controls")["state"]["clip_tau"] == 0.40 and live_data(at, "overview")


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory) -> Path:
    from iconicity_core.testing import build_synthetic_db

    db = tmp_path_factory.mktemp("synthetic") / "paper_x0.05.duckdb"
    build_synthetic_db(db, scale=0.05, seed=1)
    return db


def test_every_page_renders_on_a_synthetic_database_of_the_paper_shape(synthetic_db, monkeypatch):
    monkeypatch.setenv("ICONICITY_DB", str(synthetic_db))
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    assert set(at.session_state["_ix_choices"]["models"]) == {"sd15", "sd21", "sdxl", "sd3-medium", "flux-schnell"}
    before = _cra(at)
    release(at, clip_tau=0.60)
    assert _cra(at) > before
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])


def test_a_rescored_database_is_read_again(app_db):
    """The engine and every cached read are keyed by the file's version: change the scores on disk and
    the next run of the page shows the new numbers."""
    at = _app()
    before = _cra(at)
    con = store.connect(app_db)
    run = store.runs.latest_score_run(con)
    with store.transaction(con):       # a re-score that recognises nothing (what a new embedder might do)
        con.execute("UPDATE clip_sims SET sim = -1 WHERE run_id = ?", [run])
    con.close()
    at.run()
    assert not at.exception
    assert before > 0 and _cra(at) == 0.0


# -- a database that cannot be opened: one message, never a traceback ------------------------------------------
BROKEN = {
    "a text file": lambda good, p: p.write_text("slug,title\n"),
    "truncated": lambda good, p: p.write_bytes(good.read_bytes()[: good.stat().st_size // 2]),
    "schema version 'three'": lambda good, p: (p.write_bytes(good.read_bytes()), duckdb.connect(str(p)).execute(
        "UPDATE meta SET value = 'three' WHERE key = 'schema_version'").close()),
    "a folder": lambda good, p: p.mkdir(),
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_database_that_cannot_be_opened_is_one_message(how, small_demo_db, tmp_path, monkeypatch):
    import streamlit as st

    bad = tmp_path / "bad.duckdb"
    BROKEN[how](small_demo_db, bad)
    monkeypatch.setenv("ICONICITY_DB", str(bad))
    monkeypatch.setenv("ICONICITY_DATA", str(tmp_path / "data"))
    st.cache_data.clear()
    at = _app()
    assert not at.exception, (how, [e.value for e in at.exception])
    assert at.error and all(str(bad) in e.value for e in at.error), (how, [e.value for e in at.error])
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception, how


@pytest.mark.parametrize("where", ["a file", "a read-only folder"])
def test_a_data_folder_that_cannot_hold_the_demo_is_one_message(where, tmp_path, monkeypatch):
    import streamlit as st
    from test_cli_errors import _read_only_folder

    if where == "a file":
        data = tmp_path / "notes.txt"
        data.write_text("mine")
    else:
        data = _read_only_folder(tmp_path)
    monkeypatch.delenv("ICONICITY_DB", raising=False)
    monkeypatch.setenv("ICONICITY_DATA", str(data))
    st.cache_data.clear()
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and any("folder" in e.value for e in at.error), [e.value for e in at.error]
    if where == "a file":
        assert data.read_text() == "mine"


def test_every_table_header_and_name_is_in_words(app_db):
    """No table on any page shows one of the project's own column names as a header, or a metric / threshold /
    covariate name as a value (they read "recognition τ", "CRA", "demo sitelinks")."""
    import json

    from iconicity_core.core.display import COLUMN_LABELS
    from iconicity_core.dashboard.widgets import NAME_COLUMNS, PAGES

    raw = {k for k, v in COLUMN_LABELS.items() if k != v}
    at = _app()
    for path, _title, _icon in PAGES:
        at.switch_page(path).run()
        assert not at.exception, path
        if path.endswith("correlations.py"):
            at.toggle(key="co_more").set_value(True).run()
        for d in at.dataframe:
            labels = {c: v.get("label") for c, v in json.loads(d.proto.columns or "{}").items()}
            assert not raw & set(labels.values()), (path, labels)
            for c in NAME_COLUMNS:
                if c in d.value.columns:
                    assert not raw & set(d.value[c].dropna().astype(str)), (path, c, d.value[c].unique())
