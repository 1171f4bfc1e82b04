"""The scoring pipeline: dataset -> files/hashes -> embeddings (once per image) -> similarities.

Every write happens in a transaction per batch (through :mod:`iconicity_core.db`), and work is keyed
by content and run, so a run killed at any moment and started again ends with exactly the rows of an
uninterrupted run, and a second run over unchanged data embeds nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import imagehash
import numpy as np

from .. import db
from ..config import PHASH_MAX
from ..core.dedup import phash_dedup
from ..core.similarity import best_match, match_cells, quantize
from ..db import embeddings as emb_db
from ..db import scores as scores_db
from ..embedders import CellEmbedder, GlobalEmbedder
from ..io.dataset import Dataset
from ..io.images import DEFAULT_MAX_PIXELS, ImageLoadError, content_hash, load_rgb
from .ingest import sync_dataset

log = logging.getLogger(__name__)


@dataclass
class ScoreSummary:
    """What a scoring run did (``iconicity score --format json`` prints it)."""

    run_id: str
    n_refs_embedded: int = 0
    n_generations_scored: int = 0
    n_embedded: int = 0          # generated images decoded and embedded this run
    n_global: int = 0            # images embedded by the recognition (CLIP) embedder
    n_cells: int = 0             # images embedded by the cell (DINOv3) embedder
    n_refs_dropped: int = 0      # dynamic reference images dropped as pHash near-duplicates
    errors: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["errors"] = [{"item": i, "message": m} for i, m in self.errors]
        d["problems"] = [{"item": i, "message": m} for i, m in self.problems]
        return d


def run_id_for(clip_key: str, dino_key: str, phash_max: int, k_gen: int | None = None, rule: str = "gt") -> str:
    """A score run's id: the same embedders, de-duplication rule, generation limit and threshold rule
    always give the same run (the last two enter the id only when they differ from the paper's)."""
    ident = {"clip": clip_key, "dino": dino_key, "phash_max": phash_max}
    if k_gen is not None:
        ident["k_gen"] = k_gen
    if rule != "gt":
        ident["rule"] = rule
    return hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]


def operating_point(clip, cells, rule: str = "gt", clip_tau_dynamic: float | None = None) -> dict:
    """The thresholds a run's scores are meant to be read at: each embedder family's default (the
    registry), the dynamic CLIP tau and the threshold rule — recorded with the run; the dashboard and
    `iconicity metrics` start there."""
    from ..config import CLIP_TAU, PATCH_TAU
    from ..embedders import list_embedders

    def spec(role, info):
        fam = {"open_clip": "open_clip", "dinov3": "dinov3"}.get(info.family, info.family)
        return next((e for e in list_embedders(role) if e.name == fam), None)

    g, c = spec("recognition", clip.info), spec("realization", cells.info)
    clip_tau = g.default_tau if g and g.default_tau is not None else CLIP_TAU
    patch_tau = c.default_tau if c and c.default_tau is not None else PATCH_TAU
    return {"clip_tau": clip_tau, "clip_tau_dynamic": clip_tau if clip_tau_dynamic is None else clip_tau_dynamic,
            "patch_tau": patch_tau, "rule": rule,
            "source": {"recognition": f"{clip.info.family}: " + (g.tau_source if g and g.default_tau is not None
                                                                  else "the paper's default"),
                       "realization": f"{cells.info.family}: " + (c.tau_source if c and c.default_tau is not None
                                                                   else "the paper's default")}}


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

    def __init__(self, con, clip: GlobalEmbedder, cells: CellEmbedder, *, phash_max: int = PHASH_MAX,
                 batch_size: int = 32, max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu",
                 progress: bool = True, config: dict | None = None, k_gen: int | None = None,
                 threshold_rule: str = "gt"):
        self.con, self.clip, self.cells = con, clip, cells
        self.phash_max, self.batch_size, self.max_pixels = phash_max, batch_size, max_pixels
        self.progress, self.k_gen = progress, k_gen
        self.run_id = run_id_for(clip.info.key, cells.info.key, phash_max, k_gen, threshold_rule)
        config = {**(config or {}), "k_gen": k_gen, "threshold_rule": threshold_rule}
        config.setdefault("operating_point", operating_point(clip, cells, threshold_rule))
        db.runs.start(con, self.run_id, "score", config=config, device=device,
                      clip_key=clip.info.key, dino_key=cells.info.key, clip_info=clip.info.__dict__,
                      dino_info=cells.info.__dict__, grid=f"{cells.rows}x{cells.cols}",
                      patch_mode=getattr(cells, "mode", "crop"), phash_max=phash_max,
                      semantic=bool(clip.info.semantic and cells.info.semantic))
        self.summary = ScoreSummary(self.run_id)
        self.pool = ThreadPoolExecutor(max_workers=2)

    def _bar(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="img", disable=not self.progress)

    def _embed_missing(self, ok: list, need_g: set, need_c: set) -> dict[str, dict]:
        """Embed decoded ``(image_id, image)`` pairs with only the embedders that lack them (scoring a
        second patch mode does not re-embed CLIP); returns raw vectors by embedder key and image id."""
        gi = [(iid, im) for iid, im in ok if iid in need_g]
        ci = [(iid, im) for iid, im in ok if iid in need_c]
        new_g = dict(zip([k for k, _ in gi], self.clip.embed([im for _, im in gi]))) if gi else {}
        new_c = dict(zip([k for k, _ in ci], self.cells.embed_cells([im for _, im in ci]))) if ci else {}
        self.summary.n_global += len(new_g)
        self.summary.n_cells += len(new_c)
        return {self.clip.info.key: new_g, self.cells.info.key: new_c}

    # references --------------------------------------------------------------------------------
    def embed_references(self) -> None:
        ck, dk = self.clip.info.key, self.cells.info.key
        todo = scores_db.references_to_embed(self.con, ck, dk)
        bar = self._bar(len(todo), "embedding references")
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            ids = [t[1] for t in batch]
            need_g = set(ids) - emb_db.have(self.con, ck, ids)
            need_c = set(ids) - emb_db.have(self.con, dk, ids)
            decoded = list(self.pool.map(lambda t: _decode(Path(t[0]), t[1], self.max_pixels), batch))
            ok = [(t[1], im) for t, (im, err) in zip(batch, decoded) if im is not None]
            meta = [(t[1], None, None, None, err) for t, (im, err) in zip(batch, decoded) if im is None]
            meta += [(iid, im.width, im.height, str(imagehash.phash(im)), None) for iid, im in ok]
            new = self._embed_missing(ok, need_g, need_c)     # stored as float16 (core.similarity.quantize)
            scores_db.write_images_and_embeddings(self.con, meta, new, replace_meta=True)
            self.summary.n_refs_embedded += len(ok)
            bar.update(len(batch))
            log.debug("references written: %d/%d", min(i + self.batch_size, len(todo)), len(todo))
        bar.close()

    def dedup_references(self) -> None:
        """pHash de-duplication of dynamic references (first kept, later near-duplicates dropped);
        then invalidate similarities of slugs whose set of kept references changed."""
        by_slug: dict[str, list] = {}
        for row in scores_db.reference_hashes(self.con):
            by_slug.setdefault(row[1], []).append(row)
        dedup, kept_by_slug = [], {}
        for slug, group in by_slug.items():
            hashes = [imagehash.hex_to_hash(r[3]) for r in group]
            dups = phash_dedup(hashes, self.phash_max) if group[0][4] == "dynamic" else [None] * len(group)
            kept_by_slug[slug] = [(r[0], r[2]) for r, d in zip(group, dups) if d is None]
            dedup += [(self.run_id, r[0], slug, d is None, d and group[d[0]][0], d and d[1]) for r, d in zip(group, dups)]
        refsets = {s: hashlib.sha1("|".join(sorted(f"{f}:{i}" for f, i in k)).encode()).hexdigest()
                   for s, k in kept_by_slug.items()}
        old = scores_db.refsets(self.con, self.run_id)
        stale = sorted(s for s in set(old) | set(refsets) if old.get(s) != refsets.get(s))
        scores_db.write_dedup(self.con, self.run_id, dedup, stale, refsets)
        self.summary.n_refs_dropped = sum(1 for d in dedup if not d[3])
        if self.summary.n_refs_dropped:
            log.info("pHash de-duplication: %d dynamic reference image(s) dropped (Hamming <= %d)",
                     self.summary.n_refs_dropped, self.phash_max)

    # generations -------------------------------------------------------------------------------
    def _slug_refs(self, slug: str):
        rows = scores_db.kept_references(self.con, self.run_id, slug)
        ids = [r[1] for r in rows]
        g = emb_db.get(self.con, self.clip.info.key, ids)
        c = emb_db.get(self.con, self.cells.info.key, ids)
        rows = [r for r in rows if r[1] in g and r[1] in c]
        return ([r[0] for r in rows], np.stack([g[r[1]] for r in rows]) if rows else None,
                np.stack([c[r[1]] for r in rows]) if rows else None)

    def score_generations(self) -> None:
        todo = scores_db.generations_to_score(self.con, self.run_id, self.k_gen)
        ck, dk = self.clip.info.key, self.cells.info.key
        bar = self._bar(len(todo), "scoring generations")
        cache: dict[str, tuple] = {}
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            ids = sorted({t[2] for t in batch})
            have_g = emb_db.get(self.con, ck, ids)
            have_c = emb_db.get(self.con, dk, ids)
            need = {t[2]: t[1] for t in batch if t[2] not in have_g or t[2] not in have_c}
            need_items = sorted(need.items())
            decoded = list(self.pool.map(lambda kv: _decode(Path(kv[1]), kv[0], self.max_pixels), need_items))
            ok = [(iid, im) for (iid, _), (im, _e) in zip(need_items, decoded) if im is not None]
            meta = [(iid, None, None, None, err) for (iid, _), (im, err) in zip(need_items, decoded) if im is None]
            meta += [(iid, im.width, im.height, None, None) for iid, im in ok]
            new = self._embed_missing(ok, set(need) - set(have_g), set(need) - set(have_c))
            # the numbers used are exactly what a later load from the database gives (quantize)
            g = {**have_g, **{iid: quantize(v) for iid, v in new[ck].items()}}
            c = {**have_c, **{iid: quantize(v) for iid, v in new[dk].items()}}
            clip_rows, cell_rows = [], []
            for fid, _path, iid, slug in batch:
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
            for (iid, _), (_im, err) in zip(need_items, decoded):
                if err:
                    log.warning("skipped: %s", err)
            scores_db.write_generation_batch(self.con, meta, new, clip_rows, cell_rows)
            self.summary.n_embedded += len(ok)
            self.summary.n_generations_scored += len(clip_rows)
            bar.update(len(batch))
            log.debug("generations written: %d/%d", min(i + self.batch_size, len(todo)), len(todo))
        bar.close()

    def run(self) -> ScoreSummary:
        try:
            self.embed_references()
            self.dedup_references()
            self.score_generations()
            self.summary.problems = scores_db.problems(self.con)
            self.summary.errors = scores_db.file_errors(self.con)
        except BaseException as e:
            db.runs.finish(self.con, self.run_id, asdict(self.summary),
                           "failed" if isinstance(e, Exception) else "interrupted", f"{type(e).__name__}: {e}")
            raise
        finally:
            self.pool.shutdown()
        db.runs.finish(self.con, self.run_id, {k: v for k, v in self.summary.as_dict().items()
                                               if k not in ("errors", "problems")}
                       | {"n_errors": len(self.summary.errors), "n_problems": len(self.summary.problems)})
        return self.summary


def score_dataset(ds: Dataset, database: str | Path, clip: GlobalEmbedder, cells: CellEmbedder, **kw) -> ScoreSummary:
    """Ingest ``ds`` into the database at ``database`` and score everything not scored yet."""
    con = db.connect(database)
    try:
        sync_dataset(con, ds, progress=kw.get("progress", True))
        return Scorer(con, clip, cells, **kw).run()
    finally:
        con.close()
