"""The dashboard under streamlit.testing.v1.AppTest, on the demo database."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import APP, BASELINE, PIXELS, build_small_dataset, cli, fresh_app, live_data, reference_cra, release
from streamlit.testing.v1 import AppTest

import iconicity_core
from iconicity_core import db
from iconicity_core import db as store
from iconicity_core.dashboard.registry import PAGES as REGISTRY
from iconicity_core.db.views import image_path

PAGES = [path for path, _title, _icon in REGISTRY if path != "pages/overview.py"]   # the app opens on the Overview


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
        assert at.caption, page
        assert at.caption[0].value.startswith("Run "), page
        assert "Settings" in at.caption[1].value, page
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
    assert sent["state"]["clip_tau"] == 0.30
    assert sent["rev"] == rev


def test_query_params_round_trip(app_db):
    at = _app(clip_tau="0.55", patch_tau="0.4", pooling="all", models=["painter-2", "noisy-mini"], kinds="static")
    assert not at.exception
    state = live_data(at, "controls")["state"]
    assert (state["clip_tau"], state["patch_tau"], state["pooling"]) == (0.55, 0.40, "all")
    assert set(state["models"]) == {"painter-2", "noisy-mini"}
    assert state["kinds"] == ["static"]
    qp = at.query_params
    assert qp["clip_tau"] == "0.55"
    assert qp["pooling"] == "all"
    assert sorted(qp["models"]) == ["noisy-mini", "painter-2"]
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
    assert (tmp_path / "demo.duckdb").is_file()
    assert (tmp_path / "demo_dataset" / "references.csv").is_file()
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
    assert {"title zipf mean", "demo sitelinks"} <= set(corr["covariate"])
    assert "partial_rho" in corr
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("plain similarity" in s.value for s in at.subheader)


def test_a_page_run_on_its_own_draws_the_shared_sidebar(app_db):
    at = AppTest.from_file(str(Path(APP).parent / "pages" / "overview.py"), default_timeout=180)
    at.query_params["clip_tau"] = "0.4"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert live_data(at, "controls")["state"]["clip_tau"] == 0.40
    assert live_data(at, "overview")


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
    assert before > 0
    assert _cra(at) == 0.0


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
    assert at.error, (how, [e.value for e in at.error])
    assert all(str(bad) in e.value for e in at.error), (how, [e.value for e in at.error])
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
    assert at.error, [e.value for e in at.error]
    assert any("folder" in e.value for e in at.error), [e.value for e in at.error]
    if where == "a file":
        assert data.read_text() == "mine"


def test_every_table_header_and_name_is_in_words(app_db):
    """No table on any page shows one of the project's own column names as a header, or a metric / threshold /
    covariate name as a value (they read "recognition τ", "CRA", "demo sitelinks")."""

    from iconicity_core.dashboard.registry import PAGES
    from iconicity_core.dashboard.widgets import NAME_COLUMNS
    from iconicity_core.display import COLUMN_LABELS

    raw = {k for k, v in COLUMN_LABELS.items() if k != v}
    at = _app()
    for path, _title, _icon in PAGES:
        at.switch_page(path).run()
        assert not at.exception, path
        if path.endswith("correlations.py"):
            at.toggle(key="co_more").set_value(True).run()
        for d in at.dataframe:
            labels = {c: v.get("label") for c, v in json.loads(d.proto.columns or "{}").items()}
            headers = {labels.get(str(c)) or str(c) for c in d.value.columns}      # a column without a label shows its name
            assert not raw & headers, (path, headers)
            for c in NAME_COLUMNS:
                if c in d.value.columns:
                    assert not raw & set(d.value[c].dropna().astype(str)), (path, c, d.value[c].unique())


# -- 6. switching run or database ---------------------------------------------------------------------------
@pytest.fixture
def two_runs(small_dataset, tmp_path, monkeypatch):
    database = tmp_path / "two.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    cli("score", small_dataset, "--db", database, *PIXELS)
    monkeypatch.setenv("ICONICITY_DB", str(database))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return database


def test_switching_the_scoring_run_applies_its_operating_point_without_a_crash(two_runs):
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    runs = at.sidebar.selectbox(key="w_run").options
    first = live_data(at, "controls")["state"]["clip_tau"]
    at.sidebar.selectbox(key="w_run").set_value(runs[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    second = live_data(at, "controls")["state"]["clip_tau"]
    assert {first, second} == {0.47, 0.7}                        # baseline's and pixels' (the paper's) operating points
    at.switch_page("pages/label.py").run()
    assert not at.exception
    at.sidebar.selectbox(key="w_run").set_value(runs[0]).run()
    assert not at.exception, [e.value for e in at.exception]   # the Label page's queue follows the run


def test_switching_the_database_under_the_label_page(two_runs, small_demo_db, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "other.duckdb")
    monkeypatch.setenv("ICONICITY_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/label.py").run()
    assert not at.exception
    at.sidebar.selectbox(key="w_db").set_value("other.duckdb").run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/similar.py").run()
    assert not at.exception
    assert not any("keep-embeddings" in i.value for i in at.info)


# -- 7. a run with no generated image ---------------------------------------------------------------------
def test_pages_render_for_a_run_without_generated_images(tmp_path, monkeypatch):
    root = build_small_dataset(tmp_path / "ds")
    shutil.rmtree(root / "generations")
    database = tmp_path / "empty.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all")
    at = fresh_app(database, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    for page in ("pages/map.py", "pages/label.py", "pages/thresholds.py", "pages/references.py", "pages/similar.py",
                 "pages/export.py", "pages/correlations.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])


# -- 10. what a run is, said on the page ----------------------------------------------------------------------
def test_an_interrupted_run_and_a_references_only_map_say_so(small_dataset, tmp_path, monkeypatch):
    database = tmp_path / "i.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE)                  # keeps only the references' vectors
    con = db.connect(database)
    con.execute("UPDATE runs SET status = 'interrupted' WHERE kind = 'score'")
    con.close()
    at = fresh_app(database, monkeypatch)
    assert any("interrupted" in w.value for w in at.warning)
    at.switch_page("pages/map.py").run()
    assert any("--keep-embeddings references" in c.value for c in [*at.caption, *at.info, *at.warning])


def _figures(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _texts(at) -> list[str]:
    """Every text a reader sees: headings, prose, captions, metric labels, table headers, chart titles,
    axis titles, legends and trace names."""
    out = [e.value for kind in ("title", "header", "subheader", "markdown", "caption") for e in getattr(at, kind)]
    out += [m.label for m in at.metric]
    out += [str(c) for d in at.dataframe for c in d.value.columns]
    for fig in _figures(at):
        lay = fig.get("layout", {})
        out += [json.dumps(lay.get("title", "")), *(json.dumps(v.get("title", "")) for k, v in lay.items()
                                                     if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict))]
        out += [str(t.get("name", "")) for t in fig.get("data", [])]
    return out


def test_a_baseline_run_never_calls_its_scores_clip(app_db):
    at = AppTest.from_file(APP, default_timeout=180).run()
    for path in PAGES:
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        said = [t for t in _texts(at) if ("CLIP" in t or "DINO" in t) and "score with CLIP + DINOv3" not in t]
        assert not said, (path, said)
    assert any("appearance baseline" in c.value for c in at.main.caption)   # it says what the scores are


def test_a_copied_patch_matches_url_opens_the_same_image(app_db):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/patches.py").run()
    first = at.selectbox(key="pm_image").value
    other = iconicity_core.open(app_db).images(slugs="coffee").sort_values("file_id")["file_id"].iloc[2]
    at.session_state["image"] = other                 # as a click on another page does (AppTest cannot pick
    at.run()                                          # from a selectbox with a format_func)
    chosen, shown = at.selectbox(key="pm_image").value, [m.value for m in at.metric]
    assert chosen == other != first
    assert not at.exception
    url = dict(at.query_params)                        # what the browser's address bar holds
    assert url["image"] in (chosen, [chosen])
    assert url["ref"] in ("coffee", ["coffee"])
    again = AppTest.from_file(APP, default_timeout=180)
    again.query_params.update(url)
    again.run()
    again.switch_page("pages/patches.py").run()
    assert not again.exception
    assert again.selectbox(key="pm_image").value == chosen
    assert [m.value for m in again.metric] == shown                    # the same scores, not just the same id


def test_one_model_keeps_one_colour_in_the_live_views_and_the_charts(app_db):
    """The colour the browser draws a model in (the payload's) is the one every Python chart uses, and four models
    have four colours."""
    import json
    import struct

    at = AppTest.from_file(APP, default_timeout=180).run()
    payload = next(e.proto.bytes for e in at.get("bidi_component") if e.proto.WhichOneof("data") == "bytes")
    (n,) = struct.unpack("<I", payload[4:8])
    live = json.loads(payload[8:8 + n])["colours"]
    assert len(set(live.values())) == len(live) == 4
    seen: dict[str, set] = {}
    for path in ("pages/variants.py", "pages/compare.py"):
        at.switch_page(path).run()
        for fig in _figures(at):
            for trace in fig.get("data", []):
                name, colour = trace.get("name"), (trace.get("marker") or trace.get("line") or {}).get("color")
                if name in live and isinstance(colour, str):
                    seen.setdefault(name, set()).add(colour)
    assert seen, (seen, live)
    assert all(colours == {live[name]} for name, colours in seen.items()), (seen, live)


def test_a_run_too_large_for_one_message_says_how_to_start_the_dashboard(app_db, monkeypatch):
    import streamlit as st

    limit = st.get_option("server.maxMessageSize")
    try:
        st.config.set_option("server.maxMessageSize", 0)           # the option is in whole MB: 0 is below any run
        at = fresh_app(app_db, monkeypatch)
        said = " ".join(e.value for e in at.error)
        assert "more than one message" in said, said
        assert "--server.maxMessageSize 100 -- --db" in said, said
        assert not at.exception
        assert not at.get("bidi_component"), "stopped before the live views, not half drawn"
        st.config.set_option("server.maxMessageSize", limit)
        at = fresh_app(app_db, monkeypatch)
        assert not at.error
        assert not at.exception
    finally:
        st.config.set_option("server.maxMessageSize", limit)


@pytest.mark.parametrize("limit_mb", [1, 200, 1000])
def test_the_message_limit_holds_at_its_boundary(limit_mb):
    from iconicity_core.dashboard.live import too_big

    edge = int(limit_mb * 1_000_000 * 0.98)
    assert too_big(edge, limit_mb) is None
    said = too_big(edge + 1, limit_mb)
    assert said is not None
    assert f"({limit_mb:,} MB)" in said
    need = int(said.split("--server.maxMessageSize ")[1].split()[0])
    assert need * 1_000_000 * 0.98 >= edge + 1                      # the advised limit carries the data
