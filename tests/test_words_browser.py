"""Every word on screen is true and whole, in Chromium at 1280x720 on the demo: on every page and in the shared
file no text is cut off, no header, axis or legend title is one of the project's own column names, no cell says
"None", the thresholds are on the first screen, and the sentence that reads the Overview names the models the
table shows."""
from __future__ import annotations

from pathlib import Path

import pytest

from iconicity_core.dashboard.registry import PAGES
from iconicity_core.display import COLUMN_LABELS
from iconicity_core.testing import open_page, start_dashboard

ROOT = Path(__file__).resolve().parents[1]
PATIENCE_MS = 240_000
pytestmark = pytest.mark.browser
#: Identifiers that must never reach a reader as a header or a title (their words are in COLUMN_LABELS).
RAW = sorted({k for k, v in COLUMN_LABELS.items() if (k != v and "_" in k) or k in ("cra", "vr", "vi", "crt", "slug", "n")})

# Elements whose text is cut off (wider than their box, where the box clips or ends it with an ellipsis), in the
# page and in the live views' shadow roots; and every header / axis / legend title.
INSPECT = """() => {
  const roots = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot)];
  const all = (sel) => roots.flatMap(r => [...r.querySelectorAll(sel)]);
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const cut = [];
  for (const e of all('button, h1, h2, h3, h4, label, summary, th, td, figcaption, p, span, a, [role=tab], [data-testid=stMetricLabel]')) {
    if (!shown(e) || !e.innerText || !e.innerText.trim()) continue;
    const s = getComputedStyle(e);
    const clips = s.overflowX === 'hidden' || s.overflowX === 'clip' || s.textOverflow === 'ellipsis';
    const own = ['BUTTON', 'H1', 'H2', 'H3', 'H4'].includes(e.tagName);
    if ((clips || own) && s.display !== 'inline' && e.scrollWidth > e.clientWidth + 1)
      cut.push(e.tagName + ': ' + e.innerText.trim().slice(0, 60));
  }
  const titles = all('[role=columnheader], th, .xtitle, .ytitle, .gtitle, .legendtitletext, .cbtitle, .plot-title, legend')
    .filter(shown).map(e => e.textContent.trim()).filter(Boolean);
  const cells = all('[role=gridcell], td').filter(shown).map(e => e.textContent.trim());
  return {cut, titles, none: cells.filter(t => t === 'None' || t === 'nan').length};
}"""


def check_words(page, where: str) -> None:
    got = page.evaluate(INSPECT)
    assert got["cut"] == [], (where, got["cut"])
    raw = sorted({t for t in got["titles"] if t in RAW})
    assert raw == [], (where, raw)
    assert got["none"] == 0, where


FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
DRAWN = """() => !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')
  && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(e => e.getClientRects().length > 0)
       .every(e => e.querySelector('.main-svg'))"""


def settle(page) -> None:
    """Streamlit's run has ended and every chart and table on the page has drawn (a table draws its header when
    it is scrolled into view)."""
    page.wait_for_function(DRAWN, timeout=PATIENCE_MS)
    page.evaluate(FRAMES)
    page.wait_for_function(DRAWN, timeout=PATIENCE_MS)          # a run that started in those frames has ended too
    for table in page.locator('[data-testid="stDataFrame"]').all():
        if table.is_visible():
            table.scroll_into_view_if_needed()
            table.locator("[role=columnheader]").first.wait_for(state="attached", timeout=PATIENCE_MS)


def test_every_page_at_1280x720(small_demo_db, browser, tmp_path):
    url, proc = start_dashboard(ROOT / "app.py", ["--db", str(small_demo_db)], {"ICONICITY_DATA": str(tmp_path)},
                                timeout_s=240)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.views.overview",
                               timeout=PATIENCE_MS)
        settle(page)
        for sel in ("#clip-tau", "#clip-tau-dynamic", "#patch-tau", "#pooling", "#match"):
            box = page.locator(sel).bounding_box()
            assert box, (sel, box)
            assert 0 <= box["y"], (sel, box)
            assert box["y"] + box["height"] <= 720, (sel, box)
        for _, title, _ in PAGES:
            open_page(page, title)
            page.locator("h1").filter(has_text=title).first.wait_for(timeout=PATIENCE_MS)
            settle(page)
            check_words(page, title)
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_shared_file_at_1280x720(small_demo_db, browser, tmp_path):
    from iconicity_core.share import build_share

    path = build_share(small_demo_db, images="evidence").write(tmp_path / "f.html")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(path.as_uri() + "#ref=chelsea")
    page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady", timeout=PATIENCE_MS)
    page.locator("#model-table tbody tr").first.wait_for(timeout=PATIENCE_MS)
    page.evaluate(FRAMES)
    check_words(page, "shared file")
    for sel in ("#clip-tau", "#patch-tau"):
        assert page.locator(sel).bounding_box()["y"] < 720


@pytest.mark.parametrize("host", ["dashboard", "shared file"])
def test_the_reading_names_the_models_the_table_shows(host, small_demo_db, browser, tmp_path):
    """At three thresholds other than the start: the model said to replicate most has the highest VR of the
    recognised ones, the one said to reinterpret most the lowest."""
    proc = None
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    if host == "dashboard":
        url, proc = start_dashboard(ROOT / "app.py", ["--db", str(small_demo_db)], {"ICONICITY_DATA": str(tmp_path)},
                                    timeout_s=240)
        page.goto(url + "/", wait_until="domcontentloaded")
    else:
        from iconicity_core.share import build_share

        page.goto(build_share(small_demo_db, images="none").write(tmp_path / "f.html").as_uri())
    try:
        page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady", timeout=PATIENCE_MS)
        page.locator("#model-table tbody tr").first.wait_for(timeout=PATIENCE_MS)
        for tau in ("0.35", "0.55", "0.75"):
            page.locator("#clip-tau").fill(tau)
            page.wait_for_function(f"() => window.iconicityExplorer.state().clip_tau === {tau}", timeout=PATIENCE_MS)
            rows = [r.split("\t") for r in page.locator("#model-table tbody tr").all_inner_texts()]
            table = {r[0].strip(): (float(r[2]), float(r[3]) if r[3].strip() != "–" else None) for r in rows}
            text = page.locator("#reading").inner_text()
            recognised = {m: v for m, (cra, v) in table.items() if cra > 0 and v is not None}
            if not recognised:
                assert text.startswith("Nothing is recognised"), text
            elif len(recognised) == 1:
                assert text.startswith("Only " + next(iter(recognised))), text
            else:
                most, least = max(recognised, key=recognised.get), min(recognised, key=recognised.get)
                assert f"{most} replicates most" in text, (tau, text, table)
                assert text.startswith(f"{least} reinterprets most"), (tau, text, table)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
