"""The benchmark tables of docs/benchmarks.md, written from the recorded runs in bench/results/*.json — so a number
in the docs is always a number a bench printed (tests/test_docs.py re-renders them and compares).

    python bench/report.py            # rewrite the tables between the markers in docs/benchmarks.md
    python bench/report.py --check    # exit 1 when the docs differ from the recorded runs
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def _load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def _ms(v) -> str:
    return "–" if v is None else f"{v:,} ms"


def browser_latency() -> str:
    r = _load("browser_latency")
    rows = {x["app"]: x for x in r["rows"]}
    out = [f"Measured {r['measured']} (`{r['bench']}`; {r['machine']}).", "",
           "| app | value → numbers on screen (median / max) | release → settled | live redraws while settling |",
           "|---|---:|---:|---:|"]
    for app, x in rows.items():
        settled = _ms(x.get("release_to_settled_median_ms")) if "release_to_settled_median_ms" in x else "–"
        redraws = str(x["redraws_while_settling"]) if "redraws_while_settling" in x else "–"
        out.append(f"| {app} | {_ms(x['value_to_numbers_median_ms'])} / {_ms(x['value_to_numbers_max_ms'])} | {settled} | "
                   f"{redraws} |")
    dash = [x for x in r["rows"] if x["app"].startswith("dashboard")]
    if dash:
        pages = list(dash[0]["pages_ms"])
        out += ["", "First render of each page (a click in the navigation to the page drawn and quiet):", "",
                "| database | " + " | ".join(pages) + " |", "|---|" + "---:|" * len(pages)]
        for x in dash:
            out.append(f"| {x['app'].removeprefix('dashboard, ')} | " + " | ".join(_ms(x["pages_ms"][p]) for p in pages)
                       + " |")
        out += ["", "Four browsers dragging at once on one server, and what a browser holds:", "",
                "| database | value → numbers, four sessions (medians) | first load | JS heap used | engine arrays |",
                "|---|---|---:|---:|---:|"]
        for x in dash:
            four = ", ".join(f"{v} ms" for v in x.get("sessions_value_to_numbers_median_ms", []))
            out.append(f"| {x['app'].removeprefix('dashboard, ')} | {four} | {x['first_load_s']} s | "
                       f"{x['js_heap_used_mb']} MB | {x['engine_arrays_mb']} MB |")
    shared = [x for x in r["rows"] if x["app"].startswith("shared file")]
    if shared:
        out += ["", "| shared file | size (no images) | build | open → ready | JS heap used | engine arrays |",
                "|---|---:|---:|---:|---:|---:|"]
        for x in shared:
            out.append(f"| {x['app'].removeprefix('shared file, ')} | {x['file_mb']} MB | {x['build_s']} s | "
                       f"{_ms(x['open_to_ready_ms'])} | {x['js_heap_used_mb']} MB | {x['engine_arrays_mb']} MB |")
    return "\n".join(out)


def embed_throughput() -> str:
    r = _load("embed_throughput")
    out = [f"Measured {r['measured']} (`{r['bench']}`; {r['machine']}; {r['setup']}).", "",
           "| case | reference images | authors' algorithm | ours, crop | ours, token | crop ÷ authors | token ÷ crop |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        out.append(f"| {x['case']} | {x['refs']} | {x['authors_img_s']} img/s | {x['crop_img_s']} img/s | "
                   f"{x['token_img_s']} img/s | {x['crop_over_authors']}× | {x['token_over_crop']}× |")
    return "\n".join(out)


def pipeline_throughput() -> str:
    r = _load("pipeline_throughput")
    out = [f"Measured {r['measured']} (`{r['bench']}`; {r['machine']}; {r['setup']}; decoding alone: "
           f"{r['decode_bound_img_s']} img/s).", "",
           "| case | scoring | compared with |", "|---|---:|---|"]
    for x in r["rows"]:
        if "without_workers_img_s" in x:
            other = (f"{x['without_workers_img_s']} img/s without worker processes; "
                     f"{x['score_img_s'] / r['decode_bound_img_s']:.0%} of decoding alone")
        else:
            other = f"{x['model_only_img_s']} img/s for the models alone ({x['score_img_s'] / x['model_only_img_s']:.0%})"
        out.append(f"| {x['case']} | {x['score_img_s']} img/s | {other} |")
    return "\n".join(out)


def pipeline_stages() -> str:
    r = _load("pipeline_stages")
    out = [f"Measured {r['measured']} (`{r['bench']}`; {r['machine']}; {r['setup']}; decoding alone: "
           f"{r['decode_bound_img_s']} img/s).", "",
           "| case | scoring | without workers | of decoding alone | decode | prepare | transfer | hash | match | write "
           "| bytes across |", "|---|" + "---:|" * 10]
    for x in r["rows"]:
        ms = " | ".join(f"{x[k]} ms" for k in ("decode_ms", "prepare_ms", "transfer_ms", "hash_ms", "match_ms", "write_ms"))
        out.append(f"| {x['case']} | {x['score_img_s']} img/s | {x['without_workers_img_s']} img/s | "
                   f"{x['score_img_s'] / r['decode_bound_img_s']:.0%} | {ms} | {x['bytes_across_kb']:,} kB |")
    return "\n".join(out)


def caption_counts() -> str:
    r = _load("caption_counts")
    return (f"Measured {r['measured']} (`{r['bench']}`; {r['machine']}): {r['captions']:,} synthetic captions, "
            f"{r['titles']} titles — DuckDB {r['duckdb_captions_s']:,} captions/s, a plain Python loop "
            f"{r['python_captions_s']:,} captions/s ({r['ratio']}×).")


TABLES = {"browser_latency": browser_latency, "embed_throughput": embed_throughput,
          "pipeline_throughput": pipeline_throughput, "pipeline_stages": pipeline_stages, "caption_counts": caption_counts}
BLOCK = re.compile(r"<!-- bench:(\w+) -->.*?<!-- /bench -->", re.S)


def rendered(doc: str) -> str:
    """``doc`` with every marked block written from its recorded run."""
    return BLOCK.sub(lambda m: f"<!-- bench:{m.group(1)} -->\n{TABLES[m.group(1)]()}\n<!-- /bench -->", doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when the docs differ")
    args = ap.parse_args()
    doc = DOC.read_text(encoding="utf-8")
    new = rendered(doc)
    if args.check:
        sys.exit(0 if new == doc else 1)
    DOC.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
