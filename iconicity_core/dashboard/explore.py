"""What the exploring pages show — the Map (its points at the current thresholds, the drawn sample,
the selection), Find similar and Compare runs — memoised per inputs in the run's engine."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import maps
from ..core import metrics as K
from . import cache
from .labelling import labels_version, sidecar_labels


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
        out = files.assign(row=rows, **s, label=[labels.get(fid, lab) for fid, lab in zip(files["file_id"], files["label"])])
        out["quadrant"] = np.where(gen, K.quadrants(np.where(s["recognised"], 1.0, 0.0), s["vr"]), "reference")
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
    from ..viz import figures

    t, f = ctx.thresholds, ctx.filters

    def build():
        shown = maps.drawn(points, n)
        title = (f"{figures.esc(ctx.recognition)} map: {len(shown):,} of {len(points):,} images drawn"
                 if len(shown) < len(points) else None)
        return figures.map_scatter(shown, colour, title, ctx.colours, ctx.recognition)
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


def known_image(ctx, file_id: str | None) -> str | None:
    """``file_id`` if it is a mapped file of the current run (a value kept from another database or run
    is not)."""
    if file_id is None:
        return None
    if ctx.engine.rows_of([file_id])[0] >= 0:           # a generated image of the run (no read)
        return file_id
    files = cache.map_files(*ctx.key, ctx.run_id)
    return file_id if (files["file_id"] == file_id).any() else None


def similar(ctx, file_id: str, k: int = 12) -> pd.DataFrame:
    """The generated and reference images nearest to one image by CLIP cosine (all models), best first."""
    from ..analysis.projection import nearest

    ids, vecs = cache.clip_index(*ctx.key, ctx.run_id)
    if not len(ids):                                   # the run kept no vectors: nothing to compare with
        return pd.DataFrame()
    files = cache.map_files(*ctx.key, ctx.run_id)
    me = files[files["file_id"] == file_id]
    if me.empty:
        return pd.DataFrame()
    pos = np.searchsorted(ids, me["image_id"].iloc[0])
    if pos >= len(ids) or ids[pos] != me["image_id"].iloc[0]:
        return pd.DataFrame()
    order, sims = nearest(vecs[pos], vecs, k + 1)
    hit = pd.DataFrame({"image_id": ids[order], "cosine": sims})
    out = hit.merge(files, on="image_id").query("file_id != @file_id")
    return out.sort_values(["cosine", "file_id"], ascending=[False, True]).head(k).reset_index(drop=True)


def compare_runs(ctx, run_b: str, same_thresholds: bool) -> dict:
    """Run A (the sidebar's) against run B (:func:`iconicity_core.analysis.compare.compare_runs`), each at
    its own operating point or both at the sidebar's thresholds; ``t_b`` says which."""
    from ..analysis.compare import compare_runs as compare
    from ..config import run_thresholds

    t_a = ctx.thresholds
    info_b = cache.meta(*ctx.key)[1][run_b]
    t_b = t_a if same_thresholds else run_thresholds(info_b.get("config"), pooling=t_a.pooling, match=t_a.match)
    out = ctx.engine.memo(("compare", ctx.version, run_b, t_a, t_b, ctx.filters), lambda: compare(
        ctx.engine, cache.engine(*ctx.key, run_b), t_a, t_b, ctx.filters))
    return {**out, "t_b": t_b}


def run_label(ctx):
    """A function from a run id to what people call it: its embedders, grid and patch mode."""
    from ..core.display import embedder_name

    infos = cache.meta(*ctx.key)[1]

    def label(run_id: str) -> str:
        i = infos.get(run_id) or {}
        return (f"{run_id[:8]} · {embedder_name(i.get('clip_info'))} + {embedder_name(i.get('dino_info'))}, "
                f"{i.get('grid')} {i.get('patch_mode')}" + ("" if i.get("status") in (None, "done") else f" ({i.get('status')})"))
    return label


def similar_table(near: pd.DataFrame) -> pd.DataFrame:
    """The neighbours as a table people read (a reference has no model or prompt: "—", not None)."""
    out = near[["cosine", "role", "model", "slug", "variant", "image"]].copy()
    for c in ("model", "variant"):
        out[c] = out[c].where(out[c].notna(), "—")
    return out
