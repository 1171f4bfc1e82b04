"""`iconicity evaluate`: plain similarity measures for every labelled generated image, stored in the
database (keyed by the evaluate run) and summarised as ROC-AUCs next to CLIP similarity and VR.

Images are read with the scorer's safe loader: a missing or broken file is skipped and reported per
item (never replaced by a placeholder), and the counts say how many were skipped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from .. import db
from ..config import N_RESAMPLES, Filters, Thresholds
from ..io.images import DEFAULT_MAX_PIXELS, ImageLoadError, read_and_load
from ..io.labels import no_labels_message, read_labels
from ..io.provenance import sha256_file
from .plain_measures import PAIR_MEASURES, SSCD, Measure, cosine_measure, evaluation_table

log = logging.getLogger(__name__)
MEASURE_ORDER = ("clip_sim", "vr", "mean_cell_sim", "phash", "ssim", "tiled_l2", "appearance", "dino_global", "sscd")


@dataclass
class Evaluation:
    """The AUC table and what happened on the way."""

    table: pd.DataFrame
    run_id: str
    n_labelled: int
    n_scored: int
    skipped: list[tuple[str, str]] = field(default_factory=list)    # (image, why)
    problems: list[tuple[str, str]] = field(default_factory=list)   # labels file rows


def _load(path: Path | None, name: str, skipped: list) -> Image.Image | None:
    if path is None:
        skipped.append((name, "file not found (or outside its dataset folder) — restore it or drop its label"))
        return None
    try:
        return read_and_load(path, DEFAULT_MAX_PIXELS)[1]
    except ImageLoadError as e:
        skipped.append((name, str(e)))
        return None


def _measures(sscd: Path | None, dino_model: str | None) -> dict[str, Measure]:
    measures = dict(PAIR_MEASURES)
    if sscd is not None:
        measures["sscd"] = cosine_measure(SSCD(sscd).embed)
    if dino_model is not None:       # global DINOv3 cosine: a 1x1 "grid" is the whole image
        from ..embedders import load_cells

        dino = load_cells(dino_model, "crop", 1, 1)
        measures["dino_global"] = cosine_measure(lambda im: dino.embed_cells([im])[0, 0])
    return measures


def evaluate(con, t: Thresholds, labels_file: Path | None = None, sscd: Path | None = None,
             precision: float = 0.9, n_resamples: int = N_RESAMPLES, run_id: str | None = None,
             progress: bool = True, dino_model: str | None = None) -> Evaluation:
    """Score every labelled image with every plain measure (max over the kept references of its slug),
    store the scores under a new evaluate run, and return the AUC table."""
    run_id = db.runs.resolve(con, run_id)
    labels, problems = read_labels(labels_file) if labels_file else (None, [])
    img = db.metrics_sql.metrics_table(con, "image", t, Filters(), run_id)
    if labels is not None:
        img["label"] = img["image"].map(labels)
    else:                                             # the database's labels, then the dashboard's sidecar
        img["label"] = with_sidecar_labels(con, img)
    img = img[img["label"].notna()].reset_index(drop=True)
    if img.empty:
        raise ValueError(no_labels_message(labels_file))
    measures = _measures(sscd, dino_model)
    config = {"thresholds": t.as_dict(), "precision": precision, "bootstrap_resamples": n_resamples,
              "measures": sorted(measures), "dino_model": dino_model, "labels": "file" if labels_file else "database"}
    inputs = {"labels_file": str(labels_file) if labels_file else None,
              "labels_sha256": sha256_file(labels_file) if labels_file else None,
              "sscd_sha256": sha256_file(sscd) if sscd else None, "n_labelled": len(img)}
    with db.runs.recorded(con, "evaluate", config, inputs, parent_run=run_id) as rec:
        skipped: list[tuple[str, str]] = []
        ref_features: dict[str, dict[str, list]] = {}     # slug -> measure -> features of its kept references
        rows = []
        gen_paths = db.views.image_paths(con, list(img["file_id"]))      # one query, not one per image
        for r in tqdm(img.itertuples(), total=len(img), desc="plain measures", disable=not progress):
            if r.slug not in ref_features:
                refs = db.views.reference_images(con, run_id, r.slug)
                kept = refs[refs["kept"]]
                ref_paths = db.views.image_paths(con, list(kept["file_id"]))
                ims = [im for f, rel in zip(kept["file_id"], kept["relpath"], strict=True)
                       if (im := _load(ref_paths[f], rel, skipped)) is not None]
                ref_features[r.slug] = {name: [m.featurize(im) for im in ims] for name, m in measures.items()}
            if not ref_features[r.slug][next(iter(measures))]:
                skipped.append((r.image, f"no readable reference image for {r.slug!r}"))
                continue
            gen = _load(gen_paths[r.file_id], r.image, skipped)
            if gen is None:
                continue
            for name, m in measures.items():
                g = m.featurize(gen)
                rows.append((r.file_id, name, max(m.compare(g, f) for f in ref_features[r.slug][name])))
        for item, why in skipped:
            log.warning("skipped %s: %s", item, why)
        df = pd.DataFrame(rows, columns=["file_id", "measure", "value"])
        db.measure_scores.write(con, rec.run_id, df)
        scores = img.merge(db.measure_scores.read(con, rec.run_id), on="file_id")
        scores = scores.merge(db.measure_scores.mean_cell_sims(con, run_id), on="file_id")
        table = evaluation_table(scores, [m for m in MEASURE_ORDER if m in scores], precision, n_resamples)
        n_scored = int(scores["file_id"].nunique())
        rec.outputs.update({"n_scored": n_scored, "n_skipped": len(img) - n_scored,
                            "skipped": [{"image": i, "why": w} for i, w in skipped[:1000]]})
    return Evaluation(table, rec.run_id, len(img), n_scored, skipped, problems)


def with_sidecar_labels(con, images: pd.DataFrame) -> pd.Series:
    """The ``label`` column of a per-image table with the labels people gave in the dashboard (the
    sidecar ``DB.labels.csv``) taking precedence over the database's."""
    from ..io import labels as sidecar

    path = db.path_of(con)
    given = sidecar.by_file(path, images["file_id"], images["image"]) if path is not None else {}
    return images["file_id"].map(given).fillna(images["label"]) if given else images["label"]


def stored_measures(con, t: Thresholds, run_id: str, f: Filters = Filters()) -> pd.DataFrame | None:
    """Per-image labels, CLIP similarity, VR and the scores of the latest evaluate run over ``run_id``
    (None if `evaluate` never ran on it)."""
    ev = db.measure_scores.latest_evaluate_run(con, run_id)
    if ev is None:
        return None
    b = db.measure_scores.read(con, ev)
    if b.empty:
        return None
    return db.metrics_sql.metrics_table(con, "image", t, f, run_id).merge(b, on="file_id")


def measure_columns(scores: pd.DataFrame) -> list[str]:
    """The measure columns present in a :func:`stored_measures` table, in the display order."""
    return [m for m in MEASURE_ORDER if m in scores and m != "mean_cell_sim"]
