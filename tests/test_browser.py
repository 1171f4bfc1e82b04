"""End to end in a real headless browser: `streamlit run app.py` on a free port, driven by Playwright
through Debian's chromium."""
from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path

import pytest
from helpers import CHROMIUM

from iconicity_core.testing import open_page

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


def _serve(env: dict, *app_args: str):
    """Start `streamlit run app.py` on a free port; yield its URL; stop it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from iconicity_core.testing import start_dashboard

    url, proc = start_dashboard(ROOT / "app.py", list(app_args), env, timeout_s=240)
    yield url
    proc.terminate()
    proc.wait(10)


#: How long a condition may take on a loaded machine before the test fails (it returns as soon as it holds).
PATIENCE_MS = 240_000
#: The live views have their data and have drawn.
READY = "() => window.iconicityExplorer && window.iconicityExplorer.isReady && window.iconicityExplorer.views.overview"


def settled(page) -> None:
    """Wait until Streamlit has finished the current run: its running indicator is gone (it shows after a
    short delay, so callers first wait for something of the new run to appear)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PATIENCE_MS)


def at_least(page, selector: str, n: int) -> None:
    """Wait until ``selector`` matches at least ``n`` elements (a page may still be drawing when a test looks)."""
    page.wait_for_function("([s, n]) => document.querySelectorAll(s).length >= n", arg=[selector, n],
                           timeout=PATIENCE_MS)


def press_shortcut(page, key: str, saved) -> None:
    """Press a Label page shortcut and wait until the page has moved on to the next image.

    Streamlit binds a shortcut to the button it has just drawn, and on a loaded CI machine one press changed
    nothing for 240 s (the page idle, the heading the same). So a press that changed nothing — the page settled,
    the heading unchanged, nothing saved (``saved()`` counts the sidecar's rows) — is pressed again; a press that
    was taken is never repeated, so no label is written twice."""
    settled(page)
    heading = page.get_by_text("labelled this session").first.inner_text()
    moved_on = "(t) => !document.body.innerText.includes(t)"
    n_saved = saved()
    for _ in range(5):
        page.keyboard.press(key)
        try:
            page.wait_for_function(moved_on, arg=heading, timeout=20_000)
            return
        except Exception:
            settled(page)
            if saved() != n_saved or page.evaluate(moved_on, heading):
                page.wait_for_function(moved_on, arg=heading, timeout=PATIENCE_MS)   # taken, only slow
                return
    raise AssertionError(f"the shortcut {key!r} never moved the Label page on from {heading!r}")


def _chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"])


@pytest.fixture
def server(demo_db):
    yield from _serve({"ICONICITY_DB": str(demo_db)})


def test_overview_and_patch_matches_in_chromium(server, demo_db, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        # a deep link as the very first request to a fresh server (Streamlit then serves pages/ directly)
        page.goto(server + "/patches?ref=chelsea", wait_until="domcontentloaded")
        page.get_by_text("Same-position similarity", exact=True).first.wait_for(timeout=PATIENCE_MS)
        page.get_by_text("cells reused").first.wait_for(timeout=PATIENCE_MS)
        page.get_by_text("Recognition τ (static)").first.wait_for(timeout=PATIENCE_MS)   # the shared sidebar too
        settled(page)
        at_least(page, "img", 2)
        assert "Traceback" not in page.locator("body").text_content()
        page.screenshot(path=str(tmp_path / "patches.png"), full_page=True)

        # Markdown in a URL value is shown literally: no link to click, no remote image fetched
        evil = "[Session expired - log in](http://evil.invalid/) ![x](http://evil.invalid/p.png)"
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if urllib.parse.urlsplit(r.url).hostname == "evil.invalid"
                else None)
        page.goto(server + "/?ref=" + urllib.parse.quote(evil), wait_until="domcontentloaded")
        page.get_by_text("ignored unknown reference").first.wait_for(timeout=PATIENCE_MS)
        assert page.locator('a[href*="evil.invalid"]').count() == 0
        assert page.locator('img[src*="evil.invalid"]').count() == 0
        assert not fetched
        assert "[Session expired - log in](http://evil.invalid/)" in page.locator("body").text_content()

        page.goto(server + "/?clip_tau=0.60", wait_until="domcontentloaded")
        page.wait_for_function(READY, timeout=PATIENCE_MS)
        for model in ("replicator-xl", "painter-2", "balanced-1.5", "noisy-mini"):
            page.locator("#model-table").get_by_text(model).first.wait_for(timeout=PATIENCE_MS)
        at_least(page, 'a[data-testid="stTopNavLink"][href$="/patches"]', 1)      # the pages, along the top
        settled(page)
        body = page.locator("body").text_content()
        assert "Traceback" not in body
        assert "Exception" not in body
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

        # clicking a point of the plane opens that reference
        target = page.evaluate("() => window.iconicityExplorer.planePoints()")[0]
        near = {p["title"] for p in page.evaluate("() => window.iconicityExplorer.planePoints()")
                if abs(p["x"] - target["x"]) < 8 and abs(p["y"] - target["y"]) < 8}
        page.mouse.click(target["x"], target["y"])
        page.wait_for_url("**/references?*ref=*", timeout=PATIENCE_MS)
        slug = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["ref"][0]
        page.get_by_text("Reference images").first.wait_for(timeout=PATIENCE_MS)
        import iconicity_core
        refs = iconicity_core.open(demo_db).references()
        assert set(refs[refs["slug"] == slug]["title"]) & near, (slug, near)

        # a chart's ⤓ HTML is built when clicked (not on every rerun) and is the whole chart, offline
        open_page(page, "Thresholds")
        with page.expect_download(timeout=PATIENCE_MS) as download:
            page.get_by_role("button", name="⤓ HTML").first.click(timeout=PATIENCE_MS)
        chart_html = Path(download.value.path()).read_text(encoding="utf-8")
        assert download.value.suggested_filename.endswith(".html")
        assert "Plotly.newPlot" in chart_html
        assert "ROC" in chart_html
        assert "<script src=" not in chart_html

        # the first screen at 1280x720 shows the point: the thresholds, the recognition x realization plane and the
        # per-model table with the sentence that reads it
        small = browser.new_page(viewport={"width": 1280, "height": 720})
        small.goto(server + "/", wait_until="domcontentloaded")
        small.wait_for_function(READY, timeout=PATIENCE_MS)
        small.get_by_text("reinterprets most").first.wait_for(timeout=PATIENCE_MS)
        settled(small)
        for name in ("#scatter canvas", "#model-table", "#clip-tau", "#clip-tau-dynamic", "#patch-tau"):
            box = small.locator(name).first.bounding_box()
            assert box, (name, box)
            assert box["y"] >= 0, (name, box)
            assert box["y"] + box["height"] <= 720, (name, box)
        browser.close()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
    shot_dir = os.environ.get("ICONICITY_SCREENSHOTS")
    if shot_dir:
        for name in ("overview.png", "patches.png"):
            shutil.copy(tmp_path / name, Path(shot_dir) / name)


@pytest.fixture
def labelled_server(small_demo_db, tmp_path):
    """A server on a private copy of the small demo (this test writes its labels sidecar)."""
    db = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, db)
    for url in _serve({"ICONICITY_DATA": str(tmp_path / "data")}, "--db", str(db)):
        yield url, db


def test_map_selection_shows_its_images_and_labelling_writes_only_the_sidecar(labelled_server):
    import hashlib

    from playwright.sync_api import sync_playwright

    from iconicity_core.io import labels

    url, db = labelled_server
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_function(READY, timeout=PATIENCE_MS)
        settled(page)
        open_page(page, "Map")
        plot = page.locator(".js-plotly-plot .nsewdrag").first
        plot.wait_for(timeout=PATIENCE_MS)
        settled(page)
        box = plot.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 2)                      # a lasso around the whole plot
        page.mouse.down()
        for fx, fy in ((0.995, 0.005), (0.995, 0.995), (0.005, 0.995), (0.005, 0.01)):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=6)
        page.mouse.up()
        page.get_by_text("Selection:").first.wait_for(timeout=PATIENCE_MS)
        try:                                                             # every generated image of the small demo
            page.get_by_text("320 generated").first.wait_for(timeout=PATIENCE_MS)
        except Exception:
            raise AssertionError(page.get_by_text("Selection:").first.inner_text()) from None
        page.get_by_role("button", name="similar").first.wait_for(timeout=PATIENCE_MS)
        at_least(page, '[data-testid="stImage"] img', 24)                    # the selection's gallery is drawn
        page.get_by_text("more.").first.wait_for(timeout=PATIENCE_MS)         # … and the rest are counted

        open_page(page, "Label")
        page.get_by_role("button", name="replica (1)").wait_for(timeout=PATIENCE_MS)
        for key in ("1", "4", "S", "2"):                                  # keyboard shortcuts
            press_shortcut(page, key, lambda: len(labels.rows(db)))
        browser.close()
    rows = labels.rows(db)
    assert [r["label"] for r in rows] == ["replica", "miss", "partial"]  # the skip is not a label
    assert all(r["file_id"] and r["image"].startswith("generations/") and r["when"] for r in rows)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before          # the scores database is untouched
