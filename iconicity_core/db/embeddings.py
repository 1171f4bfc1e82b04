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


def count(con, embedder: str) -> int:
    """How many embeddings of one embedder are stored (a quick "is there anything to map?")."""
    return int(con.execute("SELECT count(*) FROM embeddings WHERE embedder = ?", [embedder]).fetchone()[0])


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


#: How much of an embedder's vectors a score run wants kept (``--keep-embeddings``), narrowest first.
SCOPES = ("none", "references", "all")


def wanted_scopes(con) -> dict[str, str]:
    """Per embedder key: the widest ``--keep-embeddings`` of the score runs that use it (runs recorded before
    the option existed kept everything: ``all``)."""
    wanted: dict[str, int] = {}
    for ck, dk, cfg in con.execute("SELECT clip_key, dino_key, config FROM runs WHERE kind = 'score'").fetchall():
        keep = (json.loads(cfg) if isinstance(cfg, str) and cfg else cfg or {}).get("keep_embeddings", "all")
        scope = SCOPES.index(keep) if keep in SCOPES else len(SCOPES) - 1
        for key in (ck, dk):
            if key:
                wanted[key] = max(wanted.get(key, 0), scope)
    return {k: SCOPES[v] for k, v in wanted.items()}


def prune(con) -> int:
    """Delete the stored vectors no score run wants any more, and only those: an embedder no run uses loses
    all its vectors; one whose runs keep ``references`` loses the vectors of images that are no reference;
    one whose runs keep ``none`` loses all. Vectors are shared by every run with the same embedder, so one
    run's ``--keep-embeddings none`` never deletes what another run of that embedder keeps. Returns how
    many rows went."""
    from .connection import transaction

    wanted = wanted_scopes(con)
    before = con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    with transaction(con):
        con.execute("DELETE FROM embeddings WHERE embedder NOT IN (SELECT unnest(?))", [list(wanted) or [""]])
        for key, scope in wanted.items():
            if scope == "none":
                con.execute("DELETE FROM embeddings WHERE embedder = ?", [key])
            elif scope == "references":
                con.execute("""DELETE FROM embeddings WHERE embedder = ? AND image_id NOT IN
                               (SELECT image_id FROM files WHERE role = 'reference' AND image_id IS NOT NULL)""", [key])
    return before - con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
