"""Ingest a scanned dataset into a database: roots, references (with covariates), files identified by
content (SHA-256; unchanged files are not read again) and dataset problems."""
from __future__ import annotations

import hashlib
import logging

import pandas as pd
from tqdm.auto import tqdm

from ..db import ingest as ingest_db
from ..io.dataset import Dataset
from ..io.images import content_hash

log = logging.getLogger(__name__)


def file_id(root, relpath: str, model: str | None = None, variant: str | None = None) -> str:
    """Stable id of a file of a dataset: its root and relative path, and for a generated image its
    model and prompt variant (the same file may be listed for two variants).

    >>> file_id("/data", "a.png") == file_id("/data", "a.png")
    True
    >>> file_id("/data", "a.png", "m", "title") == file_id("/data", "a.png", "m", "synonym")
    False
    """
    key = f"{root}\0{relpath}" + ("" if model is None and variant is None else f"\0{model}\0{variant}")
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def sync_dataset(con, ds: Dataset, progress: bool = True) -> None:
    """Record roots, references (with covariates), files (content-hashed, several files at a time:
    reading and SHA-256 release the GIL) and problems."""
    ids = ingest_db.root_ids(con, [str(r) for r in ds.roots], ds.layout)
    known = ingest_db.known_hashes(con)
    from concurrent.futures import ThreadPoolExecutor

    def row(e):
        fid = file_id(e.root, e.relpath, e.model, e.variant)
        size = mtime = image_id = None
        err = e.error
        try:
            st = e.path.stat()
            size, mtime = st.st_size, st.st_mtime
            prev = known.get(fid)
            image_id = prev[2] if prev and prev[0] == size and prev[1] == mtime else content_hash(e.path.read_bytes())
        except OSError as ex:
            err = err or f"{e.path}: cannot read file ({ex.strerror})"
        return (fid, ids[str(e.root)], e.relpath, e.role, e.slug, e.model, e.variant, e.prompt,
                e.seed, e.label, image_id, size, mtime, err)

    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = list(tqdm(pool.map(row, ds.files, chunksize=16), total=len(ds.files), desc="hashing files",
                         unit="file", disable=not progress, leave=False))
    df = pd.DataFrame(rows, columns=ingest_db.FILE_COLUMNS)
    df["seed"] = df["seed"].astype("Int64")
    numeric: dict[str, bool] = {}
    for ref in ds.references.values():
        for k, v in ref.extra.items():
            numeric[k] = numeric.get(k, True) and (v is None or isinstance(v, float))
    numeric = dict(sorted(numeric.items()))
    references = [{"slug": r.slug, "title": r.title, "kind": r.kind,
                   **{k: _cell(r.extra.get(k), numeric[k]) for k in numeric}} for r in ds.references.values()]
    sources = {k: {"column": ds.column_sources.get(k, k)} for k in numeric}
    ingest_db.replace(con, list(ids.values()), df, references, numeric, sources, ds.problems,
                      None if ds.scope is None else sorted(ds.scope))


def _cell(v, numeric: bool):
    if v is None:
        return None
    return float(v) if numeric else str(v)
