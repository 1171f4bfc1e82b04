"""The dashboard's live views in Chromium (`streamlit run app.py`, Playwright): their numbers are the CLI's, a
slider moves them in the browser and then the address and the Python-drawn pages, a deep link opens at its
thresholds, and the rerun that tells Python changes nothing on screen."""
from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from helpers import cli

from iconicity_core.testing import open_page, start_dashboard

ROOT = Path(__file__).resolve().parents[1]
PATIENCE_MS = 240_000
pytestmark = pytest.mark.browser
FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
READY = "() => window.iconicityExplorer && window.iconicityExplorer.isReady && window.iconicityExplorer.views.overview"
SETTINGS = [
    {},
    {"clip_tau": 0.3, "clip_tau_dynamic": 0.55, "patch_tau": 0.4, "pooling": "all"},
    {"clip_tau": 0.62, "patch_tau": 0.75, "match": "same-position"},
    {"clip_tau": 0.45, "patch_tau": 0.5, "kinds": ["static"], "pooling": "all", "match": "same-position"},
]


def serve(db: Path, tmp_path: Path):
    url, proc = start_dashboard(ROOT / "app.py", ["--db", str(db)], {"ICONICITY_DATA": str(tmp_path / "data")},
                                timeout_s=240)
    return url, proc


def opened(browser, url: str, errors: list):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(READY, timeout=PATIENCE_MS)
    page.locator("#model-table tbody tr").first.wait_for(timeout=PATIENCE_MS)
    return page


def cli_rows(db: Path, by: str, s: dict) -> list[dict]:
    """`iconicity metrics --format json` rows (filters, which the CLI has not, through the notebook API — the same
    table, tests/test_api.py)."""
    if any(isinstance(v, list) for v in s.values()):
        import iconicity_core

        return json.loads(iconicity_core.open(db).metrics(by, **s).to_json(orient="records"))
    args = ["metrics", "--db", db, "--by", by, "--format", "json"]
    for k, v in s.items():
        args += ["--" + k.replace("_", "-"), v]
    return json.loads(cli(*args))["rows"]


def same(page_rows: list[dict], want: list[dict]) -> None:
    keys = [k for k in want[0] if k not in ("pooling", "match")] if want else []
    assert len(page_rows) == len(want) > 0
    for g, w in zip(page_rows, want, strict=True):
        for k in keys:
            if isinstance(w[k], float) or isinstance(g[k], float):
                assert (w[k] is None) == (g[k] is None), (k, g, w)
                assert w[k] is None or abs(g[k] - w[k]) <= 1e-9, (k, g, w)
            else:
                assert g[k] == w[k], (k, g, w)


@pytest.mark.parametrize("which", ["demo", "synthetic under >="])
def test_live_tables_are_iconicity_metrics(which, request, browser, tmp_path):
    db = request.getfixturevalue("small_demo_db" if which == "demo" else "ge_synthetic_db")
    url, proc = serve(db, tmp_path)
    errors: list = []
    try:
        page = opened(browser, url + "/", errors)
        call = lambda fn, s: page.evaluate(f"(s) => window.iconicityExplorer.{fn}(s)", s)
        for s in SETTINGS:
            same(call("modelTable", s), cli_rows(db, "model", s))
            same(call("referenceTable", s), cli_rows(db, "reference", s))
        assert errors == []
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_slider_moves_the_views_then_the_address_and_the_python_pages(small_demo_db, browser, tmp_path):
    url, proc = serve(small_demo_db, tmp_path)
    errors: list = []
    try:
        page = opened(browser, url + "/", errors)
        table, plane = page.locator("#model-table"), page.locator("#scatter canvas")
        before = table.inner_text()
        slider = page.locator("#clip-tau")
        box = slider.bounding_box()
        assert box["y"] + box["height"] <= 720, "the thresholds are on the first screen"
        page.mouse.move(box["x"] + box["width"] * 0.47, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=6)
        moved = table.inner_text()
        assert moved != before, "the table follows the slider while it moves, before any server round trip"
        page.evaluate(FRAMES)                                          # the last move's paint is done
        paints, renders = plane.get_attribute("data-paints"), table.get_attribute("data-renders")
        calls = page.evaluate("() => window.iconicityExplorer.fromPython()")
        page.mouse.up()
        page.wait_for_function("() => { const v = new URL(location.href).searchParams.get('clip_tau');"
                               "  return v !== null && v !== '0.47'; }", timeout=PATIENCE_MS)
        value = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["clip_tau"][0]
        assert float(value) == pytest.approx(float(slider.input_value()))
        # the table shows the numbers of the released state
        state = page.evaluate("() => window.iconicityExplorer.state()")
        assert state["clip_tau"] == pytest.approx(float(value))
        want = [r for r in page.evaluate("(s) => window.iconicityExplorer.modelTable(s)", state)
                if r["kind"] == page.locator("#scope-kind").input_value()
                and r["variant"] == page.locator("#scope-variant").input_value()]
        shown = page.locator("#model-table tbody tr").all_inner_texts()
        assert [float(s.split("\t")[2]) for s in shown] == pytest.approx([round(r["cra"], 3) for r in want], abs=6e-4)
        # the rerun that told Python reached the browser and drew nothing again: the same canvas, painted as
        # often, the same table
        page.wait_for_function(f"() => window.iconicityExplorer.fromPython() > {calls}", timeout=PATIENCE_MS)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PATIENCE_MS)
        page.evaluate(FRAMES)
        assert plane.get_attribute("data-paints") == paints
        assert table.get_attribute("data-renders") == renders
        assert table.inner_text() == moved
        # the next Python-drawn page reads the released value
        open_page(page, "References")
        page.get_by_text("Settings —").filter(has_text=f"> {value}").first.wait_for(timeout=PATIENCE_MS)
        settings = page.get_by_text("Settings —").first.inner_text()
        assert f"> {value}" in settings, settings
        assert errors == []
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_deep_link_opens_at_its_thresholds(small_demo_db, browser, tmp_path):
    url, proc = serve(small_demo_db, tmp_path)
    errors: list = []
    try:
        page = opened(browser, url + "/?clip_tau=0.33&clip_tau_dynamic=0.52&patch_tau=0.5&pooling=all&kind=static", errors)
        assert float(page.locator("#clip-tau").input_value()) == 0.33
        assert float(page.locator("#patch-tau").input_value()) == 0.5
        assert page.locator("#pooling").input_value() == "all"
        assert page.locator("#scope-kind").input_value() == "static"
        rows = page.evaluate("(s) => window.iconicityExplorer.modelTable(s)",
                             {"clip_tau": 0.33, "clip_tau_dynamic": 0.52, "patch_tau": 0.5, "pooling": "all"})
        shown = page.locator("#model-table tbody tr").all_inner_texts()
        static = [r for r in rows if r["kind"] == "static" and r["variant"] == "title"]
        assert [s.split("\t")[0].strip() for s in shown] == [r["model"] for r in static]
        assert [float(s.split("\t")[2]) for s in shown] == pytest.approx([round(r["cra"], 3) for r in static], abs=6e-4)
        assert page.evaluate("() => window.iconicityExplorer.state()")["clip_tau"] == 0.33
        assert errors == []
    finally:
        proc.terminate()
        proc.wait(10)
