"""Which generated images to label next (pure, from the engine): spread over models and over the range
of CLIP similarity, deterministic for a seed."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import Engine


def label_queue(engine: Engine, mask: np.ndarray, done_file_ids, n: int = 200, seed: int = 0) -> list[str]:
    """File ids to label next among the images of ``mask``: five bins of CLIP similarity per model, taken
    in turn. Images labelled nowhere come first (``done_file_ids``: those labelled in the sidecar); when
    every image has a label in the database (the demo), the queue offers them for re-labelling."""
    a = engine.a
    m = np.asarray(mask, bool).copy()
    done = engine.rows_of(sorted(done_file_ids))
    m[done[done >= 0]] = False
    rows = np.flatnonzero(m)
    unlabelled = a.label[rows] < 0
    if unlabelled.any():                            # images with no label anywhere first; then re-labelling
        rows = rows[unlabelled]
    if not len(rows):
        return []
    img = pd.DataFrame({"row": rows, "model": a.model[rows], "clip_sim": a.clip[rows]})   # codes, not names
    img["bin"] = img.groupby("model")["clip_sim"].transform(
        lambda s: pd.qcut(s.rank(method="first"), min(5, len(s)), labels=False))
    rng = np.random.default_rng(seed)
    cells = [g["row"].to_numpy()[rng.permutation(len(g))] for _, g in img.groupby(["bin", "model"])]
    out: list[int] = []
    for i in range(max(len(c) for c in cells)):
        out += [c[i] for c in cells if i < len(c)]
        if len(out) >= n:
            break
    return a.file_id[np.asarray(out[:n], np.int64)].astype(str).tolist()
