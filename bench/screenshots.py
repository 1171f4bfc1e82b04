"""Screenshots of every dashboard page and of the shared file, to review the look by eye before a change lands.

Starts `streamlit run app.py` on a free port (on the demo database, or ``--db``), opens every page in headless
Chromium (Debian's, through Playwright) at 1280x720 and 1920x1080, waits until Streamlit has finished the run,
and writes ``<out>/<width>x<height>/<page>.png`` (the first screen) and ``..._full.png`` (the whole page); then
the same for the shared file of that database (``shared``; ``--no-shared`` to skip). Exits 1, naming them,
when any page shows an error box, so a broken page is never mistaken for a screenshot of the look.

    python bench/screenshots.py [--db FILE] [--out shots/] [--pages overview patches]
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {"overview": "", "references": "references", "patches": "patches", "map": "map", "similar": "similar",
         "thresholds": "thresholds", "correlations": "correlations", "variants": "variants", "compare": "compare",
         "label": "label", "export": "export"}
SIZES = ((1280, 720), (1920, 1080))


def settle(page, timeout_ms: int = 240_000) -> None:
    """The page is done when its title (or an error) is there and Streamlit's running indicator has gone."""
    page.locator('h1, [data-testid="stException"]').first.wait_for(timeout=timeout_ms)
    page.wait_for_timeout(400)                 # the indicator appears after a short delay
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                  .every(e => e.querySelector('.main-svg'))
                              && !document.querySelector('[data-testid="stSkeleton"]')""", timeout=timeout_ms)
    page.wait_for_timeout(1500)                # charts and tables finish drawing after the run ends


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="a scores database (default: the demo)")
    ap.add_argument("--out", type=Path, default=Path("shots"))
    ap.add_argument("--pages", nargs="*", default=list(PAGES))
    ap.add_argument("--query", default="", help="URL query appended to every page, e.g. 'clip_tau=0.6'")
    ap.add_argument("--no-shared", dest="shared", action="store_false", help="skip the shared file")
    args = ap.parse_args()
    from iconicity_core.testing import start_dashboard

    url, proc = start_dashboard(ROOT / "app.py", ["--db", str(args.db.resolve())] if args.db else [], timeout_s=240)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            broken: list[str] = []
            for w, h in SIZES:
                out = args.out / f"{w}x{h}"
                out.mkdir(parents=True, exist_ok=True)
                tab = browser.new_page(viewport={"width": w, "height": h})
                for name in args.pages:
                    t = time.perf_counter()
                    tab.goto(f"{url}/{PAGES[name]}" + (f"?{args.query}" if args.query else ""), wait_until="domcontentloaded")
                    settle(tab)
                    tab.screenshot(path=str(out / f"{name}.png"))
                    tab.screenshot(path=str(out / f"{name}_full.png"), full_page=True)
                    errors = tab.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
                    bad = errors.first.inner_text().strip().splitlines()[0][:200] if errors.count() else ""
                    broken += [f"{w}x{h} {name}: {bad}"] if bad else []
                    print(f"{w}x{h} {name:<13} {time.perf_counter() - t:5.1f} s" + (f"  !! {bad}" if bad else ""), flush=True)
                if args.shared:
                    shared = shared_file(args.db, args.out)
                    tab.goto(shared.as_uri() + "#ref=" + first_reference(args.db))
                    tab.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady",
                                          timeout=240_000)
                    tab.wait_for_timeout(1500)
                    tab.screenshot(path=str(out / "shared.png"))
                    tab.screenshot(path=str(out / "shared_full.png"), full_page=True)
                    print(f"{w}x{h} shared", flush=True)
                tab.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    if broken:
        raise SystemExit("pages showing an error:\n  " + "\n  ".join(broken))


def shared_file(db: Path | None, out: Path) -> Path:
    """The shared file of ``db`` (the demo when None), with its evidence images."""
    from iconicity_core.config import demo_db_path
    from iconicity_core.share import build_share

    path = out / "shared.html"
    build_share(db or demo_db_path(), images="evidence").write(path)  # always fresh: an old file shows old code
    return path


def first_reference(db: Path | None) -> str:
    import iconicity_core
    from iconicity_core.config import demo_db_path

    return str(iconicity_core.open(db or demo_db_path()).references()["slug"].iloc[0])


if __name__ == "__main__":
    main()
