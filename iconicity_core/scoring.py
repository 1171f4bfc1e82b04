"""The scoring pipeline: dataset -> files/hashes -> embeddings (once per image) -> similarities.

Every write happens in a transaction per batch, and work is keyed by content and run, so a run
killed at any moment and started again ends with exactly the rows of an uninterrupted run, and a
second run over unchanged data embeds nothing.
"""
from __future__ import annotations

import hashlib
import json
import platform
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import imagehash
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import __version__, store
from .dataset import Dataset
from .dedup import phash_dedup
from .embedders import CellEmbedder, GlobalEmbedder
from .images import DEFAULT_MAX_PIXELS, ImageLoadError, content_hash, load_rgb
from .similarity import best_match, match_cells

DEFAULT_PHASH_MAX = 18


@dataclass
class ScoreSummary:
    run_id: str
    n_files: int = 0
    n_refs_embedded: int = 0
    n_generations_scored: int = 0
    n_embedded: int = 0          # generated images decoded and embedded this run
    n_global: int = 0            # images embedded by the recognition (CLIP) embedder
    n_cells: int = 0             # images embedded by the cell (DINOv3) embedder
    errors: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def file_id(root: Path, relpath: str) -> str:
    return hashlib.sha1(f"{root}\0{relpath}".encode()).hexdigest()[:16]


def run_id_for(clip_key: str, dino_key: str, phash_max: int) -> str:
    blob = json.dumps({"clip": clip_key, "dino": dino_key, "phash_max": phash_max}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "iconicity": __version__}
    for pkg in ("torch", "open_clip_torch", "transformers", "duckdb", "numpy", "pillow", "imagehash"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


# -- ingest -------------------------------------------------------------------------------------

def sync_dataset(con, ds: Dataset, progress: bool = True) -> None:
    """Record roots, references (with covariates), files (content-hashed) and problems."""
    root_ids = {}
    for root in ds.roots:
        row = con.execute("SELECT root_id FROM roots WHERE path = ?", [str(root)]).fetchone()
        if row is None:
            rid = con.execute("SELECT coalesce(max(root_id), 0) + 1 FROM roots").fetchone()[0]
            con.execute("INSERT INTO roots VALUES (?, ?, ?)", [rid, str(root), ds.layout])
            row = (rid,)
        root_ids[root] = row[0]

    known = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "SELECT file_id, size, mtime, image_id FROM files WHERE image_id IS NOT NULL").fetchall()}
    rows = []
    for e in tqdm(ds.files, desc="hashing files", unit="file", disable=not progress, leave=False):
        fid = file_id(e.root, e.relpath)
        size = mtime = image_id = None
        err = e.error
        try:
            st = e.path.stat()
            size, mtime = st.st_size, st.st_mtime
            prev = known.get(fid)
            image_id = prev[2] if prev and prev[0] == size and prev[1] == mtime else content_hash(e.path.read_bytes())
        except OSError as ex:
            err = err or f"{e.path}: cannot read file ({ex.strerror})"
        rows.append((fid, root_ids[e.root], e.relpath, e.role, e.slug, e.model, e.variant, e.prompt,
                     e.seed, e.label, image_id, size, mtime, err))
    df = pd.DataFrame(rows, columns=["file_id", "root_id", "relpath", "role", "slug", "model", "variant",
                                     "prompt", "seed", "label", "image_id", "size", "mtime", "error"])
    df["seed"] = df["seed"].astype("Int64")

    con.begin()
    try:
        _sync_refs(con, ds)
        con.execute("DELETE FROM files WHERE root_id IN (SELECT unnest(?))", [list(root_ids.values())])
        con.register("_files_df", df)
        con.execute("INSERT OR REPLACE INTO files SELECT * FROM _files_df")
        con.unregister("_files_df")
        con.execute("DELETE FROM problems")
        if ds.problems:
            con.executemany("INSERT INTO problems VALUES (?, ?)", ds.problems)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _sync_refs(con, ds: Dataset) -> None:
    extras: dict[str, bool] = {}
    for ref in ds.references.values():
        for k, v in ref.extra.items():
            extras[k] = extras.get(k, True) and (v is None or isinstance(v, float))
    cols = {k: store.ensure_ref_column(con, k, numeric) for k, numeric in sorted(extras.items())}
    for k, col in cols.items():
        con.execute("INSERT OR REPLACE INTO covariate_sources VALUES (?, ?, ?)",
                    [col, "references.csv", json.dumps({"column": k})])
    names = ["slug", "title", "kind", *cols.values()]
    ph = ", ".join("?" for _ in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    con.executemany(
        f"INSERT OR REPLACE INTO refs ({quoted}) VALUES ({ph})",
        [[r.slug, r.title, r.kind, *[_cell(r.extra.get(k), extras[k]) for k in cols]]
         for r in ds.references.values()],
    )


def _cell(v, numeric: bool):
    if v is None:
        return None
    return float(v) if numeric else str(v)


# -- run bookkeeping --------------------------------------------------------------------------

def ensure_run(con, clip: GlobalEmbedder, cells: CellEmbedder, phash_max: int, device: str) -> str:
    rid = run_id_for(clip.info.key, cells.info.key, phash_max)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    exists = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [rid]).fetchone()
    if exists:
        con.execute("UPDATE runs SET updated_at = ?, device = ?, versions = ? WHERE run_id = ?",
                    [now, device, json.dumps(library_versions()), rid])
    else:
        mode = getattr(cells, "mode", "crop")
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rid, clip.info.key, cells.info.key, json.dumps(clip.info.__dict__), json.dumps(cells.info.__dict__),
             f"{cells.rows}x{cells.cols}", mode, phash_max, bool(clip.info.semantic and cells.info.semantic),
             json.dumps(library_versions()), device, now, now],
        )
    return rid


# -- decoding -----------------------------------------------------------------------------------

def _decode(path: Path, image_id: str, max_pixels: int):
    try:
        data = path.read_bytes()
        if content_hash(data) != image_id:
            return None, f"{path}: file changed while scoring — run `iconicity score` again"
        return load_rgb(data, str(path), max_pixels), None
    except ImageLoadError as e:
        return None, str(e)
    except OSError as e:
        return None, f"{path}: cannot read file ({e.strerror})"


class Scorer:
    """Runs the pipeline for one pair of embedders over everything recorded in a database."""

    def __init__(self, con, clip: GlobalEmbedder, cells: CellEmbedder, *, phash_max: int = DEFAULT_PHASH_MAX,
                 batch_size: int = 32, max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu",
                 progress: bool = True, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)):
        self.con, self.clip, self.cells = con, clip, cells
        self.phash_max, self.batch_size, self.max_pixels = phash_max, batch_size, max_pixels
        self.progress, self.log = progress, log
        self.run_id = ensure_run(con, clip, cells, phash_max, device)
        self.summary = ScoreSummary(self.run_id)
        self.pool = ThreadPoolExecutor(max_workers=2)

    def _embed_missing(self, ok: list, need_g: set, need_c: set) -> tuple[dict, dict]:
        """Embed decoded ``(image_id, image)`` pairs with only the embedders that lack them (scoring a
        second patch mode does not re-embed CLIP); returns raw vectors by image id."""
        gi = [(iid, im) for iid, im in ok if iid in need_g]
        ci = [(iid, im) for iid, im in ok if iid in need_c]
        new_g = dict(zip([k for k, _ in gi], self.clip.embed([im for _, im in gi]))) if gi else {}
        new_c = dict(zip([k for k, _ in ci], self.cells.embed_cells([im for _, im in ci]))) if ci else {}
        self.summary.n_global += len(new_g)
        self.summary.n_cells += len(new_c)
        return new_g, new_c

    def _put(self, new_g: dict, new_c: dict) -> None:
        if new_g:
            store.put_embeddings(self.con, self.clip.info.key, list(new_g), list(new_g.values()))
        if new_c:
            store.put_embeddings(self.con, self.cells.info.key, list(new_c), list(new_c.values()))

    # references --------------------------------------------------------------------------------
    def embed_references(self) -> None:
        ck, dk = self.clip.info.key, self.cells.info.key
        todo = self.con.execute(
            """SELECT any_value(r.path || '/' || f.relpath ORDER BY f.file_id) AS path, f.image_id
               FROM files f JOIN roots r USING (root_id) LEFT JOIN images i USING (image_id)
               WHERE f.role = 'reference' AND f.error IS NULL AND f.image_id IS NOT NULL
                 AND (i.error IS NULL)
                 AND (i.phash IS NULL
                      OR f.image_id NOT IN (SELECT image_id FROM embeddings WHERE embedder = ?)
                      OR f.image_id NOT IN (SELECT image_id FROM embeddings WHERE embedder = ?))
               GROUP BY f.image_id ORDER BY f.image_id""", [ck, dk]).fetchall()
        bar = tqdm(total=len(todo), desc="embedding references", unit="img", disable=not self.progress)
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            ids = [t[1] for t in batch]
            need_g = set(ids) - set(store.get_embeddings(self.con, ck, ids))
            need_c = set(ids) - set(store.get_embeddings(self.con, dk, ids))
            decoded = list(self.pool.map(lambda t: _decode(Path(t[0]), t[1], self.max_pixels), batch))
            ok = [(t[1], im) for t, (im, err) in zip(batch, decoded) if im is not None]
            meta = [(t[1], None, None, None, err) for t, (im, err) in zip(batch, decoded) if im is None]
            meta += [(iid, im.width, im.height, str(imagehash.phash(im)), None) for iid, im in ok]
            new_g, new_c = self._embed_missing(ok, need_g, need_c)   # stored as float16 (store.quantize)

            def write():
                self.con.executemany("INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?)", meta)
                self._put(new_g, new_c)
            self._write(write)
            self.summary.n_refs_embedded += len(ok)
            bar.update(len(batch))
        bar.close()

    def dedup_references(self) -> None:
        """pHash de-duplication of dynamic references (first kept, later near-duplicates dropped);
        then invalidate similarities of slugs whose set of kept references changed."""
        rows = self.con.execute(
            """SELECT f.file_id, f.slug, f.image_id, i.phash, rf.kind FROM files f
               JOIN images i USING (image_id) JOIN refs rf USING (slug)
               WHERE f.role = 'reference' AND f.error IS NULL AND i.error IS NULL AND i.phash IS NOT NULL
               ORDER BY f.slug, f.relpath, f.file_id""").fetchall()
        by_slug: dict[str, list] = {}
        for row in rows:
            by_slug.setdefault(row[1], []).append(row)
        dedup, kept_by_slug = [], {}
        for slug, group in by_slug.items():
            hashes = [imagehash.hex_to_hash(r[3]) for r in group]
            dups = phash_dedup(hashes, self.phash_max) if group[0][4] == "dynamic" else [None] * len(group)
            kept_by_slug[slug] = [(r[0], r[2]) for r, d in zip(group, dups) if d is None]
            dedup += [(self.run_id, r[0], slug, d is None, d and group[d[0]][0], d and d[1]) for r, d in zip(group, dups)]
        refsets = {s: hashlib.sha1("|".join(sorted(f"{f}:{i}" for f, i in k)).encode()).hexdigest()
                   for s, k in kept_by_slug.items()}
        old = dict(self.con.execute("SELECT slug, refset FROM slug_refsets WHERE run_id = ?", [self.run_id]).fetchall())
        stale = [s for s in set(old) | set(refsets) if old.get(s) != refsets.get(s)]

        def write():
            self.con.execute("DELETE FROM ref_dedup WHERE run_id = ?", [self.run_id])
            if dedup:
                self.con.executemany("INSERT INTO ref_dedup VALUES (?, ?, ?, ?, ?, ?)", dedup)
            if stale:
                self.con.execute(
                    """DELETE FROM cell_sims WHERE run_id = ? AND file_id IN
                       (SELECT file_id FROM clip_sims WHERE run_id = ? AND slug IN (SELECT unnest(?)))""",
                    [self.run_id, self.run_id, stale])
                self.con.execute("DELETE FROM clip_sims WHERE run_id = ? AND slug IN (SELECT unnest(?))",
                                 [self.run_id, stale])
                self.con.execute("DELETE FROM slug_refsets WHERE run_id = ? AND slug IN (SELECT unnest(?))",
                                 [self.run_id, stale])
                self.con.executemany("INSERT INTO slug_refsets VALUES (?, ?, ?)",
                                     [(self.run_id, s, refsets[s]) for s in stale if s in refsets])
        self._write(write)
        n_drop = sum(1 for d in dedup if not d[3])
        if n_drop:
            self.log(f"pHash de-duplication: {n_drop} dynamic reference image(s) dropped (Hamming <= {self.phash_max})")

    # generations -------------------------------------------------------------------------------
    def _slug_refs(self, slug: str):
        rows = self.con.execute(
            """SELECT d.file_id, f.image_id FROM ref_dedup d JOIN files f USING (file_id)
               WHERE d.run_id = ? AND d.slug = ? AND d.kept ORDER BY f.relpath, d.file_id""",
            [self.run_id, slug]).fetchall()
        ids = [r[1] for r in rows]
        g = store.get_embeddings(self.con, self.clip.info.key, ids)
        c = store.get_embeddings(self.con, self.cells.info.key, ids)
        rows = [r for r in rows if r[1] in g and r[1] in c]
        return ([r[0] for r in rows], np.stack([g[r[1]] for r in rows]) if rows else None,
                np.stack([c[r[1]] for r in rows]) if rows else None)

    def score_generations(self) -> None:
        todo = self.con.execute(
            """SELECT f.file_id, r.path || '/' || f.relpath, f.image_id, f.slug FROM files f
               JOIN roots r USING (root_id) JOIN refs rf USING (slug)
               LEFT JOIN images i USING (image_id)
               WHERE f.role = 'generation' AND f.error IS NULL AND f.image_id IS NOT NULL
                 AND i.error IS NULL
                 AND f.slug IN (SELECT slug FROM slug_refsets WHERE run_id = ?)
                 AND f.file_id NOT IN (SELECT file_id FROM clip_sims WHERE run_id = ?)
               ORDER BY f.slug, f.model, f.relpath""", [self.run_id, self.run_id]).fetchall()
        ck, dk = self.clip.info.key, self.cells.info.key
        bar = tqdm(total=len(todo), desc="scoring generations", unit="img", disable=not self.progress)
        cache: dict[str, tuple] = {}
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            ids = sorted({t[2] for t in batch})
            have_g = store.get_embeddings(self.con, ck, ids)
            have_c = store.get_embeddings(self.con, dk, ids)
            need = {t[2]: t[1] for t in batch if t[2] not in have_g or t[2] not in have_c}
            need_items = sorted(need.items())
            decoded = list(self.pool.map(lambda kv: _decode(Path(kv[1]), kv[0], self.max_pixels), need_items))
            ok = [(iid, im) for (iid, _), (im, _e) in zip(need_items, decoded) if im is not None]
            meta = [(iid, None, None, None, err) for (iid, _), (im, err) in zip(need_items, decoded) if im is None]
            meta += [(iid, im.width, im.height, None, None) for iid, im in ok]
            new_g, new_c = self._embed_missing(ok, set(need) - set(have_g), set(need) - set(have_c))
            # the numbers used are exactly what a later load from the database gives (store.quantize)
            g = {**have_g, **{iid: store.quantize(v) for iid, v in new_g.items()}}
            c = {**have_c, **{iid: store.quantize(v) for iid, v in new_c.items()}}
            clip_rows, cell_rows = [], []
            for fid, path, iid, slug in batch:
                if iid not in g or iid not in c:
                    continue
                if slug not in cache:
                    cache.clear()
                    cache[slug] = self._slug_refs(slug)
                ref_fids, rg, rc = cache[slug]
                if rg is None:
                    continue
                s, j = best_match(g[iid][None], rg)
                clip_rows.append((self.run_id, fid, slug, float(s[0]), ref_fids[int(j[0])], len(ref_fids)))
                m = match_cells(c[iid], rc)
                for k in range(len(m.best_sim)):
                    cell_rows.append((self.run_id, fid, k, float(m.best_sim[k]), ref_fids[int(m.best_ref[k])],
                                      int(m.best_ref_cell[k]), float(m.same_pos_sim[k])))
            for (iid, _), (im, err) in zip(need_items, decoded):
                if err:
                    self.summary.errors.append((need[iid], err))
                    self.log(f"skipped: {err}")

            def write():
                if meta:   # OR IGNORE: the same bytes may also be a reference whose pHash is recorded
                    self.con.executemany("INSERT OR IGNORE INTO images VALUES (?, ?, ?, ?, ?)", meta)
                self._put(new_g, new_c)
                if clip_rows:
                    df = pd.DataFrame(clip_rows, columns=["run_id", "file_id", "slug", "sim", "ref_file", "n_refs"])
                    self.con.register("_clip_df", df)
                    self.con.execute("INSERT INTO clip_sims SELECT * FROM _clip_df")
                    self.con.unregister("_clip_df")
                if cell_rows:
                    df = pd.DataFrame(cell_rows, columns=["run_id", "file_id", "cell", "sim", "ref_file",
                                                          "ref_cell", "same_pos_sim"])
                    df = df.astype({"cell": "int16", "sim": "float32", "ref_cell": "int16", "same_pos_sim": "float32"})
                    self.con.register("_cell_df", df)
                    self.con.execute("INSERT INTO cell_sims SELECT * FROM _cell_df")
                    self.con.unregister("_cell_df")
            self._write(write)
            self.summary.n_embedded += len(ok)
            self.summary.n_generations_scored += len(clip_rows)
            bar.update(len(batch))
        bar.close()

    def _write(self, fn) -> None:
        self.con.begin()
        try:
            fn()
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def run(self) -> ScoreSummary:
        self.embed_references()
        self.dedup_references()
        self.score_generations()
        self.summary.problems = [tuple(r) for r in self.con.execute("SELECT item, message FROM problems").fetchall()]
        self.summary.errors = [tuple(r) for r in self.con.execute(
            """SELECT r.path || '/' || f.relpath, coalesce(f.error, i.error) FROM files f
               JOIN roots r USING (root_id) LEFT JOIN images i USING (image_id)
               WHERE f.error IS NOT NULL OR i.error IS NOT NULL ORDER BY 1""").fetchall()]
        self.pool.shutdown()
        return self.summary


def score_dataset(ds: Dataset, db: str | Path, clip: GlobalEmbedder, cells: CellEmbedder, **kw) -> ScoreSummary:
    """Ingest ``ds`` into the database at ``db`` and score everything not scored yet."""
    con = store.connect(db)
    try:
        sync_dataset(con, ds, progress=kw.get("progress", True))
        return Scorer(con, clip, cells, **kw).run()
    finally:
        con.close()
