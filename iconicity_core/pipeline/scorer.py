"""The scoring pipeline: dataset -> files/hashes -> embeddings (once per image) -> similarities.

Every write happens in a transaction per batch (through :mod:`iconicity_core.db`), and work is keyed
by content and run, so a run killed at any moment and started again ends with exactly the rows of an
uninterrupted run, and a second run over unchanged data embeds nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field

import imagehash
import numpy as np
import pandas as pd

from .. import db
from ..config import PHASH_MAX
from ..core.dedup import phash_dedup
from ..core.similarity import best_match, match_cells, quantize
from ..db import embeddings as emb_db
from ..db import scores as scores_db
from ..embedders import CellEmbedder, GlobalEmbedder
from ..errors import IconicityError
from ..io.images import DEFAULT_MAX_PIXELS
from .stream import Task, stream

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


#: Which embeddings a score run keeps in the database (similarities are always kept).
KEEP = ("all", "references", "none")


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
        return next((e for e in list_embedders(role) if e.name == info.family), None)

    g, c = spec("recognition", clip.info), spec("realization", cells.info)
    clip_tau = g.default_tau if g and g.default_tau is not None else CLIP_TAU
    patch_tau = c.default_tau if c and c.default_tau is not None else PATCH_TAU
    return {"clip_tau": clip_tau, "clip_tau_dynamic": clip_tau if clip_tau_dynamic is None else clip_tau_dynamic,
            "patch_tau": patch_tau, "rule": rule,
            "source": {"recognition": f"{clip.info.family}: " + (g.tau_source if g and g.default_tau is not None
                                                                  else "the paper's default"),
                       "realization": f"{cells.info.family}: " + (c.tau_source if c and c.default_tau is not None
                                                                   else "the paper's default")}}


class StageError(IconicityError, RuntimeError):
    """The embedding stage cannot go on (a Ray cluster that cannot be reached, has no GPU, or lost an actor
    too often); the message says what to do — everything written so far is kept, so a re-run resumes."""


class LocalStage:
    """The embedding stage on this machine: worker processes read, decode and prepare images
    (:mod:`.stream`), this process runs the models on batches. A stage is a callable from tasks to
    ``(batch, new)`` per batch, in task order — the per-image records (``image_id, error, width, height,
    phash``) and the new raw vectors by embedder key and image id — and has a ``close()``; the Ray stage
    (:mod:`.ray_backend`) is the other one."""

    def __init__(self, clip: GlobalEmbedder, cells: CellEmbedder, batch_size: int = 32, workers: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu", decode: str = "careful") -> None:
        self.clip, self.cells, self.batch_size, self.workers, self.max_pixels = clip, cells, batch_size, workers, max_pixels
        self.pin, self.decode = str(device).startswith("cuda"), decode

    def __call__(self, tasks: list[Task]):
        import torch

        from .stream import default_workers, model_threads

        workers = default_workers() if self.workers is None else self.workers
        before = torch.get_num_threads()
        if workers and len(tasks) > self.batch_size and not self.pin:     # CPU model stage beside the workers
            torch.set_num_threads(model_threads(workers))
        try:
            for batch in stream(tasks, self.clip, self.cells, self.batch_size, workers, self.max_pixels, self.pin,
                                self.decode):
                yield batch, embed_prepared(self.clip, self.cells, [p for p in batch if p["error"] is None])
        finally:
            torch.set_num_threads(before)

    def close(self) -> None:
        pass


def embed_prepared(clip: GlobalEmbedder, cells: CellEmbedder, ok: list[dict]) -> dict[str, dict]:
    """Model stage: embed prepared images with the embedders that lack them (scoring a second patch mode
    does not re-embed CLIP); raw vectors by embedder key and image id."""
    gi = [p for p in ok if p["g"] is not None]
    ci = [p for p in ok if p["c"] is not None]
    new_g = dict(zip([p["image_id"] for p in gi], clip.embed_prepared([p["g"] for p in gi]), strict=True)) if gi else {}
    new_c = dict(zip([p["image_id"] for p in ci], cells.embed_prepared([p["c"] for p in ci]), strict=True)) if ci else {}
    return {clip.info.key: new_g, cells.info.key: new_c}


class Scorer:
    """Runs the pipeline for one pair of embedders over everything recorded in a database.

    Three stages overlap: the embedding stage (``stage``: :class:`LocalStage` by default — worker
    processes prepare, this process embeds — or the Ray stage); a writer thread matches each image
    against its references and writes a transaction per batch (embeddings and similarities together)."""

    def __init__(self, con, clip: GlobalEmbedder, cells: CellEmbedder, *, phash_max: int = PHASH_MAX,
                 batch_size: int = 32, max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu",
                 progress: bool = True, config: dict | None = None, k_gen: int | None = None,
                 threshold_rule: str = "gt", workers: int | None = None, keep_embeddings: str = "references",
                 stage=None, decode: str = "careful"):
        self.con, self.clip, self.cells = con, clip, cells
        self.phash_max, self.batch_size, self.max_pixels = phash_max, batch_size, max_pixels
        if keep_embeddings not in KEEP:
            raise ValueError(f"--keep-embeddings must be one of {', '.join(KEEP)}")
        self.progress, self.k_gen, self.keep = progress, k_gen, keep_embeddings
        self.stage = stage or LocalStage(clip, cells, batch_size, workers, max_pixels, device, decode)
        self.run_id = run_id_for(clip.info.key, cells.info.key, phash_max, k_gen, threshold_rule)
        config = {**(config or {}), "k_gen": k_gen, "threshold_rule": threshold_rule,
                  "keep_embeddings": keep_embeddings, "decode": decode}
        config.setdefault("operating_point", operating_point(clip, cells, threshold_rule))
        db.runs.start(con, self.run_id, "score", config=config, device=device,
                      clip_key=clip.info.key, dino_key=cells.info.key, clip_info=clip.info.__dict__,
                      dino_info=cells.info.__dict__, grid=f"{cells.rows}x{cells.cols}",
                      patch_mode=getattr(cells, "mode", "crop"), phash_max=phash_max,
                      semantic=bool(clip.info.semantic and cells.info.semantic))
        db.runs.update_config(con, self.run_id, {"keep_embeddings": keep_embeddings})   # a resumed run: asked now
        self.summary = ScoreSummary(self.run_id)

    def _bar(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="img", disable=not self.progress)

    def embedded(self, tasks: list[Task]):
        """``(batch, new)`` per batch of tasks, in order, from the embedding stage."""
        return self.stage(tasks)

    def _count(self, new: dict) -> None:
        self.summary.n_global += len(new[self.clip.info.key])
        self.summary.n_cells += len(new[self.cells.info.key])

    # references --------------------------------------------------------------------------------
    def embed_references(self) -> None:
        ck, dk = self.clip.info.key, self.cells.info.key
        todo = scores_db.references_to_embed(self.con, ck, dk)
        ids = [t[1] for t in todo]
        have_g, have_c = emb_db.have(self.con, ck, ids), emb_db.have(self.con, dk, ids)
        tasks = [Task(iid, path, size, mtime, iid not in have_g, iid not in have_c, True)
                 for path, iid, size, mtime in todo]
        bar = self._bar(len(tasks), "embedding references")
        done = 0
        for batch, new in self.embedded(tasks):
            ok = [p for p in batch if p["error"] is None]
            meta = [(p["image_id"], p["width"], p["height"], p["phash"], p["error"]) for p in batch]
            self._count(new)                         # stored as float16 (core.similarity.quantize)
            scores_db.write_images_and_embeddings(self.con, meta, new, replace_meta=True)
            self.summary.n_refs_embedded += len(ok)
            done += len(batch)
            bar.update(len(batch))
            log.debug("references written: %d/%d", done, len(tasks))
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
            kept_by_slug[slug] = [(r[0], r[2]) for r, d in zip(group, dups, strict=True) if d is None]
            dedup += [(self.run_id, r[0], slug, d is None, d and group[d[0]][0], d and d[1]) for r, d in zip(group, dups, strict=True)]
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
    def score_generations(self) -> None:
        """Stream the images that still need an embedding (one per distinct content, in the order of
        the files to score); as each batch is embedded, the files whose images are all ready go to the
        writer, which matches them against their slug's references and writes one transaction."""
        todo = scores_db.generations_to_score(self.con, self.run_id, self.k_gen)
        ck, dk = self.clip.info.key, self.cells.info.key
        ids = list(dict.fromkeys(t[2] for t in todo))
        have_g, have_c = emb_db.have(self.con, ck, ids), emb_db.have(self.con, dk, ids)
        first: dict = {}
        for t in todo:
            first.setdefault(t[2], t)
        tasks = [Task(iid, first[iid][1], first[iid][4], first[iid][5], iid not in have_g, iid not in have_c)
                 for iid in ids if iid not in have_g or iid not in have_c]
        ready = {iid for iid in ids if iid in have_g and iid in have_c}
        bar = self._bar(len(todo), "scoring generations")
        writer = _Writer(self, bar, todo)
        pos = 0

        def release(final: bool = False) -> list[tuple]:
            nonlocal pos
            start = pos
            while pos < len(todo) and (final or todo[pos][2] in ready):
                pos += 1
            return todo[start:pos]

        try:
            writer.put([], {ck: {}, dk: {}}, release())
            for batch, new in self.embedded(tasks):
                ok = [p for p in batch if p["error"] is None]
                for p in batch:
                    if p["error"]:
                        log.warning("skipped: %s", p["error"])
                meta = [(p["image_id"], p["width"], p["height"], None, p["error"]) for p in batch]
                self._count(new)
                self.summary.n_embedded += len(ok)
                ready.update(p["image_id"] for p in batch)
                writer.put(meta, new, release())
            writer.put([], {ck: {}, dk: {}}, release(final=True))
            writer.close()
        finally:
            writer.stop()
            bar.close()

    def run(self) -> ScoreSummary:
        import time

        try:
            for phase in (self.embed_references, self.dedup_references, self.score_generations):
                t = time.perf_counter()
                phase()
                log.debug("%s: %.2f s", phase.__name__, time.perf_counter() - t)
            if self.keep != "all":         # drop what no run of these embedders keeps (never another run's)
                emb_db.prune(self.con)
            self.summary.problems = scores_db.problems(self.con)
            self.summary.errors = scores_db.file_errors(self.con)
        except BaseException as e:
            db.runs.finish(self.con, self.run_id, asdict(self.summary),
                           "failed" if isinstance(e, Exception) else "interrupted", f"{type(e).__name__}: {e}")
            raise
        db.runs.finish(self.con, self.run_id, {k: v for k, v in self.summary.as_dict().items()
                                               if k not in ("errors", "problems")}
                       | {"n_errors": len(self.summary.errors), "n_problems": len(self.summary.problems)})
        return self.summary


def _cell_frame(run_id: str, parts: list) -> pd.DataFrame:
    """The ``cell_sims`` rows of a batch, built column-wise (no Python tuple per cell)."""
    if not parts:
        return pd.DataFrame(columns=scores_db.CELL_COLUMNS)
    k = len(parts[0][2].best_sim)
    return pd.DataFrame({
        "run_id": run_id, "file_id": np.repeat([f for f, _, _ in parts], k), "cell": np.tile(np.arange(k), len(parts)),
        "sim": np.concatenate([m.best_sim for _, _, m in parts]).astype(np.float32),
        "ref_file": np.concatenate([np.asarray(refs, object)[m.best_ref] for _, refs, m in parts]),
        "ref_cell": np.concatenate([m.best_ref_cell for _, _, m in parts]),
        "same_pos_sim": np.concatenate([m.same_pos_sim for _, _, m in parts]).astype(np.float32)})


class _Writer:
    """The writer stage: a thread that owns the database connection while generations stream — it
    matches ready files against their references and writes a transaction per batch. A bounded queue
    keeps the model stage at most two batches ahead."""

    def __init__(self, scorer: Scorer, bar, todo: list) -> None:
        import queue
        import threading
        from collections import Counter

        self.s, self.bar, self.total = scorer, bar, len(todo)
        self.pending = Counter(t[2] for t in todo)       # files still to write, per image
        self.mem: dict[str, list] = {}                   # vectors of images with files still to write
        self.q: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.cache: dict[str, tuple] = {}
        self.done = 0
        self.thread = threading.Thread(target=self._loop, name="iconicity-writer", daemon=True)
        self.thread.start()

    def put(self, meta: list, new: dict, files: list) -> None:
        if self.error is not None:
            raise self.error
        self.q.put((meta, new, files))

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """After an error or Ctrl-C in the main thread: the writer finishes the batches already queued
        (embedded work is not thrown away) and ends. A blocking put: the writer is consuming (or, after
        its own error, draining), so it cannot wait forever — a full queue made the old non-blocking
        put fail and the join hang."""
        if self.thread.is_alive():
            self.q.put(None)
            self.thread.join()

    def _loop(self) -> None:
        try:
            while (item := self.q.get()) is not None:
                self._write(*item)
        except BaseException as e:                   # re-raised in the main thread
            self.error = e
            while self.q.get() is not None:
                pass

    def _slug_refs(self, slug: str):
        s = self.s
        rows = scores_db.kept_references(s.con, s.run_id, slug)
        ids = [r[1] for r in rows]
        g = emb_db.get(s.con, s.clip.info.key, ids)
        c = emb_db.get(s.con, s.cells.info.key, ids)
        rows = [r for r in rows if r[1] in g and r[1] in c]
        return ([r[0] for r in rows], np.stack([g[r[1]] for r in rows]) if rows else None,
                np.stack([c[r[1]] for r in rows]) if rows else None)

    def _write(self, meta: list, new: dict, files: list) -> None:
        s = self.s
        ck, dk = s.clip.info.key, s.cells.info.key
        # new vectors stay in memory until the image's last file is written; the numbers used are exactly
        # what a later load from the database gives (quantize)
        for slot, key in enumerate((ck, dk)):
            for iid, v in new[key].items():
                self.mem.setdefault(iid, [None, None])[slot] = quantize(v)
        need = {f[2] for f in files}
        g = {i: self.mem[i][0] for i in need if self.mem.get(i, (None, None))[0] is not None}
        c = {i: self.mem[i][1] for i in need if self.mem.get(i, (None, None))[1] is not None}
        g |= emb_db.get(s.con, ck, sorted(need - g.keys()))           # embedded by an earlier run
        c |= emb_db.get(s.con, dk, sorted(need - c.keys()))
        for f in files:
            self.pending[f[2]] -= 1
            if self.pending[f[2]] <= 0:
                self.mem.pop(f[2], None)
        clip_rows, parts = [], []
        for fid, _path, iid, slug, *_ in files:
            if iid not in g or iid not in c:
                continue                              # unreadable: recorded in images.error
            if slug not in self.cache:
                self.cache.clear()
                self.cache[slug] = self._slug_refs(slug)
            ref_fids, rg, rc = self.cache[slug]
            if rg is None:
                continue
            sim, j = best_match(g[iid][None], rg)
            clip_rows.append((s.run_id, fid, slug, float(sim[0]), ref_fids[int(j[0])], len(ref_fids)))
            parts.append((fid, ref_fids, match_cells(c[iid], rc)))
        cell_rows = _cell_frame(s.run_id, parts)
        keep = new if s.keep == "all" else {key: {} for key in new}     # generated images' vectors: if asked
        scores_db.write_generation_batch(s.con, meta, keep, clip_rows, cell_rows)
        s.summary.n_generations_scored += len(clip_rows)
        self.done += len(files)
        if files:
            self.bar.update(len(files))
            log.debug("generations written: %d/%d", self.done, self.total)
