"""The shareable page (`iconicity share`) at the paper's scale and 10x, in Debian's Chromium on file://:

* size: the file without images (`--images none`), and with evidence thumbnails where image files exist
  (the demo; the synthetic databases have none, so their evidence size is estimated from the demo's
  mean thumbnail and the number of pictures the evidence set asks for);
* build: wall time of `build_share` + write (what `iconicity share` spends after opening the database);
* open -> ready: navigation start to `iconicityExplorer.ready` (the data parsed, the tables computed),
  read from the page's own clock; median of --opens fresh pages;
* slider -> table: setting `#clip-tau` (or `#patch-tau`) to a new grid value and firing its input event,
  to the per-model table rebuilt (the handler is synchronous), and to the next frame after that (the
  charts redraw in a requestAnimationFrame); median and p90 over --moves moves.

The baseline measured in the same run is a page that only parses the same data block (JSON.parse of the
embedded payload): open -> ready is reported as a ratio to it.

    python bench/share_bench.py                              # scales 1 and 10
    python bench/share_bench.py --scales 1 --moves 20        # quick look
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

MOVES_JS = """async ([id, values]) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const el = document.getElementById(id), table = [], painted = [];
  for (const v of values) {
    await frame();
    const before = document.getElementById('model-table').innerText;
    const t0 = performance.now();
    el.value = v.toFixed(2); el.dispatchEvent(new Event('input', {bubbles: true}));
    const t1 = performance.now();
    if (document.getElementById('model-table').innerText === before && v !== values[0]) table.push(-1);
    else table.push(t1 - t0);
    await frame();
    painted.push(performance.now() - t0);
  }
  return {table, painted};
}"""


def _open(browser, path: Path) -> tuple[float, object]:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page.goto(path.as_uri())
    page.wait_for_function("() => window.iconicityExplorer && window.iconicityExplorer.isReady", timeout=600_000)
    return page.evaluate("() => window.iconicityExplorer.readyMs"), page


def _parse_only(html: bytes, out: Path) -> Path:
    """The baseline page: the same data block, parsed, nothing else."""
    block = re.search(rb'<script type="application/json" id="iconicity-data">.*?</script>', html, re.S).group(0)
    out.write_bytes(b"<!doctype html><html><body>" + block + b"<script>var D = JSON.parse(document.getElementById("
                    b"'iconicity-data').textContent); window.iconicityExplorer = {isReady: true, readyMs: "
                    b"performance.now()};</script></body></html>")
    return out


def _stats(xs: list[float]) -> dict:
    xs = sorted(x for x in xs if x >= 0)
    return {"median_ms": round(statistics.median(xs), 1), "p90_ms": round(xs[int(0.9 * (len(xs) - 1))], 1)}


def measure(browser, db: Path, work: Path, opens: int, moves: int, images: str = "none") -> dict:
    import numpy as np

    from iconicity_core.share import build_share

    t = time.perf_counter()
    shared = build_share(db, images=images, max_mb=1000)
    path = shared.write(work / f"{db.stem}_{images}.html")
    build_s = time.perf_counter() - t
    base = _parse_only(shared.html, work / f"{db.stem}_parse_only.html")
    ready, parse = [], []
    for _ in range(opens):
        ms, page = _open(browser, path)
        ready.append(ms)
        page.close()
        ms, page = _open(browser, base)
        parse.append(ms)
        page.close()
    _, page = _open(browser, path)
    rng = np.random.default_rng(0)
    out = {"db": db.name, "images": images, "generated_images": shared.summary["generated_images"],
           "file_MB": shared.summary["mb"], "thumbnails": shared.summary["images"], "build_s": round(build_s, 2),
           "open_to_ready_ms": round(statistics.median(ready), 0),
           "parse_only_ms": round(statistics.median(parse), 0),
           "ready_vs_parse_only": round(statistics.median(ready) / statistics.median(parse), 2)}
    for slider in ("clip-tau", "patch-tau"):
        values = [float(v) for v in np.round(rng.uniform(0.2, 0.9, moves), 2)]
        r = page.evaluate(MOVES_JS, [slider, values])
        out[f"{slider}_table"] = _stats(r["table"])
        out[f"{slider}_next_frame"] = _stats(r["painted"])
    page.close()
    if images != "none" and shared.summary["images"]:
        out["mean_thumbnail_bytes"] = round((shared.summary["bytes"] - shared.summary["bytes_scores"]) /
                                            shared.summary["images"])
        out["evidence_pictures_wanted"] = shared.summary["images_wanted"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--opens", type=int, default=3)
    ap.add_argument("--moves", type=int, default=40)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the synthetic databases here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from iconicity_core.demo.build import build_demo
    from iconicity_core.testing import build_synthetic_db

    work = args.workdir or Path(tempfile.mkdtemp(prefix="share_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    demo = work / "demo.duckdb"
    if not demo.exists():
        build_demo(demo, embedders="baseline", quiet=True)
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        demo_row = measure(browser, demo, work, args.opens, args.moves, "evidence")
        print(json.dumps(demo_row), flush=True)
        results.append(demo_row)
        per_thumb = demo_row.get("mean_thumbnail_bytes", 0)
        for scale in [float(s) for s in args.scales.split(",")]:
            db = work / f"paper_x{scale:g}.duckdb"
            if not db.exists():
                build_synthetic_db(db, scale, progress=True)
            row = measure(browser, db, work, args.opens, args.moves)
            n_refs, n_models = round(767 * scale), 5
            wanted = n_refs * 2 + n_refs * n_models * 2     # at most 2 reference pictures, most + least reused
            row["evidence_MB_upper_bound"] = round(row["file_MB"] + wanted * per_thumb / 2**20, 1)
            print(json.dumps(row), flush=True)
            results.append(row)
        browser.close()
    print("\n| database | generated images | file (no images) | build | open → ready (parse only) | "
          "CLIP τ move → table (median / p90) | → next frame | patch τ → table |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['db']} ({r['images']}) | {r['generated_images']:,} | {r['file_MB']:.1f} MB | {r['build_s']:.1f} s | "
              f"{r['open_to_ready_ms'] / 1000:.2f} s ({r['parse_only_ms'] / 1000:.2f} s) | "
              f"{r['clip-tau_table']['median_ms']:.1f} / {r['clip-tau_table']['p90_ms']:.1f} ms | "
              f"{r['clip-tau_next_frame']['median_ms']:.0f} ms | {r['patch-tau_table']['median_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
