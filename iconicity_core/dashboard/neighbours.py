"""Find similar: the images nearest to one image by its stored recognition embedding, across every model
and the references."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import cache


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

def similar_table(near: pd.DataFrame) -> pd.DataFrame:
    """The neighbours as a table people read (a reference has no model or prompt: "—", not None)."""
    out = near[["cosine", "role", "model", "slug", "variant", "image"]].copy()
    for c in ("model", "variant"):
        out[c] = out[c].where(out[c].notna(), "—")
    return out
