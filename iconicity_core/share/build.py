"""Build the shareable page: one HTML file that a collaborator double-clicks, offline, and in which moving a
threshold recomputes CRA, VR, VI and CRT exactly as ``iconicity metrics`` does.

>>> from iconicity_core.share import build_share
>>> shared = build_share(demo(), images="none")
>>> shared.html.startswith(b"<!doctype html>"), shared.summary["images"]
(True, 0)
>>> b"Content-Security-Policy" in shared.html and b"https://" not in shared.html.split(b"<script>")[0]
True
"""
from __future__ import annotations

import base64
import hashlib
import html as htmllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..api import Results
from ..config import Filters, Thresholds
from ..core import metrics as kernel
from ..display import embedder_name, model_colours
from ..web import payload as wp
from ..web.bundle import bundle
from ..web.style import css
from ..web.text import texts
from . import evidence as ev

IMAGE_MODES = ("none", "evidence", "all")
#: Bytes a picture costs beyond its data URI (quotes, commas, its index entries).
_PER_IMAGE = 72


class ShareTooLarge(ValueError):
    """The scores alone do not fit the size budget (``--max-mb``)."""


@dataclass
class Shared:
    """The page (bytes of one HTML file) and what went into it."""

    html: bytes
    summary: dict = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write the page atomically, through the output fence (never over a database, a sidecar or a device)."""
        from ..io.outputs import write_output

        return write_output(out, self.html)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _check_grid(t: Thresholds) -> None:
    for name, v in (("clip_tau", t.clip_tau), ("clip_tau_dynamic", t.dynamic_tau), ("patch_tau", t.patch_tau)):
        if not wp.on_grid(v):
            raise ValueError(f"{name} = {v}: the page's sliders move in steps of 0.01 between 0 and 1 — give a "
                             f"threshold such as {min(1.0, max(0.0, round(v, 2))):.2f}")


def _provenance(res: Results, db_path: Path) -> list[list[str]]:
    from .._version import __version__
    from ..io.provenance import sha256_file

    i = res.info
    cfg = i.get("config") or {}
    versions = i.get("versions") or {}
    op = res.thresholds()
    src = (cfg.get("operating_point") or {}).get("source") or {}
    where = "; ".join(f"{k}: {v}" for k, v in src.items() if isinstance(v, str))
    out = [["database", db_path.name], ["database sha256", sha256_file(db_path).split(":", 1)[1]],
           ["score run", f"{res.run_id} ({i.get('status')}, {res.engine.n:,} generated images scored, "
                         f"finished {i.get('finished_at') or '–'})"],
           ["recognition", f"{embedder_name(i.get('clip_info'))} — key {i.get('clip_key')}"],
           ["realization", f"{embedder_name(i.get('dino_info'))} — key {i.get('dino_key')}"],
           ["grid, patch mode", f"{i.get('grid')}, {i.get('patch_mode')}"],
           ["preset", str(cfg.get("preset") or "default")],
           ["threshold rule", f"{kernel.symbol(op.rule)} ({op.rule})"],
           ["operating point", f"recognition τ {op.clip_tau:.2f} (dynamic references {op.dynamic_tau:.2f}), patch τ "
                               f"{op.patch_tau:.2f}" + (f" — from {where}" if where else "")],
           ["scored with", ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "–"],
           ["this file", f"iconicity-explorer {__version__}, written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]]
    return out


def build_share(db: str | Path, run: str | None = None, thresholds: Thresholds | None = None,
                filters: Filters = Filters(), images: str = "evidence", max_mb: float = 40.0, title: str | None = None,
                allowed_roots: list[Path] | None = None, start: dict | None = None,
                progress: Callable[[int, int], None] | None = None) -> Shared:
    """The shareable page of one score run (the latest unless ``run``): its starting view at ``thresholds``
    (default: the run's operating point) and ``filters``; ``images``: ``none``, ``evidence`` (thumbnails
    of every reference and of each model's most and least reused recognised generation per reference) or
    ``all`` (then every generation too), as many as ``max_mb`` allows, most telling first.

    Raises :class:`ShareTooLarge` when the scores alone exceed ``max_mb``; ValueError for a threshold
    off the page's 0.01 grid."""
    if images not in IMAGE_MODES:
        raise ValueError(f"--images must be one of {', '.join(IMAGE_MODES)}, got {images!r}")
    if not np.isfinite(max_mb) or max_mb <= 0:
        raise ValueError(f"--max-mb must be a positive number of megabytes, got {max_mb}")
    if filters.slugs:
        raise ValueError("the page filters by model, kind and prompt variant; open the whole run and pick the "
                         "reference in the page instead of filtering by slug")
    res = Results(db, run)
    t = thresholds or res.thresholds()
    _check_grid(t)
    eng = res.engine
    a = eng.a
    refs = res.references().set_index("slug")
    with res.connection() as con:
        from .. import db as store

        covs = [c for c in store.refs.numeric_covariates(con) if c in refs.columns]
    op = res.thresholds()
    variants = a.variants
    start = dict(start or {})
    shown = [v for v in variants if not filters.variants or v in filters.variants] or variants
    start_variant = start.get("variant") if start.get("variant") in shown else \
        ("title" if "title" in shown else (shown[0] if shown else ""))
    start_kind = start.get("kind") if start.get("kind") in ("all", "static", "dynamic") else "all"
    python_params = {"clip_tau": t.clip_tau, "clip_tau_dynamic": t.dynamic_tau, "patch_tau": t.patch_tau,
                     "pooling": t.pooling, "match": t.match, "models": list(filters.models), "kinds": list(filters.kinds),
                     "variants": list(filters.variants)}
    every_model = {**python_params, "models": [], "kinds": [], "variants": []}
    checks = [{"params": every_model, "rows": wp.rows(eng.model_table(t, Filters()))}]
    if every_model != python_params:
        checks.append({"params": python_params, "rows": wp.rows(eng.model_table(t, filters))})
    rec_name = embedder_name(res.info.get("clip_info"))
    extra = {
        "title": title or f"Iconicity findings — {Path(res.path).stem}",
        "subtitle": f"Run {res.run_id} · recognition: {rec_name} · realization: "
                    f"{embedder_name(res.info.get('dino_info'))} ({res.info.get('patch_mode')}, {res.info.get('grid')}) · "
                    f"{eng.n:,} generated images of {len(a.slugs)} references by {len(a.models)} models · computed in "
                    "this page from the embedded scores, offline" + ("" if res.info.get("semantic") else
                    " · ⚠ appearance baseline: low-level visual similarity, not semantic recognition — score with "
                    "CLIP + DINOv3 for findings"),
        "start": {"clip_tau": t.clip_tau, "clip_tau_dynamic": t.dynamic_tau, "patch_tau": t.patch_tau,
                  "pooling": t.pooling, "match": t.match, "models": list(filters.models), "kinds": list(filters.kinds),
                  "variants": list(filters.variants), "kind": start_kind, "variant": start_variant,
                  "ref": start.get("ref") if start.get("ref") in a.slugs else None},
        "python": {"checks": checks},
        "provenance": _provenance(res, res.path),
        "evidence": [], "ref_images": {}, "images": [], "images_note": "",
    }
    built = wp.build(eng, refs, covs, {**res.info, "run_id": res.run_id}, op, texts(res.info, t.rule),
                     model_colours(a.models), extra)
    payload = built.shared()
    scripts = [bundle("share_page.js", "iife")]
    page_title = payload["title"]

    csp = ("default-src 'none'; " + "script-src " + " ".join(f"'{_sha256(s)}'" for s in scripts) +
           "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; base-uri 'none'; "
           "form-action 'none'")
    head = "".join([               # everything but the data: hashed and read once, however often the page renders
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<meta name=\"generator\" content=\"iconicity share\"><title>{htmllib.escape(page_title)}</title>",
        f"<style>{css('page')}</style></head><body>", _BODY])
    tail = "".join([*(f"<script>{s}</script>" for s in scripts), "</body></html>\n"])

    def render(p: dict) -> bytes:
        return (head + f"<script type=\"application/json\" id=\"iconicity-data\">{wp.for_script_tag(p)}</script>"
                + tail).encode("utf-8")

    budget = int(max_mb * 1024 * 1024)
    base = len(render(payload))
    if base > budget:
        raise ShareTooLarge(f"the scores alone take {base / 2**20:.1f} MB, more than --max-mb {max_mb:g}: raise "
                            f"--max-mb to at least {np.ceil(base / 2**20):.0f} (images are left out first)")
    summary = {"run": res.run_id, "images": 0, "images_wanted": 0, "images_unreadable": 0, "bytes_scores": base}
    if images != "none":
        _add_images(payload, res, eng, t, images == "all", budget - base, summary, allowed_roots, progress)
    html = render(payload)
    while len(html) > budget and payload["images"]:    # the estimate was short: drop the least telling
        _drop_last_image(payload)
        html = render(payload)
    summary["images"] = len(payload["images"])
    summary |= {"bytes": len(html), "mb": round(len(html) / 2**20, 2), "generated_images": eng.n}
    return Shared(html, summary)


def _drop_last_image(payload: dict) -> None:
    k = len(payload["images"]) - 1
    payload["images"].pop()
    payload["evidence"] = [e for e in payload["evidence"] if e["img"] != k]
    for slug, ks in list(payload["ref_images"].items()):
        payload["ref_images"][slug] = [x for x in ks if x != k]
    rest = [n for n in payload["images_note"].rstrip(".").split("; ") if n and "fit the size budget" not in n]
    payload["images_note"] = "; ".join(["Not every image fitted the size budget (the least telling were left out)",
                                        *rest]) + "."


def _add_images(payload: dict, res: Results, eng, t: Thresholds, everything: bool, room: int, summary: dict,
                allowed_roots, progress) -> None:
    """Thumbnails in priority order until ``room`` bytes are used; the page says what was left out."""
    a = eng.a
    with res.connection() as con:
        from .. import db as store

        ref_files = {s: store.views.reference_images(con, res.run_id, s) for s in a.slugs}
        picks = [ev.Pick(str(fid), si) for si, s in enumerate(a.slugs)
                 for fid in ref_files[s].loc[ref_files[s]["kept"], "file_id"].head(2)]
        picks += ev.generation_picks(eng, t, everything)
        paths = store.views.image_paths(con, [p.file_id for p in picks], allowed_roots)
        files = store.views.file_rows(con, [p.file_id for p in picks if p.row >= 0])
    labels = ev.labels_of(res.path, eng, files)
    summary["images_wanted"] = len(picks)
    used, full = 0, False
    for i, p in enumerate(picks):
        if progress:
            progress(i + 1, len(picks))
        if full:
            continue
        uri = ev.thumbnail(paths.get(p.file_id))
        if uri is None:
            summary["images_unreadable"] += 1
            continue
        if used + len(uri) + _PER_IMAGE > room:
            full = True
            continue
        used += len(uri) + _PER_IMAGE
        k = len(payload["images"])
        payload["images"].append(uri)
        if p.row < 0:
            payload["ref_images"].setdefault(str(p.slug), []).append(k)
        else:
            payload["evidence"].append({"slug": p.slug, "model": int(a.model[p.row]), "row": p.row, "role": p.role,
                                        "img": k, "label": labels.get(p.file_id)})
    summary["images"] = len(payload["images"])
    notes = []
    if full:
        notes.append(f"{summary['images']:,} of {len(picks):,} images fit the size budget (the rest were left out, "
                     "least telling first)")
    if summary["images_unreadable"]:
        notes.append(f"{summary['images_unreadable']:,} images could not be read on the machine that wrote this file (missing, "
                     "unreadable, or outside the allowed image folders)")
    payload["images_note"] = "; ".join(notes) + ("." if notes else "")
    if not payload["images_note"] and not payload["evidence"]:
        payload["images_note"] = "No generation of this reference was recognised at the starting thresholds."


_BODY = """
<header><h1 id="title"></h1><p id="subtitle"></p><span id="badge" class="badge"></span> <span id="notes"></span>
<p id="damaged" class="damaged" hidden data-text="This file is damaged and cannot show its findings: "></p>
<noscript><p class="damaged">This page computes its findings with JavaScript: allow scripts for this file.</p></noscript>
</header>
<div id="controls-box" class="controls-bar"></div>
<main id="app"></main>
"""


def default_out(db: str | Path) -> Path:
    """``<db stem>_findings.html`` beside the current folder."""
    return Path(f"{Path(db).stem}_findings.html")


