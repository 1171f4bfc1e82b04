"""What a person waits for, measured in a real browser (Debian's Chromium driven by Playwright), on databases of the
paper's shape (767 references x 5 models x 50 generations x 16 cells) x SCALE built with the project's own storage
code (bench/synthetic_db.py). Three apps in the same run, moved the same way (the mouse drags a slider's thumb):

* the floor: a one-slider Streamlit app that redraws one table and one chart — what any page whose numbers are
  computed on the server pays for a round trip;
* the dashboard (`streamlit run app.py -- --db FILE`): its Overview's per-model table `#model-table`;
* the shared file (`iconicity share`, opened from file://): the same table, the same engine.

*value -> numbers*: from the moment the slider holds its new value (the last `input` event of a drag for the live
views, which compute as the thumb moves; the pointer's release for the floor, whose slider sends its value then)
to the first frame after the table shows the new numbers. *release -> settled* (dashboard): from the release to
the end of the run that tells Python the value (the address, the session and the Python-drawn pages follow); the
live views must not redraw then (counted). Pages: a click on a page in the navigation to its heading shown and the
page quiet (nothing changing in the page or in the live views for a second, nothing running). Four sessions: four
browsers on one server dragging at once. Memory: the browser's JavaScript heap once the Overview is up.

    python bench/browser_latency.py                              # scales 1 and 10
    python bench/browser_latency.py --scales 1 --moves 5          # a quick look
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = ["References", "Patch matches", "Thresholds", "Correlations", "Map", "Prompt variants", "Compare runs", "Label",
         "Export", "Overview"]
FLOOR_APP = '''import streamlit as st
v = st.sidebar.slider("Recognition τ (static)", 0.0, 1.0, 0.70, 0.01)
st.title("Overview")
st.dataframe({"value": [v]})
st.plotly_chart({"data": [{"type": "scatter", "x": [v], "y": [v]}]})
'''

# Finds the slider and the table (in the page, or in a live view's shadow root) and timestamps, for each drag: the
# slider's last value change, the pointer's release, the table's last change and the frame after it.
PROBE = """(floor) => {
  const roots = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot)];
  const find = (sel) => { for (const r of roots) { const x = r.querySelector(sel); if (x) return x; } return null; };
  const slider = floor ? null : find('#clip-tau');
  const table = floor ? document.querySelector('[data-testid="stMain"] [data-testid="stDataFrame"]') : find('#model-table');
  const text = () => floor ? ((table.querySelector('table') || table).innerText) : table.innerText;
  const P = window.__probe = {input: null, up: null, change: null, frame: null, renders: 0, last: text()};
  if (slider) slider.addEventListener('input', (e) => { P.input = e.timeStamp; }, true);   // when the value changed
  window.addEventListener('pointerup', () => { P.up = performance.now(); }, true);
  new MutationObserver(() => {
    const t = text();
    if (t === P.last) return;
    P.last = t; P.renders += 1; P.change = performance.now();
    requestAnimationFrame(() => { P.frame = performance.now(); });
  }).observe(table, {subtree: true, childList: true, characterData: true});
  return Boolean(table) && (floor || Boolean(slider)); }"""

QUIET = """() => {
  window.__q = {last: performance.now()};
  const touch = (ms) => {                      // a progressive table's late CIs are not the page drawing
    if (ms && ms.length && ms.every((m) => { const n = m.target.nodeType === 1 ? m.target : m.target.parentNode;
                                             return n && n.closest && n.closest('[data-progressive]'); })) return;
    window.__q.last = performance.now(); };
  const opts = {subtree: true, childList: true, characterData: true, attributes: true};
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  new MutationObserver(touch).observe(main, opts);
  const watched = new WeakSet();
  const shadows = () => document.querySelectorAll('[data-testid="stBidiComponentIsolated"]').forEach((h) => {
    const r = h.shadowRoot;                    // the live views' roots
    if (r && !watched.has(r)) { watched.add(r); new MutationObserver(touch).observe(r, opts); } });
  shadows();
  window.__q.timer = setInterval(() => {
    shadows();
    if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSpinner"]')) touch();
  }, 10);
}"""


def wait_quiet(page, quiet_ms: int = 1000, timeout_s: float = 300) -> float:
    """Wait until nothing in the page or its live views changed for ``quiet_ms`` and nothing runs; returns the time
    (page clock) of the last change."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        q = page.evaluate("() => [window.__q.last, performance.now()]")
        if q[1] - q[0] > quiet_ms:
            return q[0]
        time.sleep(0.05)
    raise TimeoutError("the page did not settle")


def machine() -> str:
    """The machine in words, for the recorded results: cores and the browser's version."""
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip() or "Chromium"
    return f"{os.cpu_count()} CPU cores; {version} headless, Playwright"


def launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--enable-precise-memory-info"])


def slider(page, floor: bool) -> tuple[dict, float]:
    """The slider's box and value."""
    if floor:
        s = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
        box = s.locator("xpath=../../..").bounding_box()                # the track holding Streamlit's thumb
        return box, float(s.get_attribute("aria-valuenow") or s.input_value())
    s = page.locator("#clip-tau")
    return s.bounding_box(), float(s.input_value())


def thumb_x(box: dict, value: float, floor: bool) -> float:
    """Where the thumb of ``value`` sits (a range input's thumb is 16 px wide; Streamlit's spans the track)."""
    inset = 0 if floor else 8
    return box["x"] + inset + (box["width"] - 2 * inset) * value


def targets(n: int) -> list[float]:
    """``n`` values in 0.25 .. 0.85 on the 0.01 grid, each new (a value the page has computed before is
    remembered, and a user's next value usually is not), alternately high and low."""
    out: list[float] = []
    for i in range(n):
        v = round(0.25 + (0.6 * ((i * 0.382) % 1.0)), 2)
        while v in out:
            v = round(v + 0.01, 2)
        out.append(v)
    return out


def drags(page, n: int, floor: bool) -> dict:
    """``n`` drags of the static recognition slider, each to a value it has not held; per drag: value -> numbers
    on screen, and (dashboard) release -> settled and the live table's redraws during the settling."""
    numbers, settled, redraws = [], [], []
    for target in targets(n):
        ok = page.evaluate(PROBE, floor)
        assert ok, "slider or table not found"
        page.evaluate(QUIET)
        box, v = slider(page, floor)
        y = box["y"] + box["height"] / 2
        page.mouse.move(thumb_x(box, v, floor), y)
        page.mouse.down()
        page.mouse.move(thumb_x(box, target, floor), y, steps=5)
        page.mouse.up()
        try:
            page.wait_for_function("() => window.__probe.frame !== null", timeout=120_000)
        except Exception:                                              # the drag changed no number: not counted
            continue
        before = page.evaluate("() => window.__probe.renders")
        last = wait_quiet(page, 800)
        p = page.evaluate("() => window.__probe")
        start = p["up"] if floor else p["input"]
        numbers.append(p["frame"] - start)
        settled.append(last - p["up"])
        redraws.append(p["renders"] - before)
    med = lambda xs: round(statistics.median(xs)) if xs else None
    return {"value_to_numbers_median_ms": med(numbers), "value_to_numbers_max_ms": round(max(numbers)) if numbers else None,
            "moves_counted": len(numbers),
            "release_to_settled_median_ms": med(settled), "redraws_while_settling": sum(redraws)}


def page_renders(page) -> dict[str, float]:
    from iconicity_core.testing import open_page

    out = {}
    for name in PAGES:
        page.evaluate(QUIET)
        t0 = page.evaluate("() => performance.now()")
        open_page(page, name)
        page.locator("h1").filter(has_text=name).first.wait_for(timeout=300_000)
        if name in ("Overview", "Thresholds", "Correlations"):
            page.wait_for_function("(v) => window.iconicityExplorer && window.iconicityExplorer.views[v]",
                                   arg=name.lower(), timeout=300_000)
        out[name] = round(wait_quiet(page) - t0)
    return out


def heap_mb(page) -> dict:
    """The page's JavaScript heap (CDP) and the bytes the engine holds in typed arrays (outside that heap)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
    held = page.evaluate("() => window.iconicityExplorer.heldBytes()")
    return {"js_heap_used_mb": round(m["JSHeapUsedSize"] / 2**20, 1), "js_heap_total_mb": round(m["JSHeapTotalSize"] / 2**20, 1),
            "engine_arrays_mb": round(held / 2**20, 1)}


def open_dashboard(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    t0 = time.perf_counter()
    page.goto(url + "/", wait_until="domcontentloaded")
    page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.views.overview", timeout=900_000)
    page.evaluate(QUIET)
    wait_quiet(page)
    return page, time.perf_counter() - t0


def one_session(url: str, moves: int) -> dict:
    """A process of its own: one browser dragging the dashboard's slider (for the four-at-once run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        page, _ = open_dashboard(browser, url)
        out = drags(page, moves, False)
        browser.close()
    return out


def measure_floor(pw, work: Path, env: dict, moves: int) -> dict:
    from iconicity_core.testing import start_dashboard

    app = work / "floor_app.py"
    app.write_text(FLOOR_APP)
    url, proc = start_dashboard(app, [], env, timeout_s=120)
    try:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/", wait_until="domcontentloaded")
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
        page.evaluate(QUIET)
        wait_quiet(page)
        out = drags(page, moves, True)
        browser.close()
        return {k: v for k, v in out.items() if k.startswith("value")}
    finally:
        proc.terminate()
        proc.wait(10)


def measure_dashboard(pw, db: Path, env: dict, moves: int, pages: bool, sessions: int) -> dict:
    from iconicity_core.testing import start_dashboard

    url, proc = start_dashboard(ROOT / "app.py", ["--db", str(db)], env, timeout_s=300)
    try:
        browser = launch(pw)
        page, first = open_dashboard(browser, url)
        out = {"first_load_s": round(first, 1), **heap_mb(page)}
        out |= drags(page, moves, False)
        if pages:
            out["pages_ms"] = page_renders(page)
        browser.close()
        if sessions > 1:
            with ProcessPoolExecutor(sessions, mp_context=multiprocessing.get_context("spawn")) as pool:   # no forked Playwright
                runs = list(pool.map(one_session, [url] * sessions, [moves] * sessions))
            out["sessions"] = sessions
            out["sessions_value_to_numbers_median_ms"] = [r["value_to_numbers_median_ms"] for r in runs]
            out["sessions_release_to_settled_median_ms"] = [r["release_to_settled_median_ms"] for r in runs]
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def measure_shared(pw, db: Path, work: Path, moves: int) -> dict:
    from iconicity_core.share import build_share

    t = time.perf_counter()
    path = build_share(db, images="none", max_mb=1024).write(work / f"{db.stem}_findings.html")
    built = time.perf_counter() - t
    browser = launch(pw)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page.goto(path.as_uri())
    page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady", timeout=600_000)
    page.evaluate(QUIET)
    wait_quiet(page)
    out = {"file_mb": round(path.stat().st_size / 2**20, 1), "build_s": round(built, 1),
           "open_to_ready_ms": round(page.evaluate("() => window.iconicityExplorer.readyMs")), **heap_mb(page)}
    d = drags(page, moves, False)
    browser.close()
    return out | {k: v for k, v in d.items() if k.startswith("value")}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from iconicity_core.testing import build_synthetic_db

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,10", help="comma-separated scales of the paper's shape")
    ap.add_argument("--moves", type=int, default=10, help="slider drags per app")
    ap.add_argument("--sessions", type=int, default=4, help="browsers dragging at once on one server (1: skip)")
    ap.add_argument("--no-pages", dest="pages", action="store_false", help="skip the page timings")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the synthetic databases here")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the rows here (bench/results/browser_latency.json feeds docs/benchmarks.md)")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="iconicity-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ICONICITY_DATA": str(work / "data"), "PYTHONUNBUFFERED": "1"}
    rows = []
    with sync_playwright() as pw:
        rows.append({"app": "floor (one slider, one table, one chart)", **measure_floor(pw, work, env, args.moves)})
        print(json.dumps(rows[-1]), flush=True)
        for scale in [float(s) for s in args.scales.split(",")]:
            db = work / f"paper_x{scale:g}.duckdb"
            if not db.exists():
                t = time.perf_counter()
                info = build_synthetic_db(db, scale)
                print(json.dumps({"built": str(db), **info, "build_s": round(time.perf_counter() - t, 1)}), flush=True)
            rows.append({"app": f"dashboard, paper x{scale:g}",
                         **measure_dashboard(pw, db, env, args.moves, args.pages, args.sessions)})
            print(json.dumps(rows[-1]), flush=True)
            rows.append({"app": f"shared file, paper x{scale:g}", **measure_shared(pw, db, work, args.moves)})
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"bench": "bench/browser_latency.py " + " ".join(
            f"--{k} {v}" for k, v in (("scales", args.scales), ("moves", args.moves), ("sessions", args.sessions))),
            "measured": time.strftime("%Y-%m-%d"), "machine": machine(),
            "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    print()
    print(f"{'app':<40}{'value->numbers':>16}{'max':>8}{'release->settled':>18}{'redraws':>9}")
    for r in rows:
        print(f"{r['app']:<40}{r['value_to_numbers_median_ms']:>14}ms{r['value_to_numbers_max_ms']:>6}ms"
              f"{r.get('release_to_settled_median_ms', ''):>16}{'ms' if 'release_to_settled_median_ms' in r else '  '}"
              f"{r.get('redraws_while_settling', ''):>9}")
    for r in rows:
        if "pages_ms" in r:
            print(f"\n{r['app']} — pages (ms): " + ", ".join(f"{k} {v}" for k, v in r["pages_ms"].items()))
        if "sessions" in r:
            print(f"{r['app']} — {r['sessions']} sessions at once, value -> numbers medians (ms): "
                  f"{r['sessions_value_to_numbers_median_ms']}, release -> settled: {r['sessions_release_to_settled_median_ms']}")


if __name__ == "__main__":
    main()
