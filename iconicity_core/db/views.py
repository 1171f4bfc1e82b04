"""Read-only queries behind the dashboard views (all parameters bound; no user text in SQL)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import runs


def run_info(con, run_id: str) -> dict:
    """A score run's record (embedders, grid, patch mode, ...) with JSON columns decoded."""
    info = runs.get(con, run_id)
    if info is None:
        raise LookupError(f"no run {run_id!r}")
    return info


def choices(con) -> dict[str, list[str]]:
    """Values the filters may take (the allow-lists for URL parameters)."""
    q = lambda sql: [r[0] for r in con.execute(sql).fetchall()]
    return {"models": q("SELECT DISTINCT model FROM files WHERE role='generation' AND model IS NOT NULL ORDER BY 1"),
            "kinds": q("SELECT DISTINCT kind FROM refs ORDER BY 1"),
            "variants": q("SELECT DISTINCT variant FROM files WHERE role='generation' AND variant IS NOT NULL ORDER BY 1"),
            "slugs": q("SELECT slug FROM refs ORDER BY 1"),
            "runs": runs.score_run_ids(con)}


def engine_arrays(con, run_id: str) -> dict:
    """Everything the dashboard's in-memory metrics engine needs for one score run, as compact arrays:
    per generated image (ordered by file id) its file id, model, slug, prompt variant, label and
    best CLIP similarity, and the ``(n_images, n_cells)`` matrices of per-cell best similarities (best
    match anywhere, and at the same position), flattened; per reference its kind. Only images with every
    cell scored take part (as in :mod:`.metrics`)."""
    params = {"run": run_id}
    sel = """SELECT c.file_id, f.model, f.slug, f.variant, f.label, c.sim FROM clip_sims c
             JOIN files f USING (file_id) JOIN refs rf ON rf.slug = f.slug WHERE c.run_id = $run"""
    img = con.execute(sel + " ORDER BY c.file_id", params).fetchnumpy()
    cells = con.execute(f"""SELECT s.sim, s.same_pos_sim FROM cell_sims s SEMI JOIN ({sel}) x ON x.file_id = s.file_id
                            WHERE s.run_id = $run ORDER BY s.file_id, s.cell""", params).fetchnumpy()
    kinds = dict(con.execute("SELECT slug, kind FROM refs").fetchall())
    return {**{k: np.asarray(v) for k, v in img.items()}, "cells": np.asarray(cells["sim"]),
            "same_pos": np.asarray(cells["same_pos_sim"]), "kinds": kinds}


def reference_images(con, run_id: str, slug: str) -> pd.DataFrame:
    return con.execute(
        """SELECT f.file_id, f.relpath, coalesce(d.kept, false) AS kept, d.dup_of, d.hamming,
                  coalesce(f.error, i.error) AS error
           FROM files f LEFT JOIN ref_dedup d ON d.file_id = f.file_id AND d.run_id = ?
                LEFT JOIN images i USING (image_id)
           WHERE f.role = 'reference' AND f.slug = ? ORDER BY f.relpath""", [run_id, slug]).df()


def patch_matches(con, run_id: str, file_id: str) -> pd.DataFrame:
    return con.execute(
        """SELECT s.cell, s.sim, s.ref_file, s.ref_cell, s.same_pos_sim, rf.relpath AS ref_relpath
           FROM cell_sims s LEFT JOIN files rf ON rf.file_id = s.ref_file
           WHERE s.run_id = ? AND s.file_id = ? ORDER BY s.cell""", [run_id, file_id]).df()


def image_row(con, run_id: str, file_id: str) -> dict | None:
    row = con.execute(
        """SELECT f.file_id, f.relpath, f.model, f.slug, f.variant, f.prompt, f.seed, f.label, c.sim AS clip_sim,
                  c.ref_file, rf.title, rf.kind
           FROM files f JOIN refs rf ON rf.slug = f.slug LEFT JOIN clip_sims c ON c.file_id = f.file_id AND c.run_id = ?
           WHERE f.file_id = ?""", [run_id, file_id]).fetchone()
    if row is None:
        return None
    keys = ["file_id", "relpath", "model", "slug", "variant", "prompt", "seed", "label", "clip_sim", "ref_file",
            "title", "kind"]
    return dict(zip(keys, row, strict=True))


def image_path(con, file_id: str) -> Path | None:
    """The file behind ``file_id`` — only if it resolves inside its registered dataset root."""
    return image_paths(con, [file_id]).get(file_id)


def image_paths(con, file_ids: list[str], allowed: list[Path] | None = None) -> dict[str, Path | None]:
    """The files behind ``file_ids`` — each only if it resolves inside its registered dataset root and
    exists (else None). With ``allowed``, the dataset root must also lie inside one of these folders
    (a database is otherwise trusted to name its roots)."""
    rows = con.execute("""SELECT f.file_id, r.path, f.relpath FROM files f JOIN roots r USING (root_id)
                          WHERE f.file_id IN (SELECT unnest(?))""", [list(file_ids)]).fetchall()
    out: dict[str, Path | None] = dict.fromkeys(file_ids)
    fences = [Path(a).resolve() for a in allowed] if allowed is not None else None
    for fid, root, rel in rows:
        root = Path(root).resolve()
        if fences is not None and not any(root == f or f in root.parents for f in fences):
            continue
        p = (root / rel).resolve()
        out[fid] = p if (p == root or root in p.parents) and p.is_file() else None
    return out


def file_rows(con, file_ids: list[str]) -> pd.DataFrame:
    """``file_id, image, seed`` of some files (image = path relative to its dataset root)."""
    return con.execute("SELECT file_id, relpath AS image, seed FROM files WHERE file_id IN (SELECT unnest(?))",
                       [list(file_ids)]).df()


def reference_counts(con, run_id: str) -> pd.DataFrame:
    """Per reference: reference images kept and dropped (pHash near-duplicates) by the run."""
    return con.execute(
        """SELECT slug, count(*) FILTER (WHERE kept) AS n_ref_images, count(*) FILTER (WHERE NOT kept) AS n_ref_dropped
           FROM ref_dedup WHERE run_id = ? GROUP BY slug ORDER BY slug""", [run_id]).df()


def map_files(con, run_id: str) -> pd.DataFrame:
    """The files a map of a score run shows: its scored generated images and its kept reference images
    (``file_id, role, model, slug, variant, label, image_id, image``)."""
    return con.execute(
        """SELECT f.file_id, f.role, f.model, f.slug, f.variant, f.label, f.image_id, f.relpath AS image
           FROM files f WHERE f.file_id IN (SELECT file_id FROM clip_sims WHERE run_id = $run)
              OR f.file_id IN (SELECT file_id FROM ref_dedup WHERE run_id = $run AND kept)
           ORDER BY f.role DESC, f.file_id""", {"run": run_id}).df()


def known_relpaths(con, relpaths: list[str]) -> set[str]:
    """Which of ``relpaths`` (paths relative to a dataset root) are files of this database."""
    return {r[0] for r in con.execute("SELECT DISTINCT relpath FROM files WHERE relpath IN (SELECT unnest(?))",
                                      [list(relpaths)]).fetchall()}


def resolve_image(con, run_id: str, image: str) -> str | None:
    """The file id of a generated image of the run given its file id or its path relative to the dataset
    root; LookupError when the path names several files (one per model in the authors' layout)."""
    rows = con.execute(
        """SELECT f.file_id, f.model FROM files f JOIN clip_sims c ON c.file_id = f.file_id AND c.run_id = ?
           WHERE f.file_id = ? OR f.relpath = ? ORDER BY f.file_id = ? DESC, f.file_id""",
        [run_id, image, image, image]).fetchall()
    if not rows:
        return None
    if rows[0][0] == image or len(rows) == 1:
        return rows[0][0]
    raise LookupError(f"{image!r} names {len(rows)} generated images (models {', '.join(sorted({r[1] for r in rows}))})"
                      " — give its file_id instead")


def best_references(con, run_id: str, slug: str) -> pd.DataFrame:
    """The scored generated images of one work: ``file_id, image_id, model, variant, kind, clip_sim`` and
    ``ref_file``, the kept reference image that gave the best CLIP similarity."""
    return con.execute(
        """SELECT c.file_id, f.image_id, f.model, f.variant, rf.kind, c.sim AS clip_sim, c.ref_file
           FROM clip_sims c JOIN files f USING (file_id) JOIN refs rf ON rf.slug = f.slug
           WHERE c.run_id = ? AND f.slug = ? ORDER BY c.file_id""", [run_id, slug]).df()


def dynamic_slugs(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT slug FROM refs WHERE kind = 'dynamic' ORDER BY slug").fetchall()]


def file_images(con, file_ids: list[str]) -> dict[str, str]:
    """file_id -> image_id (content hash)."""
    return dict(con.execute("SELECT file_id, image_id FROM files WHERE file_id IN (SELECT unnest(?))",
                            [list(file_ids)]).fetchall())
