"""How consistent are a dynamic reference's own images? ("Validate dynamic reference filtering by examining
pairwise CLIP similarities among retrieved images.") From the stored CLIP vectors of the kept reference
images: the pairwise similarity matrix of each dynamic work, each image's mean similarity to the others, the
outliers (a robust z-score below ``-z`` or a mean similarity below ``floor``), and how CRA changes when the
outliers are dropped — exactly when the run kept the generated images' vectors (``--keep-embeddings all``),
else as the number of generations whose best match is an outlier (their recognition can only fall)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import db
from ..config import Thresholds
from ..core import metrics as kernel

#: Outliers: robust z-score (median / 1.4826 MAD of the images' mean similarity) below -Z ...
Z = 3.5
#: ... or a mean similarity to the other images below FLOOR (the curation rule keeps CLIP > 0.7; callers pass
#: the run's recognition operating point, so the appearance baseline is judged at its own scale).
FLOOR = 0.7


@dataclass
class WorkConsistency:
    slug: str
    images: pd.DataFrame          # file_id, relpath, mean_similarity, robust_z, outlier
    matrix: pd.DataFrame          # pairwise cosine, indexed by relpath
    cra: pd.DataFrame             # per model and variant: n, cra_all, cra_without_outliers (NaN when every image is an
                                  # outlier: no reference is left), n_refs_kept, n_best_is_outlier, exact


def robust_z(x: np.ndarray) -> np.ndarray:
    """``(x - median) / (1.4826 * MAD)`` (0 when the spread is 0).

    >>> robust_z(np.array([0.9, 0.91, 0.89, 0.9, 0.2])).round(1).tolist()
    [0.0, 0.7, -0.7, 0.0, -47.2]
    """
    med = np.median(x)
    mad = 1.4826 * np.median(np.abs(x - med))
    return np.zeros_like(x) if mad == 0 else (x - med) / mad


def flag_outliers(sim: np.ndarray, z: float = Z, floor: float = FLOOR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean similarity to the others, robust z, outlier)`` per image of a pairwise similarity matrix
    (with fewer than 3 images nothing is an outlier by z; the floor still applies)."""
    n = len(sim)
    mean = (sim.sum(axis=1) - np.diag(sim)) / max(n - 1, 1) if n > 1 else np.ones(n)
    rz = robust_z(mean) if n >= 3 else np.zeros(n)
    return mean, rz, (rz < -z) | ((mean < floor) & (n > 1))


def work_consistency(con, run_id: str, slug: str, t: Thresholds, z: float = Z, floor: float = FLOOR) -> WorkConsistency:
    """The consistency of one work's kept reference images and the CRA without its outliers."""
    run = db.runs.require(con, run_id)
    refs = db.views.reference_images(con, run_id, slug)
    refs = refs[refs["kept"]].reset_index(drop=True)
    ids = db.views.file_images(con, list(refs["file_id"]))
    refs["image_id"] = refs["file_id"].map(ids)
    vecs = db.embeddings.get(con, run["clip_key"], list(refs["image_id"].dropna()))
    refs = refs[refs["image_id"].isin(vecs)].reset_index(drop=True)
    if refs.empty:
        raise LookupError(f"no stored CLIP vectors for the reference images of {slug!r} (scored with "
                          "--keep-embeddings none?) — score again with --keep-embeddings references or all")
    v = np.stack([vecs[i] for i in refs["image_id"]]).astype(np.float64)
    sim = v @ v.T
    mean, rz, out = flag_outliers(sim, z, floor)
    images = refs[["file_id", "relpath"]].assign(mean_similarity=mean, robust_z=rz, outlier=out)
    matrix = pd.DataFrame(sim, index=refs["relpath"], columns=refs["relpath"])
    gens = db.views.best_references(con, run_id, slug)
    keep_ids = refs.loc[~out, "file_id"].tolist()
    exact = False
    new_sim = gens["clip_sim"].to_numpy(float).copy()
    if out.any() and len(gens):
        gvec = db.embeddings.get(con, run["clip_key"], list(gens["image_id"]))
        if set(gens["image_id"]) <= set(gvec) and keep_ids:     # generated vectors kept: recompute exactly
            keep = np.stack([vecs[i] for i in refs.loc[~out, "image_id"]]).astype(np.float64)
            g = np.stack([gvec[i] for i in gens["image_id"]]).astype(np.float64)
            new_sim = np.clip((g @ keep.T).max(axis=1), -1, 1)
            exact = True
        else:                                                    # else: an image whose best match is dropped fails
            new_sim[gens["ref_file"].isin(refs.loc[out, "file_id"]).to_numpy()] = -np.inf
    else:
        exact = True
    dynamic = gens["kind"].to_numpy() == "dynamic"
    taus = kernel.clip_taus(dynamic, t.clip_tau, t.dynamic_tau)
    gens = gens.assign(rec_all=kernel.recognised(gens["clip_sim"].to_numpy(float), taus, t.rule, dynamic),
                       rec_without=kernel.recognised(new_sim, taus, t.rule, dynamic) if len(gens) else np.zeros(0, bool),
                       best_is_outlier=gens["ref_file"].isin(refs.loc[out, "file_id"]))
    cra = (gens.groupby(["model", "variant"])
               .agg(n=("file_id", "size"), cra_all=("rec_all", "mean"), cra_without_outliers=("rec_without", "mean"),
                    n_best_is_outlier=("best_is_outlier", "sum"))
               .reset_index().assign(n_refs_kept=int((~out).sum()), exact=exact))
    if not keep_ids:                          # every image an outlier: no reference is left, so no CRA without them
        cra["cra_without_outliers"] = np.nan
    return WorkConsistency(slug, images, matrix, cra)


def consistency_table(con, run_id: str, t: Thresholds, z: float = Z, floor: float = FLOOR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every dynamic work: ``(images, cra)`` tables (``slug`` column added) for the CLI and exports."""
    images, cras = [], []
    for slug in db.views.dynamic_slugs(con):
        try:
            w = work_consistency(con, run_id, slug, t, z, floor)
        except LookupError:
            continue
        images.append(w.images.assign(slug=slug))
        cras.append(w.cra.assign(slug=slug))
    cols_i = ["slug", "file_id", "relpath", "mean_similarity", "robust_z", "outlier"]
    cols_c = ["slug", "model", "variant", "n", "cra_all", "cra_without_outliers", "n_refs_kept", "n_best_is_outlier",
              "exact"]
    return (pd.concat(images, ignore_index=True)[cols_i] if images else pd.DataFrame(columns=cols_i),
            pd.concat(cras, ignore_index=True)[cols_c] if cras else pd.DataFrame(columns=cols_c))
