"""Build the embedded demo: a dataset folder in the standard layout (docs/method.md), scored by the normal pipeline.

    iconicity demo                    # -> $ICONICITY_DATA/demo.duckdb (+ demo_dataset/ beside it)

Deterministic (fixed seeds): two builds give identical metric tables. Two processes asking for the
same demo at once (two first-start browser sessions) do not race: the build holds a file lock, and
the second waits and then finds the database built.

The demo owns only what it made: it replaces a database only when that database is a demo (it records a
``demo_version``), removes a dataset folder only when the folder carries the demo's marker file (or is the
untouched folder an earlier demo made), and never rebuilds a demo that another process is writing
(:class:`~iconicity_core.errors.DatabaseBusy`: wait, then try again).
"""
from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..embedders import BASELINE, DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, DEFAULT_DINO_MODEL, load_cells, load_global
from ..errors import DatabaseMissing, DemoRefused, IconicityError, NotADatabase
from ..io.atomic import atomic_path
from ..io.dataset import scan_dataset
from ..io.outputs import fence_output
from ..pipeline import ScoreSummary, score_dataset
from . import simulate as S
from .sources import SOURCES, textures

log = logging.getLogger(__name__)
PER_CELL = 20                       # generations per model, reference and prompt variant
#: What the demo holds changes with the code (simulator, runs, covariates): a demo built by another version is
#: rebuilt on the dashboard's first start (it is derived data, built by code).
DEMO_VERSION = "3"
VARIANTS = ("title", "description")
#: The file the demo leaves in the dataset folders it makes (it removes only folders that carry it).
MARKER = ".iconicity-demo"
#: What an earlier demo (before the marker) wrote at the top of its dataset folder.
_EARLIER = {"references", "generations", "references.csv", "generations.csv"}
_HEADER = "slug,title,kind,demo_sitelinks,demo_year,credit"


def demo_covariates(slug: str) -> dict[str, int]:
    """Clearly fictional covariates (``demo_`` prefix): ``demo_sitelinks`` is the simulator's fame of the
    reference (:func:`..simulate.fame`: famous works are replicated more, so it correlates with VR), and
    ``demo_year`` is noise (no relation, on purpose)."""
    rng = np.random.default_rng(S.seed_for("covariates", slug))
    return {"demo_sitelinks": round(21 + 380 * S.fame(slug) ** 1.5), "demo_year": int(rng.integers(1900, 2020))}


def build_dataset(root: Path, per_cell: int = PER_CELL, progress: Callable[[float, str], object] | None = None) -> Path:
    """Write references, simulated generations and the two CSV files under ``root`` (replacing a folder only
    when the demo made it: :func:`owns_dataset`)."""
    if not owns_dataset(root):
        raise DemoRefused(_not_ours_folder(root))
    if root.exists():
        shutil.rmtree(root)
    (root / "references").mkdir(parents=True)
    (root / MARKER).write_text(f"made by `iconicity demo` (demo version {DEMO_VERSION}); the demo replaces this "
                               "folder when it is rebuilt\n", encoding="utf-8")
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


def what_it_is(per_cell: int = PER_CELL) -> str:
    """The demo in one sentence, counted from what the builder makes.

    >>> what_it_is()
    'It scores 1,600 images of 4 simulated text-to-image models against 10 freely licensed reference works.'
    """
    n = len(S.MODELS) * len(SOURCES) * len(VARIANTS) * per_cell
    return (f"It scores {n:,} images of {len(S.MODELS)} simulated text-to-image models against {len(SOURCES)} freely "
            "licensed reference works.")


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
               per_cell: int = PER_CELL, progress: Callable[[float, str], object] | None = None,
               quiet: bool = False, create_parents: bool = True) -> ScoreSummary | None:
    """Build the demo dataset and score it into ``db`` (written to a temporary file, then moved in
    place, under a file lock). Returns None when another process built it while this one waited.

    ``embedders``: ``auto`` (pretrained CLIP + DINOv3 when cached locally, else the weight-free
    baseline), ``baseline`` or ``pretrained``. Refuses (:class:`DemoRefused`) a ``db`` that exists and is
    not a demo, and a dataset folder the demo did not make; raises
    :class:`~iconicity_core.errors.DatabaseBusy` when another process is writing the demo.
    """
    from filelock import FileLock

    db = Path(db)
    root = _dataset_dir(db, dataset_dir)
    existed = check_owned(db, root, create_parents) == "current"
    try:
        with FileLock(str(db) + ".lock"):
            state = check_owned(db, root, create_parents)
            if state == "current" and not existed:      # built by another process while we waited
                return None
            return _build(db, root, embedders, per_cell, progress, quiet)
    except OSError as e:
        if isinstance(e, IconicityError):
            raise
        raise DemoRefused(f"cannot build the demo at {db} ({e.strerror or e}) — give a folder you can write to "
                          "(--db, or $ICONICITY_DATA for the dashboard)") from None


def _dataset_dir(db: Path, dataset_dir) -> Path:
    return Path(dataset_dir) if dataset_dir else db.with_name(db.stem + "_dataset")


def demo_state(db: Path) -> str:
    """``missing``, ``current`` (a demo of this version), ``old`` (a demo of another version) or ``not-demo``
    (anything else at the path: a user's database, a damaged file, a folder). A demo another process is
    writing raises :class:`~iconicity_core.errors.DatabaseBusy` — it is never "not current"."""
    from ..db import peek_meta

    try:
        version = peek_meta(db, "demo_version")
    except DatabaseMissing:
        return "missing"
    except NotADatabase:
        return "not-demo"
    if version is None:
        return "not-demo"
    return "current" if version == DEMO_VERSION else "old"


def check_owned(db: Path, root: Path, create_parents: bool = True) -> str:
    """The demo's state at ``db`` (:func:`demo_state`), after checking that building there replaces only what
    the demo made; raises :class:`DemoRefused` (or ``DatabaseBusy``) otherwise."""
    if db.is_symlink() or (db.exists() and not db.is_file()):
        raise DemoRefused(f"{db} is not a demo database (a folder, link or device) — the demo never replaces it; "
                          "choose another path with --db (e.g. data/demo.duckdb)")
    state = demo_state(db)
    if state == "not-demo":
        other = db.with_name("demo.duckdb" if db.name != "demo.duckdb" else "iconicity_demo.duckdb")
        raise DemoRefused(f"{db} is not a demo database (it may hold your data) — the demo never replaces it; "
                          f"choose another path with --db, e.g. --db {other}")
    if state == "missing":
        fence_output(db, "file", create_parents=create_parents)     # no sidecar of another database, a real folder
    if not owns_dataset(root, state in ("current", "old")):
        raise DemoRefused(_not_ours_folder(root))
    return state


def owns_dataset(root: Path, beside_a_demo: bool = False) -> bool:
    """Whether the demo may replace the folder ``root``: it does not exist, is empty, carries :data:`MARKER`,
    or (``beside_a_demo``) is the untouched folder an earlier demo made (its files and its references.csv
    header exactly)."""
    if not root.exists() and not root.is_symlink():
        return True
    if root.is_symlink() or not root.is_dir():
        return False
    names = {p.name for p in root.iterdir()}
    if not names or MARKER in names:
        return True
    if beside_a_demo and names <= _EARLIER and "references.csv" in names:
        try:
            with open(root / "references.csv", encoding="utf-8") as f:
                return f.readline().strip() == _HEADER
        except OSError:
            return False
    return False


def _not_ours_folder(root: Path) -> str:
    return (f"the folder {root} exists and was not made by the demo (no {MARKER} file in it) — the demo never removes "
            "it; move it away, or build the demo at another path with --db")


def is_current(db: Path) -> bool:
    """Whether ``db`` is a demo built by this version of the code (a demo built by another version is rebuilt;
    a busy one raises :class:`~iconicity_core.errors.DatabaseBusy` — wait, never rebuild)."""
    return demo_state(db) == "current"


def _build(db: Path, root: Path, embedders: str, per_cell: int, progress, quiet: bool) -> ScoreSummary:
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
        check_owned(db, root)                 # still ours and nobody writing it: only then replace it
    if progress:
        progress(1.0, "done")
    return summary
