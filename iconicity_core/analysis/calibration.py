"""Calibration against ground-truth labels (the demo's simulator, or a user's labelled images).

How well does VR separate ``replica`` from ``reinterpretation``, and how well does the CLIP
similarity separate recognisable generations (replica / partial / reinterpretation) from ``miss``?
Reported as ROC-AUC (scikit-learn), with the curves for plotting.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

RECOGNISABLE = ("replica", "partial", "reinterpretation")


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
HEADLINE = {"replica vs reinterpretation": ("vr", "VR"), "recognisable vs miss": ("clip_sim", "CLIP similarity")}


def calibration(images: pd.DataFrame) -> list[Separation]:
    """ROC analyses from a ``metrics --by image`` table with a ``label`` column: VR for replica vs
    reinterpretation, CLIP similarity for recognisable vs miss.

    >>> df = pd.DataFrame({"label": ["replica", "reinterpretation", "miss", "replica"],
    ...                    "vr": [1.0, 0.1, 0.0, 0.8], "clip_sim": [0.9, 0.8, 0.2, 0.95]})
    >>> [(s.name, s.auc) for s in calibration(df)]
    [('VR: replica vs reinterpretation', 1.0), ('CLIP similarity: recognisable vs miss', 1.0)]
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
    return pd.DataFrame([{"separation": s.name, "score": s.score, "roc_auc": s.auc, "n_pos": s.n_pos,
                          "n_neg": s.n_neg} for s in calibration(images)])


SEPARATIONS = {   # name -> (which labelled images take part, which of them are positives)
    "replica vs reinterpretation": (lambda lab: lab.isin(["replica", "reinterpretation"]), lambda lab: lab == "replica"),
    "recognisable vs miss": (lambda lab: lab.notna(), lambda lab: lab.isin(RECOGNISABLE)),
}


def labelled_scores(scores: pd.DataFrame, measures: list[str]):
    """Yield ``(separation, measure, y, s)`` for every separation with both classes present and every
    measure column of ``scores`` (NaN scores left out)."""
    for sep, (keep, positive) in SEPARATIONS.items():
        d = scores[keep(scores["label"])]
        y = positive(d["label"]).to_numpy()
        if y.all() or not y.any():
            continue
        for m in measures:
            s = d[m].to_numpy(float)
            ok = ~np.isnan(s)
            yield sep, m, y[ok], s[ok]


def roc_curves(scores: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Long table of ROC curves (fpr, tpr, auc) for every measure and both separations."""
    parts = []
    for sep, m, y, s in labelled_scores(scores, measures):
        fpr, tpr, _ = roc_curve(y, s)
        parts.append(pd.DataFrame({"fpr": fpr, "tpr": tpr, "measure": m, "separation": sep,
                                   "auc": roc_auc_score(y, s)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["fpr", "tpr", "measure", "separation", "auc"])


def roc_frame(separations: list[Separation]) -> pd.DataFrame:
    """Long table (fpr, tpr, analysis) of the headline ROC curves, for plotting."""
    if not separations:
        return pd.DataFrame(columns=["fpr", "tpr", "analysis"])
    return pd.concat([pd.DataFrame({"fpr": s.fpr, "tpr": s.tpr, "analysis": f"{s.name} (AUC {s.auc:.3f})"})
                      for s in separations], ignore_index=True)
