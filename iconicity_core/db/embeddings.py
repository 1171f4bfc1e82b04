"""Raw embeddings, stored as float16 bytes (``np.frombuffer``; nothing is ever unpickled).

Every similarity is computed from the stored form (:func:`iconicity_core.core.similarity.quantize`),
so a resumed run and an uninterrupted one produce identical numbers.
"""
from __future__ import annotations

import json

import numpy as np

from ..core.similarity import quantize


def put(con, embedder: str, image_ids: list[str], vecs) -> None:
    """Store raw embeddings as float16; :func:`get` returns ``quantize(vecs)`` exactly."""
    import pandas as pd

    from .connection import insert_frame

    if len(image_ids):
        df = pd.DataFrame({"embedder": embedder, "image_id": list(image_ids),
                           "shape": [json.dumps(list(np.shape(v))) for v in vecs],
                           "vec": pd.Series([np.asarray(v, np.float16).tobytes() for v in vecs], dtype=object)})
        insert_frame(con, "embeddings", df, "INSERT OR IGNORE")


def get(con, embedder: str, image_ids: list[str]) -> dict[str, np.ndarray]:
    """Stored embeddings (quantized, float32) for the ids that have one."""
    if not image_ids:
        return {}
    rows = con.execute(
        "SELECT image_id, shape, vec FROM embeddings WHERE embedder = ? AND image_id IN (SELECT unnest(?))",
        [embedder, list(image_ids)],
    ).fetchall()
    return {i: quantize(np.frombuffer(b, np.float16).reshape(json.loads(s))) for i, s, b in rows}


def have(con, embedder: str, image_ids: list[str]) -> set[str]:
    """Which of ``image_ids`` already have an embedding (without reading the vectors)."""
    if not image_ids:
        return set()
    return {r[0] for r in con.execute(
        "SELECT image_id FROM embeddings WHERE embedder = ? AND image_id IN (SELECT unnest(?))",
        [embedder, list(image_ids)]).fetchall()}


def all_of(con, embedder: str, image_ids: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Stored embeddings of one embedder (all, or those of ``image_ids``): ids (sorted) and an
    ``(N, ...)`` quantized float32 array."""
    if image_ids is None:
        rows = con.execute("SELECT image_id, shape, vec FROM embeddings WHERE embedder = ? ORDER BY image_id",
                           [embedder]).fetchall()
    else:
        rows = con.execute("""SELECT image_id, shape, vec FROM embeddings WHERE embedder = ?
                              AND image_id IN (SELECT unnest(?)) ORDER BY image_id""",
                           [embedder, list(image_ids)]).fetchall()
    if not rows:
        return [], np.zeros((0, 0), np.float32)
    shape = json.loads(rows[0][1])
    arr = np.frombuffer(b"".join(r[2] for r in rows), np.float16).reshape(len(rows), *shape)
    return [r[0] for r in rows], quantize(arr)


def drop(con, embedders: list[str]) -> None:
    """Delete every stored embedding of these embedders."""
    from .connection import transaction

    with transaction(con):
        con.execute("DELETE FROM embeddings WHERE embedder IN (SELECT unnest(?))", [list(embedders)])


def prune_unused(con) -> int:
    """Delete embeddings of embedders that no remaining score run uses; returns how many rows."""
    n = con.execute("""SELECT count(*) FROM embeddings WHERE embedder NOT IN
                       (SELECT clip_key FROM runs WHERE clip_key IS NOT NULL
                        UNION SELECT dino_key FROM runs WHERE dino_key IS NOT NULL)""").fetchone()[0]
    if n:
        con.execute("""DELETE FROM embeddings WHERE embedder NOT IN
                       (SELECT clip_key FROM runs WHERE clip_key IS NOT NULL
                        UNION SELECT dino_key FROM runs WHERE dino_key IS NOT NULL)""")
    return n
