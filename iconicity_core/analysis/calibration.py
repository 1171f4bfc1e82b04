"""Calibration against ground-truth labels (the demo's simulator, or a user's labelled images).

How well does VR separate ``replica`` from ``reinterpretation``, and how well does the CLIP
similarity separate recognisable generations (replica / partial / reinterpretation) from ``miss``?
Reported as ROC-AUC (scikit-learn), with the curves for plotting.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from ..config import N_RESAMPLES, Rule
from ..core import metrics as kernel
from ..core.sweeps import TAU_GRID
from ..errors import NoResults
from .roc import RECOGNISABLE, auc_ci, labelled_scores


@dataclass(frozen=True)
class Separation:
    name: str          # what is separated, e.g. "VR: replica vs reinterpretation"
    score: str         # which column scores it
    auc: float
    n_pos: int
    n_neg: int
    fpr: np.ndarray
    tpr: np.ndarray


#: The two headline analyses: which score answers which separation.
HEADLINE = {"replica vs reinterpretation": ("vr", "VR"), "recognisable vs miss": ("clip_sim", "recognition similarity")}


def calibration(images: pd.DataFrame) -> list[Separation]:
    """ROC analyses from a ``metrics --by image`` table with a ``label`` column: VR for replica vs
    reinterpretation, CLIP similarity for recognisable vs miss.

    >>> df = pd.DataFrame({"label": ["replica", "reinterpretation", "miss", "replica"],
    ...                    "vr": [1.0, 0.1, 0.0, 0.8], "clip_sim": [0.9, 0.8, 0.2, 0.95]})
    >>> [(s.name, s.auc) for s in calibration(df)]
    [('VR: replica vs reinterpretation', 1.0), ('recognition similarity: recognisable vs miss', 1.0)]
    """
    if "label" not in images:
        return []
    out = []
    for sep, m, y, s in labelled_scores(images, ["vr", "clip_sim"]):
        if HEADLINE[sep][0] == m:
            fpr, tpr, _ = roc_curve(y, s)
            out.append(Separation(f"{HEADLINE[sep][1]}: {sep}", m, float(roc_auc_score(y, s)), int(y.sum()),
                                  int((~y).sum()), fpr, tpr))
    return out


def calibration_table(images: pd.DataFrame) -> pd.DataFrame:
    """The AUCs as a small table (one row per separation)."""
    return separations_table(calibration(images))


def separations_table(separations: list[Separation]) -> pd.DataFrame:
    """One row per separation: name, score, ROC-AUC, positives and negatives."""
    return pd.DataFrame([{"separation": s.name, "score": s.score, "roc_auc": s.auc, "n_pos": s.n_pos,
                          "n_neg": s.n_neg} for s in separations])


def roc_frame(separations: list[Separation]) -> pd.DataFrame:
    """Long table (fpr, tpr, analysis) of the headline ROC curves, for plotting."""
    if not separations:
        return pd.DataFrame(columns=["fpr", "tpr", "analysis"])
    return pd.concat([pd.DataFrame({"fpr": s.fpr, "tpr": s.tpr, "analysis": f"{s.name} (AUC {s.auc:.3f})"})
                      for s in separations], ignore_index=True)


#: Candidate thresholds (the sliders' resolution).


def _sweep(y: np.ndarray, score: np.ndarray, rule: Rule, dynamic=None) -> pd.DataFrame:
    """TPR, FPR, precision and Youden's J of calling a score that passes tau (the kernel's rule; ``dynamic``
    as in :func:`iconicity_core.core.metrics.passes`) positive, at every tau of :data:`TAU_GRID` (one pass
    over the scores)."""
    from ..core.sweeps import exceed_fraction

    n_pos, n_neg = int(y.sum()), int((~y).sum())
    frac = exceed_fraction(y.astype(np.int32), score, TAU_GRID, rule, dynamic)   # row 0: negatives, row 1: positives
    tp, fp = np.rint(frac[1] * n_pos), np.rint(frac[0] * n_neg)
    tpr, fpr = tp / max(1, n_pos), fp / max(1, n_neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
    return pd.DataFrame({"tau": TAU_GRID, "tpr": tpr, "fpr": fpr, "precision": precision, "j": tpr - fpr})


def calibrate(labels, clip_sim: np.ndarray, cells: np.ndarray, rule: Rule = "gt", target_precision: float = 0.9,
              n_resamples: int = N_RESAMPLES, dynamic=None) -> pd.DataFrame:
    """Which thresholds do human (or simulated) labels support? (``dynamic``: whether each image's reference
    is dynamic, for the rules that compare the kinds' CLIP similarities differently; ``None`` compares them
    as cells.)

    * **CLIP τ** — recognisable (replica / partial / reinterpretation) vs ``miss``: an image is called
      recognisable when ``s_i > τ``;
    * **patch τ** — ``replica`` vs ``reinterpretation``: an image is called a replica when more than half
      of its cells are reused at ``τ`` (the Overview's quadrant cut).

    For each: ROC-AUC of the score with a bootstrap 95% CI (for patch τ, of VR at the suggested τ),
    Youden's point (the τ maximising TPR − FPR) and the smallest τ whose precision reaches
    ``target_precision`` (with the recall there), over τ = 0.00, 0.01, ..., 1.00.

    >>> lab = np.array(["replica", "reinterpretation", "miss", "replica"])
    >>> cells = np.array([[0.9, 0.9], [0.2, 0.9], [0.1, 0.1], [0.8, 0.95]])
    >>> t = calibrate(lab, np.array([0.9, 0.8, 0.2, 0.95]), cells, n_resamples=20).set_index("threshold")
    >>> float(t.loc["clip_tau", "youden_tau"]), float(t.loc["patch_tau", "youden_tau"])
    (0.2, 0.2)
    """
    labels = pd.Series(np.asarray(labels, object))
    clip = np.asarray(clip_sim, float)
    cells = np.asarray(cells)
    out = []
    # an image is a replica at tau when its VR is above the quadrant cut (kernel.high_reuse: more than half of its
    # k cells reused), i.e. when its (k // 2 + 1)-th largest cell passes tau: one score per image, swept
    # like the CLIP similarity (tests check it against kernel.high_reuse(kernel.visual_reuse(...)))
    k = cells.shape[1] if cells.ndim == 2 else 0
    seps = {"clip_tau": ("recognisable vs miss", labels.notna().to_numpy(), labels.isin(RECOGNISABLE).to_numpy(),
                         lambda m: clip[m]),
            "patch_tau": ("replica vs reinterpretation", labels.isin(["replica", "reinterpretation"]).to_numpy(),
                          (labels == "replica").to_numpy(),
                          lambda m: np.partition(cells[m], k - (k // 2 + 1), axis=1)[:, k - (k // 2 + 1)])}
    for name, (sep, keep, positive, decisive) in seps.items():
        y = positive[keep]
        row = {"threshold": name, "separation": sep, "n_pos": int(y.sum()), "n_neg": int((~y).sum())}
        if y.all() or not y.any():
            out.append(row)
            continue
        kinds = None if dynamic is None or name != "clip_tau" else np.asarray(dynamic, bool)[keep]
        sw = _sweep(y, decisive(keep), rule, kinds)
        best = sw.loc[sw["j"].idxmax()]
        ok = sw[sw["precision"] >= target_precision]
        score = clip[keep] if name == "clip_tau" else kernel.visual_reuse(cells[keep], best["tau"], rule)
        auc, lo, hi = auc_ci(y, score, n_resamples)
        row |= {"roc_auc": auc, "ci_low": lo, "ci_high": hi, "youden_tau": float(best["tau"]),
                "youden_j": float(best["j"]),
                f"tau_at_precision_{target_precision:g}": float(ok["tau"].iloc[0]) if len(ok) else np.nan,
                "recall_there": float(ok["tpr"].iloc[0]) if len(ok) else np.nan}
        out.append(row)
    cols = ["threshold", "separation", "n_pos", "n_neg", "roc_auc", "ci_low", "ci_high", "youden_tau", "youden_j",
            f"tau_at_precision_{target_precision:g}", "recall_there"]
    return pd.DataFrame(out).reindex(columns=cols)      # a separation with one class only: its numbers empty


def calibrate_run(con, run_id: str, labels_file=None, target_precision: float = 0.9,
                  n_resamples: int = N_RESAMPLES) -> tuple[pd.DataFrame, str]:
    """:func:`calibrate` on a score run's stored similarities, with the labels stored in the database
    (the demo's) or from a CSV ``image,label``; recorded as a ``calibrate`` run. Returns the table and
    the run id."""
    from .. import db
    from ..config import run_thresholds
    from ..io.labels import no_labels_message, read_labels
    from ..io.provenance import sha256_file

    arrays = db.views.engine_arrays(con, run_id)
    n = len(arrays["file_id"])
    cells = np.asarray(arrays["cells"], np.float32).reshape(n, -1) if n else np.zeros((0, 16), np.float32)
    labels = pd.Series(arrays["label"], dtype=object)
    problems: list[tuple[str, str]] = []
    paths = db.views.file_rows(con, list(arrays["file_id"])).set_index("file_id")["image"]
    if labels_file is not None:
        given, problems = read_labels(labels_file)
        labels = pd.Series([given.get(paths.get(f)) for f in arrays["file_id"]], dtype=object)
    else:                                             # the database's labels, then the dashboard's sidecar
        from .evaluate import with_sidecar_labels

        files = pd.DataFrame({"file_id": arrays["file_id"], "image": paths.reindex(arrays["file_id"]).to_numpy(),
                              "label": labels})
        labels = with_sidecar_labels(con, files).astype(object)
    if labels.notna().sum() == 0:
        raise NoResults(no_labels_message(labels_file))
    given = labels.dropna()
    if not ((given.isin(RECOGNISABLE).any() and (given == "miss").any())
            or ((given == "replica").any() and (given == "reinterpretation").any())):
        raise NoResults(f"the labels have one class only ({', '.join(sorted(set(given)))}): calibration needs both sides "
                        "of a separation — some 'miss' and some recognisable images (replica / partial / "
                        "reinterpretation), or some 'replica' and some 'reinterpretation' (nothing was recorded)")
    rule = run_thresholds(db.runs.require(con, run_id).get("config")).rule
    config = {"target_precision": target_precision, "bootstrap_resamples": n_resamples, "rule": rule}
    inputs = {"labels_file": str(labels_file) if labels_file else "database",
              "labels_sha256": sha256_file(labels_file) if labels_file else None, "n_labelled": int(labels.notna().sum())}
    with db.runs.recorded(con, "calibrate", config, inputs, parent_run=run_id) as rec:
        dynamic = np.array([arrays["kinds"][s] == "dynamic" for s in arrays["slug"]], bool)
        table = calibrate(labels.to_numpy(), arrays["sim"], cells, rule, target_precision, n_resamples, dynamic)
        rec.outputs["table"] = json.loads(table.to_json(orient="records"))
        rec.outputs["label_problems"] = [{"item": i, "message": m} for i, m in problems]
    return table, rec.run_id
