"""`iconicity evaluate`: baseline similarity measures for every labelled generated image, stored in the
database (table ``baseline_scores``) and summarised as ROC-AUCs next to CLIP similarity and VR."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from . import store
from .baselines import PAIR_MEASURES, SSCD, cosine_measure, evaluation_table
from .figures import load_image
from .queries import Filters, Thresholds, metrics_table
from .views import image_path, reference_images

SCHEMA = "CREATE TABLE IF NOT EXISTS baseline_scores(run_id VARCHAR, file_id VARCHAR, measure VARCHAR, value DOUBLE)"


def read_labels(path: Path) -> dict[str, str]:
    """A user CSV ``image,label`` (image = path relative to the dataset root, as in `metrics --by image`)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not {"image", "label"} <= set(reader.fieldnames or []):
            raise ValueError(f"{path} needs the columns image,label")
        return {r["image"]: r["label"].strip() for r in reader if r["label"].strip()}


def compute_baselines(con, t: Thresholds, labels: dict[str, str] | None = None, sscd: Path | None = None,
                      run_id: str | None = None, progress: bool = True, dino_model: str | None = None) -> pd.DataFrame:
    """Score every labelled image with every baseline (max over the kept references of its slug)."""
    run_id = run_id or store.latest_run(con)
    if run_id is None:
        raise LookupError("the database has no scoring run yet — run `iconicity score` first")
    con.execute(SCHEMA)
    img = metrics_table(con, "image", t, Filters(), run_id)
    if labels:
        img["label"] = img["image"].map(labels)
    img = img[img["label"].notna()].reset_index(drop=True)
    if img.empty:
        raise ValueError("no labelled images: the database has no labels — pass --labels image,label CSV")
    measures = dict(PAIR_MEASURES)
    if sscd is not None:
        measures["sscd"] = cosine_measure(SSCD(sscd).embed)
    if dino_model is not None:       # global DINOv3 cosine: a 1x1 "grid" is the whole image
        from .embedders import load_cells

        dino = load_cells(dino_model, "crop", 1, 1)
        measures["dino_global"] = cosine_measure(lambda im: dino.embed_cells([im])[0, 0])
    ref_features: dict[str, dict[str, list]] = {}     # slug -> measure -> features of its kept references
    rows = []
    for r in tqdm(img.itertuples(), total=len(img), desc="baselines", disable=not progress):
        if r.slug not in ref_features:
            refs = reference_images(con, run_id, r.slug)
            ims = [load_image(image_path(con, f)) for f in refs[refs["kept"]]["file_id"]]
            ref_features[r.slug] = {name: [m.featurize(im) for im in ims] for name, m in measures.items()}
        gen = load_image(image_path(con, r.file_id))
        for name, m in measures.items():
            g = m.featurize(gen)
            rows.append((run_id, r.file_id, name, max(m.compare(g, f) for f in ref_features[r.slug][name])))
    df = pd.DataFrame(rows, columns=["run_id", "file_id", "measure", "value"])
    con.begin()
    con.execute("DELETE FROM baseline_scores WHERE run_id = ?", [run_id])
    con.register("_bs", df)
    con.execute("INSERT INTO baseline_scores SELECT * FROM _bs")
    con.unregister("_bs")
    con.commit()
    return img.merge(df.pivot(index="file_id", columns="measure", values="value").reset_index(), on="file_id")


def stored_baselines(con, t: Thresholds, run_id: str, f: Filters = Filters()) -> pd.DataFrame | None:
    """Per-image labels, CLIP similarity, VR and every stored baseline (None if `evaluate` never ran)."""
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'baseline_scores'").fetchone()[0]:
        return None
    b = con.execute("SELECT file_id, measure, value FROM baseline_scores WHERE run_id = ?", [run_id]).df()
    if b.empty:
        return None
    img = metrics_table(con, "image", t, f, run_id)
    return img.merge(b.pivot(index="file_id", columns="measure", values="value").reset_index(), on="file_id")


def evaluate(con, t: Thresholds, labels: dict[str, str] | None = None, sscd: Path | None = None,
             precision: float = 0.9, n_resamples: int = 999, run_id: str | None = None,
             progress: bool = True, dino_model: str | None = None) -> pd.DataFrame:
    scores = compute_baselines(con, t, labels, sscd, run_id, progress, dino_model)
    run_id = run_id or store.latest_run(con)
    cells = con.execute("SELECT file_id, avg(sim) AS mean_cell_sim FROM cell_sims WHERE run_id = ? GROUP BY 1",
                        [run_id]).df()
    scores = scores.merge(cells, on="file_id")
    measures = ["clip_sim", "vr", "mean_cell_sim", *[m for m in ("phash", "ssim", "tiled_l2", "appearance", "dino_global", "sscd")
                                                     if m in scores]]
    return evaluation_table(scores, measures, precision, n_resamples)
