"""What a person waits for in the dashboard, measured in a real browser (Debian's Chromium driven by
Playwright) against `streamlit run app.py -- --db FILE`:

* slider: releasing the sidebar "Recognition τ (static)" slider (dragged with the mouse) -> *table*: the
  first table of the main area (the Overview's per-model table) shows new values — read from the data
  grid's accessible table, so the new numbers are on screen — and *settled*: the Overview redrawn, table,
  scatter and bars (timed inside the page: pointerup to the last change of the main area, once it has been
  quiet for 0.8 s and nothing runs);
* pages: clicking a page in the sidebar -> its heading is shown and the page is quiet (no running
  indicator, no spinner, no DOM change in the main area for a second), timed to the last change;
* map: opening the Map page the first time (the projection of every CLIP vector is computed and
  stored beside the database), drawing a lasso (the browser's own redraws) and, from the mouse
  release, the selection's statistics and gallery; the gallery's "similar" button -> Find similar;
  the Map again; and the Map's first open on a fresh server when the projection is stored (as
  `iconicity map` leaves it), on the paper's shape with a 512-d CLIP vector per image;
* the floor: the same slider measurement on a one-slider, one-metric Streamlit app, in the same run.

Databases are synthetic, of the paper's shape (767 references x 5 models x 50 generations x 16 cells)
x SCALE, built with the project's own storage code (bench/synthetic_db.py).

    python bench/browser_latency.py                       # scales 1 and 10
    python bench/browser_latency.py --scales 1 --moves 5  # quick look
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = ["References", "Patch matches", "Thresholds", "Correlations", "Prompt variants", "Export", "Label",
         "Compare runs", "Overview"]
FLOOR_APP = '''import streamlit as st
v = st.sidebar.slider("Recognition τ (static)", 0.0, 1.0, 0.70, 0.01)
st.title("Overview")
st.dataframe({"value": [v]})
st.plotly_chart({"data": [{"type": "scatter", "x": [v], "y": [v]}]})
'''

UP = """() => { window.__up = null; window.__table = null;
  document.addEventListener('pointerup', () => { if (window.__up === null) window.__up = performance.now(); },
                            {capture: true, once: true});
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const values = () => { const t = main.querySelector('[data-testid="stDataFrame"] table');
                         return t ? t.innerText : null; };
  const before = values();
  const obs = new MutationObserver((ms) => {
    if (window.__up === null) return;
    for (const m of ms) {
      const n = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (n && n.closest('[data-testid="stDataFrame"]') && values() !== before) {
        window.__table = performance.now(); obs.disconnect(); return; } } });
  obs.observe(main, {subtree: true, childList: true, characterData: true}); }"""

QUIET = """() => {
  window.__q = {last: performance.now(), running: 0};
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  new MutationObserver(() => { window.__q.last = performance.now(); })
    .observe(main, {subtree: true, childList: true, characterData: true});
  setInterval(() => {
    if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSpinner"]'))
      window.__q.running = window.__q.last = performance.now();
  }, 10);
}"""


def start(app: Path, args: list[str], env: dict) -> tuple[str, subprocess.Popen]:
    from iconicity_core.testing import start_dashboard

    return start_dashboard(app, args, env, timeout_s=120)


def wait_quiet(page, quiet_ms: int = 1000, timeout_s: float = 120) -> float:
    """Wait until the main area has not changed for ``quiet_ms`` and nothing runs; returns the time
    (page clock) of its last change."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        q = page.evaluate("() => [window.__q.last, performance.now()]")
        if q[1] - q[0] > quiet_ms:
            return q[0]
        time.sleep(0.05)
    raise TimeoutError("the page did not settle")


def thumb(page, label: str):
    return page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').filter(has_text=label).locator(
        'input[type="range"]').locator("xpath=../..")


def slider_moves(page, label: str, n: int) -> tuple[list[float], list[float]]:
    """Drag the slider's thumb ``n`` times (alternately right and left); ms from the release to the main
    area's first table showing new values (NaN if a move changed none), and to its last change (every table,
    chart and sentence redrawn; nothing running)."""
    out, table = [], []
    for i in range(n):
        th = thumb(page, label)
        th.scroll_into_view_if_needed()
        page.evaluate(QUIET)
        page.evaluate(UP)
        box = th.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + (-30 if i % 2 else 30), y, steps=4)
        page.mouse.up()
        try:                      # the server may compute for longer than the quiet window with nothing drawn
            page.wait_for_function("() => window.__table !== null", timeout=120_000)
        except Exception:         # this move changed no value of the table: settled is then the quiet window's
            pass
        last = wait_quiet(page, 800)
        up, new_values = page.evaluate("() => [window.__up, window.__table]")
        out.append(last - up)
        table.append(new_values - up if new_values is not None else float("nan"))
    return table, out


def page_renders(page) -> dict[str, float]:
    out = {}
    for name in PAGES:
        link = page.locator('a[data-testid="stPageLink-NavLink"]').filter(has_text=name).first
        page.evaluate(QUIET)
        t0 = page.evaluate("() => performance.now()")
        link.click()
        page.locator("h1").filter(has_text=name).first.wait_for(timeout=180_000)
        out[name] = wait_quiet(page) - t0
    return out


def lasso(page, frac: tuple[float, float, float, float], before_release=None) -> float:
    """Draw a lasso (the Map's default drag mode) around a box given as fractions of the plot area;
    returns the page-clock time of the mouse release (``before_release`` runs just before it)."""
    plot = page.locator(".js-plotly-plot .nsewdrag").first
    box = plot.bounding_box()
    x0, y0, x1, y1 = (box["x"] + box["width"] * frac[0], box["y"] + box["height"] * frac[1],
                      box["x"] + box["width"] * frac[2], box["y"] + box["height"] * frac[3])
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)):
        page.mouse.move(x, y, steps=6)
    if before_release:
        before_release()
    t = page.evaluate("() => performance.now()")
    page.mouse.up()
    return t


def map_renders(page) -> dict[str, float]:
    """Open the Map (first time: its projection is computed and stored), select a region (lasso drawn,
    then from the mouse release to the selection's statistics and gallery), open Find similar from
    the gallery, and go back to the Map (now read from its sidecar)."""
    out = {}

    def timed(key: str, action, ready) -> None:
        page.evaluate(QUIET)
        t0 = page.evaluate("() => performance.now()")
        action()
        ready()
        out[key] = wait_quiet(page) - t0

    nav = page.locator('a[data-testid="stPageLink-NavLink"]')
    plot = lambda: page.locator(".js-plotly-plot .nsewdrag").first.wait_for(timeout=300_000)  # noqa: E731
    timed("map_first_open", lambda: nav.filter(has_text="Map").first.click(), plot)
    page.evaluate(QUIET)
    t0 = page.evaluate("() => performance.now()")
    released = lasso(page, (0.3, 0.3, 0.7, 0.7), lambda: page.evaluate(QUIET))
    out["lasso_drawing"] = released - t0                  # the browser redrawing the lasso as the mouse moves
    page.get_by_text("Selection:").first.wait_for(timeout=300_000)
    out["map_select"] = wait_quiet(page) - released       # release -> statistics and gallery shown
    timed("find_similar", lambda: page.get_by_role("button", name="similar").first.click(),
          lambda: page.locator("h1").filter(has_text="Find similar").first.wait_for(timeout=300_000))
    timed("map_again", lambda: nav.filter(has_text="Map").first.click(), plot)
    return out


def launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"])


def measure_map(pw, db: Path, env: dict) -> dict:
    """The Map on a fresh server: as a user first meets it (nothing stored: computed on open), then,
    on another fresh server, its first open when `iconicity map` has stored the projection."""
    for side in Path(str(db) + ".maps").glob("*.parquet"):
        side.unlink()
    out = {}
    for stored in (False, True):
        url, proc = start(ROOT / "app.py", ["--db", str(db)], env)
        try:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url + "/", wait_until="domcontentloaded")
            page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
            page.evaluate(QUIET)
            wait_quiet(page)
            if stored:
                page.evaluate(QUIET)
                t0 = page.evaluate("() => performance.now()")
                page.locator('a[data-testid="stPageLink-NavLink"][href="map"]').first.click()
                page.locator(".js-plotly-plot .nsewdrag").first.wait_for(timeout=300_000)
                out["map_first_open_stored"] = wait_quiet(page) - t0
            else:
                out |= map_renders(page)
            browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    return {k: round(v) for k, v in out.items()}


def measure_app(pw, app: Path, args: list[str], env: dict, moves: int, pages: bool) -> dict:
    url, proc = start(app, args, env)
    try:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url + "/", wait_until="domcontentloaded")
        page.evaluate("() => 0")
        page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
        page.evaluate(QUIET)
        first = wait_quiet(page)
        out = {"first_load_ms": round(first)}
        table_ms, moves_ms = slider_moves(page, "Recognition τ (static)", moves)
        changed = [t for t in table_ms if t == t]                  # moves that changed the table's values
        out |= {"slider_table_median_ms": round(statistics.median(changed)) if changed else None,
                "slider_table_moves": len(changed),
                "slider_median_ms": round(statistics.median(moves_ms)), "slider_max_ms": round(max(moves_ms))}
        if pages:
            out["pages_ms"] = {k: round(v) for k, v in page_renders(page).items()}
        browser.close()
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    from playwright.sync_api import sync_playwright

    from iconicity_core.testing import build_synthetic_db

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,10", help="comma-separated scales of the paper's shape")
    ap.add_argument("--moves", type=int, default=10, help="slider moves per app")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the synthetic databases here")
    ap.add_argument("--no-map", dest="map", action="store_false",
                    help="skip the Map / Find similar measurements (they need a database with every CLIP vector)")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="iconicity-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ICONICITY_DATA": str(work / "data"), "PYTHONUNBUFFERED": "1"}
    floor = work / "floor_app.py"
    floor.write_text(FLOOR_APP)
    rows, maps = [], None
    with sync_playwright() as pw:
        rows.append({"app": "floor (one slider, one metric)", **measure_app(pw, floor, [], env, args.moves, False)})
        print(json.dumps(rows[-1]), flush=True)
        for scale in [float(s) for s in args.scales.split(",")]:
            db = work / f"paper_x{scale:g}.duckdb"
            if not db.exists():
                t = time.perf_counter()
                info = build_synthetic_db(db, scale)
                print(json.dumps({"built": str(db), **info, "build_s": round(time.perf_counter() - t, 1)}), flush=True)
            rows.append({"app": f"paper x{scale:g}", **measure_app(pw, ROOT / "app.py", ["--db", str(db)], env,
                                                                   args.moves, True)})
            print(json.dumps(rows[-1]), flush=True)
        if args.map:
            db = work / "paper_map_x1.duckdb"
            if not db.exists():
                info = build_synthetic_db(db, 1.0, clip_dim=512)
                print(json.dumps({"built": str(db), **info}), flush=True)
            maps = {"app": "paper x1 + CLIP vectors: Map", **measure_map(pw, db, env)}
            print(json.dumps(maps), flush=True)
    print()
    print(f"{'app':<32}{'first load':>12}{'table med':>12}{'settled med':>12}{'settled max':>12}  "
          + "  ".join(f"{p[:12]:>12}" for p in PAGES))
    for r in rows:
        pages = r.get("pages_ms", {})
        print(f"{r['app']:<32}{r['first_load_ms']:>10}ms{r['slider_table_median_ms']!s:>10}ms"
              f"{r['slider_median_ms']:>10}ms{r['slider_max_ms']:>10}ms  "
              + "  ".join(f"{pages.get(p, ''):>10}{'ms' if p in pages else '  '}" for p in PAGES))
    if maps:
        print("\n" + maps.pop("app") + ": " + ", ".join(f"{k} {v} ms" for k, v in maps.items()))


if __name__ == "__main__":
    main()
