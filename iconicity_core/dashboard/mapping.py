"""The Map page's data: every mapped image of the run with its scores, the drawn sample's figure, the
selection's statistics and why some images are not on the map."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import maps
from ..core import metrics as kernel
from . import cache
from .labeller import labels_version, sidecar_labels


def map_frame(ctx, method: str = "pca") -> pd.DataFrame | None:
    """Every mapped file of the run: x, y, role, model, slug, variant, label, and for generated images
    their scores at the current thresholds and image quadrant. None when the run kept no CLIP vectors."""
    t, f = ctx.thresholds, ctx.filters
    coords, _ = cache.map_coordinates(*ctx.key, ctx.run_id, method)
    if coords is None:
        return None

    def build():
        files = cache.map_files(*ctx.key, ctx.run_id).merge(coords, on="image_id", how="inner")
        eng = ctx.engine
        rows = eng.rows_of(files["file_id"])
        gen = rows >= 0
        s = eng.scores_of(rows, t)
        labels = sidecar_labels(ctx)
        out = files.assign(row=rows, **s, label=[labels.get(fid, lab) for fid, lab in zip(files["file_id"], files["label"], strict=True)])
        out["quadrant"] = np.where(gen, kernel.quadrants(np.where(s["recognised"], 1.0, 0.0), s["vr"]), "reference")
        keep = (out["role"] == "reference") | (gen & np.isin(rows, np.flatnonzero(eng.mask(f))))
        return out[keep].reset_index(drop=True)
    return ctx.engine.memo(("map", ctx.version, labels_version(ctx), method, t, f), build)

def unmapped_hint(ctx, n_mapped: int) -> str | None:
    """Why fewer generated images are mapped than were scored (the run did not keep their vectors)."""
    scored = int(ctx.engine.mask(ctx.filters).sum())
    keep = (ctx.info.get("config") or {}).get("keep_embeddings", "all")
    if n_mapped >= scored:
        return None
    return (f"{n_mapped:,} of the {scored:,} scored generated images are mapped: this run kept the CLIP vectors of "
            f"the reference images only (`--keep-embeddings {keep}`; `references` is the default), so only generated "
            "images identical to a reference have one. Score with `--keep-embeddings all` to map every image.")

def map_notice(ctx, method: str = "pca") -> str | None:
    """Why the stored map was not used or could not be stored (None when all is well)."""
    return cache.map_coordinates(*ctx.key, ctx.run_id, method)[1]

def colour_label(ctx):
    """What the Map's colour options are called (the recognition embedder's real name for the similarity)."""
    names = {"model": "model", "quadrant": "quadrant", "label": "label", "clip_sim": "similarity"}   # short: one line
    return names.get

def map_chart(ctx, points: pd.DataFrame, method: str, n: int, colour: str):
    """The figure of the drawn sample of :func:`map_frame`'s points, memoised (a selection reruns the
    page; the figure of the same points is not rebuilt)."""
    from .. import display
    from ..viz import charts

    t, f = ctx.thresholds, ctx.filters

    def build():
        shown = maps.drawn(points, n)
        title = (f"{display.esc(ctx.recognition)} map: {len(shown):,} of {len(points):,} images drawn"
                 if len(shown) < len(points) else None)
        return charts.map_scatter(shown, colour, title, ctx.colours, ctx.recognition)
    return ctx.engine.memo(("mapchart", ctx.version, labels_version(ctx), method, t, f, n, colour, len(points)),
                           build)

def selection_summary(ctx, points: pd.DataFrame) -> pd.DataFrame:
    """CRA / VR / VI / CRT of the selected generated images next to those of every mapped image (all
    that pass the filters)."""
    eng = ctx.engine
    shown = pd.DataFrame()
    for name, rows in (("selection", points["row"]), ("all mapped", None)):
        m = np.zeros(eng.n, bool)
        if rows is None:
            m[eng.mask(ctx.filters)] = True
        else:
            r = np.asarray(rows)
            m[r[r >= 0]] = True
        shown[name] = pd.Series(eng.subset_means(ctx.thresholds, m))
    return shown.T.reset_index(names="set")
