"""Build the embedded demo: a dataset folder in the standard layout (docs/method.md), scored by the normal pipeline.

    iconicity demo                    # -> $ICONICITY_DATA/demo.duckdb (+ demo_dataset/ beside it)

Deterministic (fixed seeds): two builds give identical metric tables. Two processes asking for the
same demo at once (two first-start browser sessions) do not race: the build holds a file lock, and
the second waits and then finds the database built.
"""
from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..embedders import BASELINE, DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, DEFAULT_DINO_MODEL, load_cells, load_global
from ..io.atomic import atomic_path
from ..io.dataset import scan_dataset
from ..pipeline import ScoreSummary, score_dataset
from . import simulate as S
from .sources import SOURCES, textures

log = logging.getLogger(__name__)
PER_CELL = 20                       # generations per model, reference and prompt variant
#: What the demo holds changes with the code (simulator, runs, covariates): a demo built by another version is
#: rebuilt on the dashboard's first start (it is derived data, built by code).
DEMO_VERSION = "3"
VARIANTS = ("title", "description")


def demo_covariates(slug: str) -> dict[str, int]:
    """Clearly fictional covariates (``demo_`` prefix): ``demo_sitelinks`` is the simulator's fame of the
    reference (:func:`..simulate.fame`: famous works are replicated more, so it correlates with VR), and
    ``demo_year`` is noise (no relation, on purpose)."""
    rng = np.random.default_rng(S.seed_for("covariates", slug))
    return {"demo_sitelinks": int(round(21 + 380 * S.fame(slug) ** 1.5)), "demo_year": int(rng.integers(1900, 2020))}


def build_dataset(root: Path, per_cell: int = PER_CELL, progress: Callable[[float, str], None] | None = None) -> Path:
    """Write references, simulated generations and the two CSV files under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    (root / "references").mkdir(parents=True)
    refs = {s.slug: s.images() for s in SOURCES}
    tex = textures()
    with open(root / "references.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["slug", "title", "kind", "demo_sitelinks", "demo_year", "credit"])
        for s in SOURCES:
            cov = demo_covariates(s.slug)
            w.writerow([s.slug, s.title, s.kind, cov["demo_sitelinks"], cov["demo_year"], s.credit])
            for i, im in enumerate(refs[s.slug]):
                d = root / "references" / s.slug
                d.mkdir(exist_ok=True)
                im.save(d / f"{i:02d}.png")
    rows = []
    total = len(S.MODELS) * len(SOURCES) * len(VARIANTS)
    done = 0
    for model in S.MODELS:
        for s in SOURCES:
            others = [im for o in SOURCES if o.slug != s.slug for im in refs[o.slug][:1]]
            for variant in VARIANTS:
                prompt = s.title if variant == "title" else s.description
                d = root / "generations" / model / s.slug / variant
                d.mkdir(parents=True, exist_ok=True)
                for i in range(per_cell):
                    seed = S.seed_for(model, s.slug, variant, i)
                    rng = np.random.default_rng(seed)
                    label = S.LABELS[int(rng.choice(4, p=S.mix(model, variant, S.fame(s.slug))))]
                    im = S.generate(label, refs[s.slug], others, tex, rng)
                    rel = f"generations/{model}/{s.slug}/{variant}/{i:03d}.jpg"
                    im.save(root / rel, quality=90)
                    rows.append([rel, model, s.slug, variant, prompt, seed, label])
                done += 1
                if progress:
                    progress(done / total, f"simulating {model} / {s.slug} / {variant}")
    with open(root / "generations.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "model", "slug", "variant", "prompt", "seed", "label"])
        w.writerows(rows)
    return root


def pretrained_available() -> bool:
    """True when CLIP ViT-B-32/openai and DINOv3 ViT-S/16 are already in the local Hub cache."""
    try:
        import open_clip
        from huggingface_hub import try_to_load_from_cache

        hub = open_clip.get_pretrained_cfg(DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED).get("hf_hub", "").rstrip("/")
        clip_ok = any(isinstance(try_to_load_from_cache(hub, f), str)
                      for f in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"))
        dino_ok = isinstance(try_to_load_from_cache(DEFAULT_DINO_MODEL, "model.safetensors"), str)
        return bool(clip_ok and dino_ok)
    except Exception:
        return False


def build_demo(db: str | Path, dataset_dir: str | Path | None = None, embedders: str = "auto",
               per_cell: int = PER_CELL, progress: Callable[[float, str], None] | None = None,
               quiet: bool = False) -> ScoreSummary | None:
    """Build the demo dataset and score it into ``db`` (written to a temporary file, then moved in
    place, under a file lock). Returns None when another process built it while this one waited.

    ``embedders``: ``auto`` (pretrained CLIP + DINOv3 when cached locally, else the weight-free
    baseline), ``baseline`` or ``pretrained``.
    """
    from filelock import FileLock

    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    existed = db.exists() and is_current(db)
    with FileLock(str(db) + ".lock"):
        if db.exists() and not existed and is_current(db):      # built by another process while we waited
            return None
        return _build(db, dataset_dir, embedders, per_cell, progress, quiet)


def is_current(db: Path) -> bool:
    """Whether ``db`` is a demo built by this version of the code (an older demo, or one that cannot be read,
    is rebuilt)."""
    from .. import db as database
    from ..db.schema import get_meta

    try:
        con = database.connect(db, read_only=True)
    except Exception:
        return False
    try:
        return get_meta(con, "demo_version") == DEMO_VERSION
    except Exception:
        return False
    finally:
        con.close()


def _build(db: Path, dataset_dir, embedders: str, per_cell: int, progress, quiet: bool) -> ScoreSummary:
    root = Path(dataset_dir) if dataset_dir else db.with_name(db.stem + "_dataset")
    use_pretrained = embedders == "pretrained" or (embedders == "auto" and pretrained_available())
    log.info("building the demo dataset in %s ...", root)
    build_dataset(root, per_cell, progress=(lambda f, m: progress(0.6 * f, m)) if progress else None)
    if use_pretrained:
        clip, cells = load_global(), load_cells()
    else:
        clip, cells = load_global(BASELINE), load_cells(BASELINE)
    log.info("scoring with %s + %s ...", clip.info.key, cells.info.key)
    if progress:
        progress(0.62, "scoring a second run (a 3x3 grid) for Compare runs")
    with atomic_path(db) as tmp:          # readers never see a half-built database
        ds = scan_dataset(root)
        second = load_cells(BASELINE, rows=3, cols=3) if not use_pretrained else load_cells(mode="token")
        score_dataset(ds, tmp, clip, second, progress=not quiet, keep_embeddings="all")
        if progress:
            progress(0.7, "scoring (embedding every image once)")
        summary = score_dataset(ds, tmp, clip, cells, progress=not quiet, keep_embeddings="all")
        from ..analysis.covariates import title_uniqueness
        from ..db import connect
        from ..db.schema import set_meta

        con = connect(tmp)
        try:
            title_uniqueness(con)             # real covariates (wordfreq, offline) beside the fictional ones
            set_meta(con, "demo_version", DEMO_VERSION)
        finally:
            con.close()
    if progress:
        progress(1.0, "done")
    return summary
