"""Writes of a dataset ingest: roots, references (with covariates), files and dataset problems."""
from __future__ import annotations

import pandas as pd

from . import refs as refs_db
from .connection import insert_frame, insert_rows, transaction

FILE_COLUMNS = ["file_id", "root_id", "relpath", "role", "slug", "model", "variant", "prompt", "seed", "label",
                "image_id", "size", "mtime", "error"]


def root_ids(con, roots: list[str], layout: str) -> dict[str, int]:
    """The id of every dataset root (registered on first sight; the dashboard serves images only from
    registered roots)."""
    out = {}
    with transaction(con):
        for root in roots:
            row = con.execute("SELECT root_id FROM roots WHERE path = ?", [root]).fetchone()
            if row is None:
                rid = con.execute("SELECT coalesce(max(root_id), 0) + 1 FROM roots").fetchone()[0]
                con.execute("INSERT INTO roots (root_id, path, layout) VALUES (?, ?, ?)", [rid, root, layout])
                row = (rid,)
            out[root] = row[0]
    return out


def known_hashes(con) -> dict[str, tuple]:
    """file_id -> (size, mtime, image_id) of files hashed before (unchanged files are not re-read)."""
    return {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "SELECT file_id, size, mtime, image_id FROM files WHERE image_id IS NOT NULL").fetchall()}


def replace(con, root_ids: list[int], files: pd.DataFrame, references: list[dict], numeric: dict[str, bool],
            sources: dict[str, dict], problems: list[tuple[str, str]], slugs: list[str] | None = None) -> None:
    """Replace what is recorded for these roots (files, problems) and upsert the references, in one
    transaction. With ``slugs``, only the files of those works are replaced: several `score` calls that
    share a root (the authors' layout: static works, then dynamic ones, one generation root) each replace
    their own works' files and keep the others'."""
    with transaction(con):
        refs_db.upsert(con, references, numeric, sources)
        if slugs is None:
            con.execute("DELETE FROM files WHERE root_id IN (SELECT unnest(?))", [list(root_ids)])
        else:
            con.execute("DELETE FROM files WHERE root_id IN (SELECT unnest(?)) AND slug IN (SELECT unnest(?))",
                        [list(root_ids), list(slugs)])
        insert_frame(con, "files", files[FILE_COLUMNS], "INSERT OR REPLACE")
        con.execute("DELETE FROM problems")
        insert_rows(con, "problems", ["item", "message"], list(problems))
