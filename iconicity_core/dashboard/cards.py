"""The finding card: one shareable HTML file for one generated image (the image, its patch-match
heatmap, the references, scores, thresholds and embedder provenance)."""
from __future__ import annotations

from ..core import metrics as K
from ..core.grid import parse_grid
from ..viz import figures
from . import cache


def finding_card(ctx, slug: str, file_id: str, gallery) -> tuple[str, object]:
    """``(html, heatmap image)`` for ``file_id`` at the page's thresholds (``gallery``: its scores)."""
    t = ctx.thresholds
    m, row = cache.patch_matches(*ctx.key, ctx.run_id, file_id)
    rows, cols = parse_grid(ctx.info["grid"])
    refs = cache.reference_images(*ctx.key, ctx.run_id, slug)
    kept = list(refs[refs["kept"]]["file_id"])
    paths = cache.image_paths(*ctx.key, (file_id, *kept))
    gen = figures.display_image(paths[file_id])
    sims = m[K.MATCH_COLUMNS[t.match]].to_numpy("float32")
    overlay = figures.patch_overlay(gen, sims, K.reused(sims, t.patch_tau, t.rule), rows, cols)
    ref_imgs = [figures.display_image(paths[f]) for f in kept]
    g = gallery.set_index("file_id").loc[file_id]
    scores = {"clip_sim": round(float(g.clip_sim), 4), "recognised": bool(g.recognised),
              "vr": round(float(g.vr), 4), "vi": round(float(g.vi), 4)}
    i = ctx.info
    provenance = {"run": ctx.run_id, "recognition": i["clip_key"], "realization": i["dino_key"], "grid": i["grid"],
                  "patch mode": i["patch_mode"], "semantic": "yes" if i["semantic"] else "no (appearance baseline)"}
    return figures.finding_card(gen, overlay, ref_imgs, row, scores, t.as_dict(), provenance), overlay
