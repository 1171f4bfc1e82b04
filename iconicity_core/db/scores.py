"""Reads and writes of the scorer (pipeline/scorer.py): what still needs embedding or scoring, and
the per-batch writes of image metadata, embeddings, de-duplication and similarities."""
from __future__ import annotations

import pandas as pd

from . import embeddings
from .connection import insert_frame, insert_rows, transaction

IMAGE_COLUMNS = ["image_id", "width", "height", "phash", "error"]
CLIP_COLUMNS = ["run_id", "file_id", "slug", "sim", "ref_file", "n_refs"]
CELL_COLUMNS = ["run_id", "file_id", "cell", "sim", "ref_file", "ref_cell", "same_pos_sim"]


def references_to_embed(con, clip_key: str, dino_key: str) -> list[tuple]:
    """``(path, image_id, size, mtime)`` of every readable reference image that lacks a pHash or an
    embedding."""
    return con.execute(
        """SELECT any_value(r.path || '/' || f.relpath ORDER BY f.file_id) AS path, f.image_id,
                  any_value(f.size ORDER BY f.file_id), any_value(f.mtime ORDER BY f.file_id)
           FROM files f JOIN roots r USING (root_id) LEFT JOIN images i USING (image_id)
           WHERE f.role = 'reference' AND f.error IS NULL AND f.image_id IS NOT NULL AND i.error IS NULL
             AND (i.phash IS NULL
                  OR f.image_id NOT IN (SELECT image_id FROM embeddings WHERE embedder = ?)
                  OR f.image_id NOT IN (SELECT image_id FROM embeddings WHERE embedder = ?))
           GROUP BY f.image_id ORDER BY f.image_id""", [clip_key, dino_key]).fetchall()


def write_images_and_embeddings(con, meta: list[tuple], new: dict[str, dict], replace_meta: bool) -> None:
    """One batch: image metadata rows and new embeddings (``new``: embedder key -> {image_id: vec})."""
    with transaction(con):
        _images(con, meta, replace_meta)
        for key, vecs in new.items():
            embeddings.put(con, key, list(vecs), list(vecs.values()))


def _images(con, meta: list[tuple], replace: bool) -> None:
    if meta:    # OR IGNORE for generations: the same bytes may be a reference whose pHash is recorded
        df = pd.DataFrame(meta, columns=IMAGE_COLUMNS).astype({"width": "Int32", "height": "Int32", "phash": "string",
                                                               "error": "string"})
        insert_frame(con, "images", df, "INSERT OR REPLACE" if replace else "INSERT OR IGNORE")


def reference_hashes(con) -> list[tuple]:
    """``(file_id, slug, image_id, phash, kind)`` of every readable reference, in the order the
    de-duplication keeps them (slug, then file name)."""
    return con.execute(
        """SELECT f.file_id, f.slug, f.image_id, i.phash, rf.kind FROM files f
           JOIN images i USING (image_id) JOIN refs rf USING (slug)
           WHERE f.role = 'reference' AND f.error IS NULL AND i.error IS NULL AND i.phash IS NOT NULL
           ORDER BY f.slug, f.relpath, f.file_id""").fetchall()


def refsets(con, run_id: str) -> dict[str, str]:
    return dict(con.execute("SELECT slug, refset FROM slug_refsets WHERE run_id = ?", [run_id]).fetchall())


def write_dedup(con, run_id: str, rows: list[tuple], stale: list[str], refsets: dict[str, str]) -> None:
    """Record the de-duplication of a run and forget the similarities of slugs whose kept reference
    set changed (they are scored again)."""
    with transaction(con):
        con.execute("DELETE FROM ref_dedup WHERE run_id = ?", [run_id])
        insert_rows(con, "ref_dedup", ["run_id", "file_id", "slug", "kept", "dup_of", "hamming"], rows)
        if stale:
            con.execute("""DELETE FROM cell_sims WHERE run_id = ? AND file_id IN
                           (SELECT file_id FROM clip_sims WHERE run_id = ? AND slug IN (SELECT unnest(?)))""",
                        [run_id, run_id, stale])
            con.execute("DELETE FROM clip_sims WHERE run_id = ? AND slug IN (SELECT unnest(?))", [run_id, stale])
            con.execute("DELETE FROM slug_refsets WHERE run_id = ? AND slug IN (SELECT unnest(?))", [run_id, stale])
            insert_rows(con, "slug_refsets", ["run_id", "slug", "refset"],
                        [(run_id, s, refsets[s]) for s in stale if s in refsets])


def kept_references(con, run_id: str, slug: str) -> list[tuple[str, str]]:
    """``(file_id, image_id)`` of the kept reference images of a slug, in file-name order."""
    return con.execute(
        """SELECT d.file_id, f.image_id FROM ref_dedup d JOIN files f USING (file_id)
           WHERE d.run_id = ? AND d.slug = ? AND d.kept ORDER BY f.relpath, d.file_id""", [run_id, slug]).fetchall()


def generations_to_score(con, run_id: str, k_gen: int | None = None) -> list[tuple]:
    """``(file_id, path, image_id, slug, size, mtime)`` of every readable generated image not scored by the
    run yet;
    with ``k_gen``, only the first ``k_gen`` generations of each (model, slug, prompt variant) by file
    name (the released scripts' ``--k-gen``)."""
    return con.execute(
        """WITH gen AS (
               SELECT f.*, row_number() OVER (PARTITION BY f.model, f.slug, f.variant ORDER BY f.relpath) AS k
               FROM files f WHERE f.role = 'generation')
           SELECT f.file_id, r.path || '/' || f.relpath, f.image_id, f.slug, f.size, f.mtime FROM gen f
           JOIN roots r USING (root_id) JOIN refs rf USING (slug) LEFT JOIN images i USING (image_id)
           WHERE f.error IS NULL AND f.image_id IS NOT NULL AND i.error IS NULL
             AND (? IS NULL OR f.k <= ?)
             AND f.slug IN (SELECT slug FROM slug_refsets WHERE run_id = ?)
             AND f.file_id NOT IN (SELECT file_id FROM clip_sims WHERE run_id = ?)
           ORDER BY f.slug, f.model, f.relpath""", [k_gen, k_gen, run_id, run_id]).fetchall()


def write_generation_batch(con, meta: list[tuple], new: dict[str, dict], clip_rows, cell_rows) -> None:
    """One batch of generated images: metadata, new embeddings, similarities — all or nothing.
    ``clip_rows`` / ``cell_rows``: tuples in :data:`CLIP_COLUMNS` / :data:`CELL_COLUMNS` order, or
    DataFrames with those columns."""
    with transaction(con):
        _images(con, meta, replace=False)
        for key, vecs in new.items():
            embeddings.put(con, key, list(vecs), list(vecs.values()))
        if len(clip_rows):
            df = clip_rows if isinstance(clip_rows, pd.DataFrame) else pd.DataFrame(clip_rows, columns=CLIP_COLUMNS)
            insert_frame(con, "clip_sims", df[CLIP_COLUMNS])
        if len(cell_rows):
            df = cell_rows if isinstance(cell_rows, pd.DataFrame) else pd.DataFrame(cell_rows, columns=CELL_COLUMNS)
            insert_frame(con, "cell_sims", df[CELL_COLUMNS].astype(
                {"cell": "int16", "sim": "float32", "ref_cell": "int16", "same_pos_sim": "float32"}))


def problems(con) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute("SELECT item, message FROM problems ORDER BY item").fetchall()]


def file_errors(con) -> list[tuple[str, str]]:
    """``(path, message)`` of every file that could not be used."""
    return [tuple(r) for r in con.execute(
        """SELECT r.path || '/' || f.relpath, coalesce(f.error, i.error) FROM files f
           JOIN roots r USING (root_id) LEFT JOIN images i USING (image_id)
           WHERE f.error IS NOT NULL OR i.error IS NOT NULL ORDER BY 1""").fetchall()]


def errors_table(con) -> pd.DataFrame:
    """Per-file errors (ingest or decoding) and dataset-level problems."""
    return con.execute(
        """SELECT r.path || '/' || f.relpath AS item, f.role, coalesce(f.error, i.error) AS message
           FROM files f JOIN roots r USING (root_id) LEFT JOIN images i USING (image_id)
           WHERE f.error IS NOT NULL OR i.error IS NOT NULL
           UNION ALL SELECT item, 'dataset' AS role, message FROM problems
           ORDER BY 1""").df()
