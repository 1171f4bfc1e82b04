"""The finding card: one shareable HTML file for one generated image — the image and its patch-match heatmap
large, the references with the cells it reused outlined, its scores and matched cells, the thresholds and the
embedders."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable

from ..viz import card, overlays
from . import data


def finding_card(ctx, slug: str, file_id: str, gallery) -> tuple[str, object]:
    """``(html, heatmap image)`` for ``file_id`` at the page's thresholds and matching (``gallery``: its scores)."""
    view = data.patch_view(ctx, slug, file_id)
    paths = data.cache.image_paths(*ctx.key, (file_id,))
    gen = overlays.display_image(paths[file_id])
    g = gallery.set_index("file_id").loc[file_id]
    scores = {f"recognition similarity ({ctx.recognition})": round(float(g.clip_sim), 4),
              "recognised": bool(g.recognised), "VR (share of cells reused)": round(float(g.vr), 4),
              "VI": round(float(g.vi), 4)}
    i = ctx.info
    provenance = {"run": ctx.run_id, "recognition": f"{ctx.recognition} — {i['clip_key']}",
                  "realization": f"{ctx.realization} — {i['dino_key']}", "grid": i["grid"], "patch mode": i["patch_mode"],
                  "semantic": "yes" if i["semantic"] else "no (appearance baseline)"}
    cells = [{"cell": int(r.cell), "sim": float(r.sim), "same_pos_sim": float(r.same_pos_sim), "matched": r.matched,
              "reused": bool(r.reused)} for r in view["table"].itertuples()]
    refs = [im for _, _, im in view["references"]]
    return card.finding_card(gen, view["overlay"], refs, view["row"], scores, settings(ctx)["thresholds"], provenance,
                                scale=overlays.colour_scale(), cells=cells), view["overlay"]


def settings(ctx) -> dict:
    """The view's settings and the run's record as plain JSON values (thresholds, rule, pooling, matching,
    filters, run, embedders, versions)."""
    t, f = ctx.thresholds, ctx.filters
    i = ctx.info
    run = {k: i.get(k) for k in ("run_id", "kind", "status", "clip_key", "dino_key", "grid", "patch_mode", "phash_max",
                                 "semantic", "clip_info", "dino_info", "config", "versions")}
    return json.loads(json.dumps({"thresholds": t.as_dict(), "filters": {"models": list(f.models), "kinds": list(f.kinds),
                                  "variants": list(f.variants)}, "run": run,
                                  "names": {"recognition": ctx.recognition, "realization": ctx.realization}},
                                 default=str))



def share_page(ctx, images: str = "evidence", start: dict | None = None) -> bytes:
    """The shareable offline explorer (``iconicity share``) of the page's run, starting at its thresholds
    (each rounded to the page's 0.01 grid) and filters, and at ``start`` (``kind``, ``variant``, ``ref``);
    images only from the dashboard's allowed roots. Safe to call off the script thread (no Streamlit)."""
    import sys
    from dataclasses import replace
    from pathlib import Path

    from ..share import build_share
    from .databases import allowed_roots

    t = ctx.thresholds
    t = replace(t, clip_tau=round(t.clip_tau, 2), patch_tau=round(t.patch_tau, 2),
                clip_tau_dynamic=None if t.clip_tau_dynamic is None else round(t.clip_tau_dynamic, 2))
    roots = allowed_roots(sys.argv[1:])
    return build_share(ctx.db, ctx.run_id, t, ctx.filters, images=images, start=start,
                       allowed_roots=None if roots is None else [Path(r) for r in roots]).html


def share_later(ctx, images: str, session) -> Callable[[], bytes]:
    """A zero-argument callable for a download button: :func:`share_page` with the Overview's scope and the
    selected reference read now from ``session`` (the button calls it on another thread)."""
    start = {"kind": session.get("ov_kind"), "variant": session.get("ov_variant"), "ref": session.get("ref")}
    return functools.partial(share_page, ctx, images, start)
