"""``score_dataset``: ingest a dataset into a database and score everything not scored yet, with the
embedding stage on this machine or on a Ray cluster."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import db
from ..embedders import CellEmbedder, GlobalEmbedder
from ..io.dataset import Dataset
from .ingest import sync_dataset
from .scorer import LocalStage, Scorer, ScoreSummary

if TYPE_CHECKING:
    from .ray_backend import RayStage

BACKENDS = ("local", "ray")


def score_dataset(ds: Dataset, database: str | Path, clip: GlobalEmbedder, cells: CellEmbedder,
                  backend: str = "local", ray: dict | None = None, **kw) -> ScoreSummary:
    """Ingest ``ds`` into the database at ``database`` and score everything not scored yet, locally or
    on a Ray cluster (``backend="ray"``; ``ray``: address, actors, GPUs per actor, model options)."""
    if backend not in BACKENDS:
        raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    con = db.connect(database)
    stage: LocalStage | RayStage | None = None
    try:
        sync_dataset(con, ds, progress=kw.get("progress", True))
        if backend == "ray":
            from .ray_backend import RayStage

            stage = RayStage(clip, cells, kw.get("batch_size", 32), kw.get("max_pixels"), ray or {},
                             kw.get("decode", "careful"))
        else:
            stage = LocalStage(clip, cells, kw.get("batch_size", 32), kw.pop("workers", None),
                               **{k: kw[k] for k in ("max_pixels", "device", "decode") if k in kw})
        return Scorer(con, clip, cells, stage=stage, **kw).run()
    finally:
        if stage is not None:
            stage.close()
        con.close()
