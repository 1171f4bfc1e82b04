"""`iconicity share`: the offline HTML explorer. Unit checks of its payload and size budget, then the page
itself in Debian's Chromium on file:// with every non-file request aborted, compared number by number with
`iconicity metrics` and the notebook API."""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

import iconicity_core
from iconicity_core.core import metrics as kernel
from iconicity_core.core.sweeps import TAU_GRID as GRID
from iconicity_core.share import ShareTooLarge, build_share
from iconicity_core.web.payload import for_script_tag, quantise

#: How long a condition may take on a loaded machine (the wait returns as soon as it holds).
PATIENCE_MS = 240_000


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iconicity_core.cli", *map(str, args)], capture_output=True,
                          text=True)


def _payload(html: bytes) -> dict:
    m = re.search(rb'<script type="application/json" id="iconicity-data">(.*?)</script>', html, re.S)
    assert m, "the page carries its data block"
    return json.loads(m.group(1))


# -- the payload -------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["gt", "ge"])
def test_one_byte_per_value_decides_exactly_as_the_kernel_at_every_grid_threshold(rule):
    rng = np.random.default_rng(3)
    grid32 = GRID.astype(np.float32)
    values = np.concatenate([rng.uniform(-0.2, 1.2, 4000).astype(np.float32), grid32,       # on the grid, float32
                             np.nextafter(grid32, np.float32(2)), np.nextafter(grid32, np.float32(-2)),
                             np.array([np.nan, -1, 1, 0], np.float32)])
    q = quantise(values, rule)
    assert q.dtype == np.uint8
    assert q.max() <= len(GRID)
    for j, tau in enumerate(GRID):
        np.testing.assert_array_equal(q > j, kernel.passes(values, float(tau), rule), err_msg=f"tau {tau} rule {rule}")


def test_data_block_cannot_end_its_script_tag():
    text = for_script_tag({"title": "</script><script>alert(1)</script>", "m": "<img src=x onerror=alert(1)>"})
    assert "<" not in text
    assert ">" not in text
    assert json.loads(text)["title"] == "</script><script>alert(1)</script>"


def test_images_none_embeds_no_image_and_no_remote_reference(small_demo_db):
    from plotly.offline import get_plotlyjs

    html = build_share(small_demo_db, images="none").html
    assert _payload(html)["images"] == []
    assert "not semantic recognition" in _payload(html)["subtitle"]          # the demo runs on the baseline
    assert b"data:image" not in html.replace(get_plotlyjs().encode(), b""), "only Plotly's own icons are images"
    head = html.split(b"<body>")[0].decode()
    assert "default-src 'none'" in head
    assert "connect-src 'none'" in head
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html.decode()), "nothing is loaded from outside"


def test_evidence_images_are_embedded_and_the_budget_is_honoured(small_demo_db):
    full = build_share(small_demo_db, images="evidence")
    assert full.summary["images"] == full.summary["images_wanted"] > 0
    p = _payload(full.html)
    assert all(u.startswith("data:image/") for u in p["images"])
    assert p["ref_images"]
    assert p["evidence"]
    scores = full.summary["bytes_scores"]
    # room for a few images only: fewer of them, most telling first (the references come first)
    for room in (6000, 40_000, 150_000):
        part = build_share(small_demo_db, images="evidence", max_mb=(scores + room) / 2**20)
        assert 0 < part.summary["images"] < full.summary["images"]
        assert len(part.html) == part.summary["bytes"] <= scores + room
    assert "fit the size budget" in _payload(part.html)["images_note"]
    with pytest.raises(ShareTooLarge, match="--max-mb"):
        build_share(small_demo_db, images="none", max_mb=scores / 2**20 / 2)


def test_share_cli_writes_the_file_and_says_what_to_do_when_it_cannot(small_demo_db, tmp_path):
    out = tmp_path / "findings.html"
    r = _cli("share", "--db", small_demo_db, "--out", out, "--images", "none", "--quiet", "--clip-tau", "0.55")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert "MB" in r.stderr
    start = _payload(out.read_bytes())["start"]
    assert start["clip_tau"] == 0.55
    assert start["patch_tau"] == pytest.approx(0.61)
    r = _cli("share", "--db", small_demo_db, "--out", tmp_path / "x.html", "--clip-tau", "0.555")
    assert r.returncode == 2
    assert "0.01" in r.stderr
    assert "0.56" in r.stderr
    r = _cli("share", "--db", small_demo_db, "--out", tmp_path / "y.html", "--max-mb", "0.05")
    assert r.returncode == 2
    assert "raise --max-mb" in r.stderr
    assert not (tmp_path / "x.html").exists()
    assert not (tmp_path / "y.html").exists()
    db_bytes = small_demo_db.read_bytes()
    for args, says in ((["--out", small_demo_db], "is a DuckDB database"), (["--out", tmp_path], "is a folder"),
                       (["--kind", "Dynamic"], "--kind Dynamic"), (["--model", "nosuch"], "--model nosuch"),
                       (["--max-mb", "nan"], "positive number"), (["--out", out / "x.html"], "is a file, not a folder")):
        r = _cli("share", "--db", small_demo_db, "--images", "none", "-q", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert says in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr, (args, r.stderr)
    assert small_demo_db.read_bytes() == db_bytes
    r = _cli("share", "--db", tmp_path / "findings.html", "-q")
    assert r.returncode == 2
    assert "not a DuckDB database" in r.stderr
    assert "Traceback" not in r.stderr


def test_start_view_is_always_one_the_page_can_show(small_demo_db):
    from iconicity_core.config import Filters

    p = _payload(build_share(small_demo_db, images="none", start={"variant": "nope", "kind": "bogus"}).html)
    assert (p["start"]["variant"], p["start"]["kind"]) == ("title", "all")
    p = _payload(build_share(small_demo_db, images="none", filters=Filters(variants=("description",))).html)
    assert p["start"]["variant"] == "description"
    with pytest.raises(ValueError, match="slug"):
        build_share(small_demo_db, images="none", filters=Filters(slugs=("chelsea",)))


# -- the page in Chromium ----------------------------------------------------------------------------


class Opened:
    """A page opened from file:// with every other request aborted and recorded."""

    def __init__(self, browser, path: Path, hash_: str = "") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 720})
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri() + hash_)
        self.page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady",
                                    timeout=PATIENCE_MS)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def call(self, fn: str, *args):
        return self.page.evaluate(f"(a) => window.iconicityExplorer.{fn}(...a)", list(args))


def _same_rows(page_rows: list[dict], expected: list[dict], keys: list[str]) -> None:
    assert len(page_rows) == len(expected) > 0
    for got, want in zip(page_rows, expected, strict=True):
        for k in keys:
            g, w = got[k], want[k]
            if isinstance(w, float) or isinstance(g, float):
                if w is None or (isinstance(w, float) and np.isnan(w)):
                    assert g is None, (k, got, want)
                else:
                    assert g is not None, (k, got, want)
                    assert abs(g - w) <= 1e-9, (k, got, want)
            else:
                assert g == w, (k, got, want)


MODEL_KEYS = ["model", "kind", "variant", "n_refs", "cra", "vr", "vi", "crt"]
REF_KEYS = ["model", "slug", "kind", "variant", "n", "cra", "vr", "vi", "crt"]
SETTINGS = [
    {},                                                                     # the run's operating point
    {"clip_tau": 0.3, "clip_tau_dynamic": 0.55, "patch_tau": 0.4, "pooling": "all"},
    {"clip_tau": 0.62, "patch_tau": 0.75, "match": "same-position"},
    {"clip_tau": 0.0, "clip_tau_dynamic": 1.0, "patch_tau": 0.0, "pooling": "recognised"},
]


def _cli_rows(db: Path, by: str, s: dict) -> list[dict]:
    args = ["metrics", "--db", db, "--by", by, "--format", "json"]
    for k, v in s.items():
        args += ["--" + k.replace("_", "-"), v]
    r = _cli(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["rows"]


def _records(df) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


@pytest.fixture(scope="module")
def fine_grid_db(tmp_path_factory) -> Path:
    """16 x 16 cells: more reused cells per image than a byte holds."""
    from iconicity_core.testing import build_synthetic_db

    db = tmp_path_factory.mktemp("share_grid") / "grid.duckdb"
    build_synthetic_db(db, scale=0.01, seed=5, grid=(16, 16))
    return db


@pytest.mark.browser
@pytest.mark.parametrize("which", ["demo", "synthetic", "fine grid"])
def test_page_computes_what_iconicity_metrics_computes(which, request, browser, tmp_path):
    db = request.getfixturevalue({"demo": "demo_db", "synthetic": "ge_synthetic_db", "fine grid": "fine_grid_db"}[which])
    path = build_share(db, images="evidence" if which == "demo" else "none").write(tmp_path / "f.html")
    o = Opened(browser, path)
    res = iconicity_core.open(db)
    assert res.thresholds().rule == ("ge" if which == "synthetic" else "gt")
    for s in SETTINGS:
        page = o.call("modelTable", s)
        _same_rows(page, _cli_rows(db, "model", s), MODEL_KEYS)
        _same_rows(page, _records(res.metrics("model", **s)), MODEL_KEYS)
        _same_rows(o.call("referenceTable", s), _cli_rows(db, "reference", s), REF_KEYS)
    # filters, as the notebook API takes them
    models = res.metrics("model")["model"].unique()[:2].tolist()
    f = {"clip_tau": 0.5, "patch_tau": 0.55, "models": models, "kinds": ["static"], "variants": ["title"]}
    _same_rows(o.call("modelTable", f), _records(res.metrics("model", **f)), MODEL_KEYS)
    # the curves are Results.sweep() on the grid
    cv, sw = o.call("curves", {}), res.sweep()
    for m in sw["cra"]["model"].unique():
        want = sw["cra"][sw["cra"]["model"] == m].sort_values("tau")["cra"].to_numpy()
        np.testing.assert_allclose(np.array(cv["cra"][m], float), want, atol=1e-9)
        want = sw["vr"][sw["vr"]["model"] == m].sort_values("tau")["vr"].to_numpy()
        np.testing.assert_allclose(np.array(cv["vr"][m], float), want, atol=1e-9)
    assert o.page.locator("#badge").inner_text().startswith("✓")
    assert o.requests == []
    assert o.errors == []


@pytest.mark.browser
def test_correlations_are_the_analysis_modules(demo_db, browser, tmp_path):
    from iconicity_core.analysis.correlation import correlation_table

    path = build_share(demo_db, images="none").write(tmp_path / "f.html")
    o = Opened(browser, path)
    res = iconicity_core.open(demo_db)
    covs = ["demo_sitelinks", "demo_year", "title_zipf_mean"]
    for s in ({"clip_tau": 0.5, "patch_tau": 0.6}, {"clip_tau": 0.35, "patch_tau": 0.7, "pooling": "all"}):
        refs = res.metrics("reference", **s)
        refs = refs[refs["variant"] == "title"].merge(res.references()[["slug", *covs]], on="slug")
        want = correlation_table(refs, covs, n_resamples=9).set_index(["model", "metric", "covariate"])
        got = {(r["model"], r["metric"], r["covariate"]): r for r in o.call("correlations", s, "title")}
        for key, row in want.iterrows():                       # pooled and every model, ties included
            assert got[key]["rho"] == pytest.approx(row["rho"], abs=1e-9), key
            assert got[key]["n_refs"] == row["n_refs"]
        assert len(want) == 5 * 3 * len(covs)


@pytest.mark.browser
def test_correlation_cis_are_percentile_bootstraps_like_pythons(ge_synthetic_db, browser, tmp_path):
    """The page draws its own 199 seeded resamples, Python 999: equal up to resampling noise (77 references)."""
    from iconicity_core.analysis.correlation import correlation_table

    o = Opened(browser, build_share(ge_synthetic_db, images="none").write(tmp_path / "f.html"))
    res = iconicity_core.open(ge_synthetic_db)
    covs = res.references().select_dtypes("number").columns.drop(["n_ref_images", "n_ref_dropped"]).tolist()
    refs = res.metrics("reference")
    refs = refs[refs["variant"] == "title"].merge(res.references()[["slug", *covs]], on="slug")
    want = correlation_table(refs, covs).set_index(["model", "metric", "covariate"])
    got = o.call("correlations", {}, "title", True)
    assert got == o.call("correlations", {}, "title", True), "seeded: the same CIs every time"
    assert len(got) == len(want) > 0
    for r in got:
        w = want.loc[(r["model"], r["metric"], r["covariate"])]
        assert r["rho"] == pytest.approx(w["rho"], abs=1e-9)
        assert r["ci_low"] <= r["rho"] <= r["ci_high"]
        assert abs(r["ci_low"] - w["ci_low"]) < 0.08, (r, dict(w))
        assert abs(r["ci_high"] - w["ci_high"]) < 0.08, (r, dict(w))


@pytest.mark.browser
def test_moving_a_slider_recomputes_the_table_and_the_hash_restores_the_view(small_demo_db, browser, tmp_path):
    path = build_share(small_demo_db, images="evidence").write(tmp_path / "f.html")
    o = Opened(browser, path)
    pg = o.page
    before = pg.locator("#model-table").inner_text()
    pg.locator("#clip-tau").fill("0.3")                       # a range input: fill sets it and fires input
    pg.wait_for_function("(b) => document.querySelector('#model-table').innerText !== b", arg=before,
                         timeout=PATIENCE_MS)
    shown = pg.locator("#model-table").inner_text()
    first = o.call("modelTable", {"clip_tau": 0.3})
    first = next(r for r in first if r["kind"] == "all" and r["variant"] == "title")
    assert f"{first['cra']:.3f}" in shown
    pg.select_option("#pooling", "all")
    pg.select_option("#ref-select", "chelsea")
    pg.wait_for_function("() => location.hash.includes('ref=chelsea')", timeout=PATIENCE_MS)  # written as it settles
    url = pg.url
    assert "clip_tau=0.30" in url or "clip_tau=0.3" in url
    again = Opened(o.page.context.browser, path, "#" + url.split("#", 1)[1])
    st = again.call("state")
    assert st["clip_tau"] == pytest.approx(0.3)
    assert st["pooling"] == "all"
    assert st["ref"] == "chelsea"
    assert again.page.locator("#model-table").inner_text() == pg.locator("#model-table").inner_text()
    # the reference view draws its evidence with the cells at the current patch τ
    again.page.locator("#ref-body canvas").first.wait_for(timeout=PATIENCE_MS)
    assert o.errors == []
    assert again.errors == []
    assert o.requests == []


@pytest.mark.browser
def test_text_from_the_database_is_shown_as_text(small_demo_db, browser, tmp_path):
    db = tmp_path / "hostile.duckdb"
    shutil.copy(small_demo_db, db)
    model = '<img src=x onerror="window.__pwned=1">, & co'
    title = '</script><script>window.__pwned=2</script><b>bold</b>'
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE files SET model = ? WHERE model = 'noisy-mini'", [model])
        con.execute("UPDATE refs SET title = ? WHERE slug = 'chelsea'", [title])
    path = build_share(db, images="evidence").write(tmp_path / "f.html")
    o = Opened(browser, path, "#ref=chelsea")
    pg = o.page
    pg.locator("#ref-body canvas").first.wait_for(timeout=PATIENCE_MS)
    assert pg.evaluate("() => window.__pwned") is None
    assert model in pg.locator("#model-table").inner_text()
    assert title in pg.locator("#ref-body").inner_text()
    assert pg.locator("#model-table img, #ref-body b, #scatter img").count() == 0
    assert o.requests == []
    # the page's own data came through unchanged
    assert model in [r["model"] for r in o.call("modelTable", {})]
    # a filter on that name (it holds a comma) survives the address bar
    before = pg.evaluate("() => location.hash")
    pg.locator("#models input[value='painter-2']").uncheck()
    pg.wait_for_function("(b) => location.hash !== b", arg=before, timeout=PATIENCE_MS)   # written as it settles
    url = pg.url
    again = Opened(browser, path, "#" + url.split("#", 1)[1])
    assert sorted(again.call("state")["models"]) == sorted(["balanced-1.5", model, "replicator-xl"])
    assert again.page.locator("#notes").inner_text() == ""


@pytest.mark.browser
def test_filters_on_names_with_commas_and_reset(small_demo_db, browser, tmp_path):
    db = tmp_path / "commas.duckdb"
    shutil.copy(small_demo_db, db)
    with duckdb.connect(str(db)) as con:
        for old, new in (("balanced-1.5", "x"), ("replicator-xl", "y"), ("painter-2", "x,y")):
            con.execute("UPDATE files SET model = ? WHERE model = ?", [new, old])
    o = Opened(browser, build_share(db, images="none").write(tmp_path / "f.html"))
    assert {r["model"] for r in o.call("modelTable", {"models": ["x", "y"]})} == {"x", "y"}
    assert {r["model"] for r in o.call("modelTable", {"models": ["x,y"]})} == {"x,y"}   # not the cached x + y
    pg = o.page
    n_definitions = pg.locator("#definitions li").count()
    start = pg.locator("#model-table").inner_text()
    for _ in range(3):
        pg.locator("#clip-tau").fill("0.2")
        pg.locator("#reset").click()
    assert pg.locator("#definitions li").count() == n_definitions > 0        # set up once, not once per reset
    assert o.call("state")["clip_tau"] == pytest.approx(0.47)
    assert pg.locator("#model-table").inner_text() == start
    assert o.errors == []


@pytest.mark.browser
def test_a_malformed_address_is_ignored_with_a_note(small_demo_db, browser, tmp_path):
    path = build_share(small_demo_db, images="none").write(tmp_path / "f.html")
    o = Opened(browser, path, "#ref=%E0%A4%A&clip_tau=0.2&patch_tau=2&bogus=1&models=nobody&clip_tau_dynamic=")
    st = o.call("state")
    assert st["clip_tau"] == pytest.approx(0.2)
    assert st["patch_tau"] == pytest.approx(0.61)
    assert st["models"] == []
    assert st["clip_tau_dynamic"] == pytest.approx(0.47)                      # an empty value is not 0
    notes = o.page.locator("#notes").inner_text()
    assert "malformed" in notes
    assert "patch_tau=2" in notes
    assert "bogus" in notes
    assert "nobody" in notes
    assert "clip_tau_dynamic=" in notes
    assert o.errors == []


@pytest.mark.browser
def test_a_tampered_file_says_it_is_damaged(small_demo_db, browser, tmp_path):
    """Whatever was edited in the file's data — its JSON, a covariate's values, the grid, a number of the tables it
    checks itself against (for a model the starting view filters out too) — the page says so, never a blank page
    or a quiet wrong number."""
    from iconicity_core.config import Filters

    html = build_share(small_demo_db, images="none", filters=Filters(models=("painter-2",))).html
    block = re.search(rb'(<script type="application/json" id="iconicity-data">)(.*?)(</script>)', html, re.S)

    def tampered(edit) -> Path:
        data = block.group(2)
        if callable(edit):
            p = json.loads(data)
            edit(p)
            data = json.dumps(p).replace("<", "\\u003c").encode()
        else:
            data = edit
        path = tmp_path / f"t{len(list(tmp_path.iterdir()))}.html"
        path.write_bytes(html[:block.start(2)] + data + html[block.end(2):])
        return path

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def damaged(path: Path, says: str) -> str:
        page = browser.new_page()
        page.goto(path.as_uri())
        page.wait_for_function("() => document.documentElement.dataset.damaged || (window.iconicityExplorer && "
                               "window.iconicityExplorer.isReady)", timeout=PATIENCE_MS)
        try:                                                  # damage found while the views draw shows a moment later
            page.wait_for_function("(says) => ['#damaged', '#badge'].some((s) => { const e = document.querySelector(s);"
                                   " return e && e.innerText.includes(says); })", arg=says, timeout=30_000)
        except PlaywrightTimeout:
            pass                                              # the assertion below says what the page shows instead
        text = page.locator("#damaged").inner_text() if page.locator("#damaged").is_visible() else ""
        badge = page.locator("#badge").inner_text()
        page.close()
        return text + " | " + badge

    python_row = lambda p: p["python"]["checks"][0]["rows"][0].update(cra=0.123)
    cases = [(block.group(2)[:-40], "damaged"),                                         # malformed JSON
             (lambda p: p["refs"]["covariates"].pop(p["refs"]["covariate_names"][0]), "damaged"),
             (lambda p: p["grid"].update(taus=p["grid"]["taus"][:50]), "damaged"),
             (lambda p: p.update(blob=p["blob"][: len(p["blob"]) // 2]), "damaged"),
             (python_row, "differs from iconicity metrics")]
    assert json.loads(block.group(2))["python"]["checks"][0]["rows"][0]["model"] != "painter-2"
    for edit, says in cases:
        assert says in damaged(tampered(edit), says), says


def test_thumbnails_come_only_from_the_recorded_roots(small_demo_db, tmp_path):
    shared = build_share(small_demo_db, images="evidence", allowed_roots=[tmp_path / "elsewhere"])
    assert shared.summary["images"] == 0
    assert shared.summary["images_unreadable"] == shared.summary["images_wanted"]
    assert _payload(shared.html)["images"] == []


def test_payload_scores_decode_to_the_engine_arrays(small_demo_db):
    p = _payload(build_share(small_demo_db, images="none").html)
    eng = iconicity_core.open(small_demo_db).engine
    spec, blob = p["layout"]["clip"], base64.b64decode(p["blob"])
    clip = np.frombuffer(blob[spec["offset"]:spec["offset"] + spec["length"]], np.uint8)
    np.testing.assert_array_equal(clip, quantise(eng.a.clip, p["run"]["rule"], eng.a.dynamic[eng.a.slug]))
    assert p["n"] == eng.n
    assert p["models"] == eng.a.models


def test_export_page_share_starts_at_the_dashboards_view(app_db, small_demo_db, tmp_path, monkeypatch):
    from iconicity_core.config import Filters, Thresholds
    from iconicity_core.dashboard import cards
    from iconicity_core.dashboard.context import Context

    res = iconicity_core.open(small_demo_db)
    ctx = Context(small_demo_db, (0,), res.run_id, res.info, Thresholds(0.5234, 0.6, 0.618, "all", "gt", "any"),
                  Filters(models=("painter-2",), kinds=("static",)))
    monkeypatch.setattr(sys, "argv", ["app.py", "--allow-root", str(tmp_path / "nothing-here")])
    p = _payload(cards.share_page(ctx, "evidence", {"kind": "static", "variant": "description", "ref": "chelsea"}))
    keys = ("clip_tau", "clip_tau_dynamic", "patch_tau", "pooling", "models", "kinds", "kind", "variant", "ref")
    assert {k: p["start"][k] for k in keys} == {
        "clip_tau": 0.52, "clip_tau_dynamic": 0.6, "patch_tau": 0.62, "pooling": "all", "models": ["painter-2"],
        "kinds": ["static"], "kind": "static", "variant": "description", "ref": "chelsea"}
    assert p["images"] == [], "the dashboard's --allow-root fences the thumbnails too"
    at = pytest.importorskip("streamlit.testing.v1").AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert "findings explorer (HTML)" in [b.label for b in at.get("download_button")]
