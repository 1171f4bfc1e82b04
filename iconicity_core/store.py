"""DuckDB storage: schema, connections, and the few writes the scorer makes.

Embeddings are stored as float16 bytes (``np.frombuffer``; nothing is ever unpickled) and every
similarity is computed from that stored form (:func:`quantize`), so a resumed run and an
uninterrupted one produce identical numbers.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS roots(root_id INTEGER PRIMARY KEY, path VARCHAR UNIQUE, layout VARCHAR);
CREATE TABLE IF NOT EXISTS refs(slug VARCHAR PRIMARY KEY, title VARCHAR, kind VARCHAR);
CREATE TABLE IF NOT EXISTS covariate_sources(name VARCHAR PRIMARY KEY, source VARCHAR, details JSON);
CREATE TABLE IF NOT EXISTS files(
    file_id VARCHAR PRIMARY KEY, root_id INTEGER, relpath VARCHAR, role VARCHAR, slug VARCHAR,
    model VARCHAR, variant VARCHAR, prompt VARCHAR, seed BIGINT, label VARCHAR,
    image_id VARCHAR, size BIGINT, mtime DOUBLE, error VARCHAR);
CREATE TABLE IF NOT EXISTS images(
    image_id VARCHAR PRIMARY KEY, width INTEGER, height INTEGER, phash VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS problems(item VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS runs(
    run_id VARCHAR PRIMARY KEY, clip_key VARCHAR, dino_key VARCHAR, clip_info JSON, dino_info JSON,
    grid VARCHAR, patch_mode VARCHAR, phash_max INTEGER, semantic BOOLEAN, versions JSON,
    device VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS embeddings(
    embedder VARCHAR, image_id VARCHAR, shape VARCHAR, vec BLOB, PRIMARY KEY(embedder, image_id));
CREATE TABLE IF NOT EXISTS ref_dedup(
    run_id VARCHAR, file_id VARCHAR, slug VARCHAR, kept BOOLEAN, dup_of VARCHAR, hamming INTEGER,
    PRIMARY KEY(run_id, file_id));
CREATE TABLE IF NOT EXISTS slug_refsets(run_id VARCHAR, slug VARCHAR, refset VARCHAR, PRIMARY KEY(run_id, slug));
CREATE TABLE IF NOT EXISTS clip_sims(
    run_id VARCHAR, file_id VARCHAR, slug VARCHAR, sim DOUBLE, ref_file VARCHAR, n_refs INTEGER,
    PRIMARY KEY(run_id, file_id));
CREATE TABLE IF NOT EXISTS cell_sims(
    run_id VARCHAR, file_id VARCHAR, cell SMALLINT, sim REAL, ref_file VARCHAR, ref_cell SMALLINT,
    same_pos_sim REAL);
"""

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseBusy(RuntimeError):
    """The database file is locked by another process (usually a running ``iconicity score``)."""


def connect(path: str | Path, read_only: bool = False, wait_s: float = 10.0) -> duckdb.DuckDBPyConnection:
    """Open a database; read-only connections never create or modify the file.

    A writer waits up to ``wait_s`` seconds for a reader (the dashboard holds the file only while a
    page renders) before giving up with :class:`DatabaseBusy`.
    """
    import time

    path = Path(path)
    if read_only and not path.is_file():
        raise FileNotFoundError(f"database {path} does not exist — create it with `iconicity score` or `iconicity demo`")
    deadline = time.monotonic() + (0 if read_only else wait_s)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{path} is in use by another process ({'probably `iconicity score` writing it' if read_only else 'another writer or reader'}); "
                    "wait for it to finish and try again, or open a copy of the file"
                ) from None
            time.sleep(0.2)
    if not read_only:
        con.execute(SCHEMA)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    return con


def safe_column(name: str) -> str:
    """Turn a CSV header into a safe SQL identifier (lowercase letters, digits, underscores).

    >>> safe_column("Page views (2024)")
    'page_views_2024'
    """
    s = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "col"
    if s[0].isdigit():
        s = "c_" + s
    s = s[:63]
    if not _IDENT.match(s):
        raise ValueError(f"cannot make a column name from {name!r}")
    return s


def ref_columns(con) -> dict[str, str]:
    """Columns of ``refs`` with their DuckDB types."""
    return {r[0]: r[1] for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='refs' ORDER BY ordinal_position"
    ).fetchall()}


def ensure_ref_column(con, name: str, numeric: bool) -> str:
    """Add a covariate column to ``refs`` if missing; returns the (safe) column name."""
    col = safe_column(name)
    cols = ref_columns(con)
    if col not in cols:
        con.execute(f'ALTER TABLE refs ADD COLUMN "{col}" {"DOUBLE" if numeric else "VARCHAR"}')
    return col


# -- embeddings ---------------------------------------------------------------------------------

def quantize(v: np.ndarray) -> np.ndarray:
    """The stored form of an embedding: float16-rounded, re-normalised, as float32."""
    q = np.asarray(v, np.float32).astype(np.float16).astype(np.float32)
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)


def put_embeddings(con, embedder: str, image_ids: list[str], vecs: np.ndarray) -> None:
    """Store raw embeddings as float16; :func:`get_embeddings` returns ``quantize(vecs)`` exactly."""
    rows = [(embedder, i, json.dumps(list(v.shape)), np.asarray(v, np.float16).tobytes())
            for i, v in zip(image_ids, vecs)]
    if rows:
        con.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?, ?)", rows)


def get_embeddings(con, embedder: str, image_ids: list[str]) -> dict[str, np.ndarray]:
    """Stored embeddings (quantized, float32) for the ids that have one."""
    if not image_ids:
        return {}
    rows = con.execute(
        "SELECT image_id, shape, vec FROM embeddings WHERE embedder = ? AND image_id IN (SELECT unnest(?))",
        [embedder, list(image_ids)],
    ).fetchall()
    return {i: quantize(np.frombuffer(b, np.float16).reshape(json.loads(s))) for i, s, b in rows}


def latest_run(con) -> str | None:
    row = con.execute("SELECT run_id FROM runs ORDER BY updated_at DESC, run_id LIMIT 1").fetchone()
    return row[0] if row else None
