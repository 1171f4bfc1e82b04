"""ROC analyses shared by calibration and `evaluate`: which labelled images take part in each separation,
ROC-AUC with a bootstrap CI, the threshold reaching a precision (scikit-learn underneath)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from ..config import N_RESAMPLES

RECOGNISABLE = ("replica", "partial", "reinterpretation")


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


def auc_ci(y: np.ndarray, s: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0) -> tuple[float, float, float]:
    """ROC-AUC and a percentile bootstrap 95% CI (images resampled with replacement; resamples with one
    class only are left out). Vectorised: each resample is a vector of draw counts, and its AUC the
    Mann-Whitney statistic over the scores sorted once — the same numbers as scoring every resample with
    ``roc_auc_score``, without its per-call sort.

    >>> auc_ci(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.3, 0.1]), 50)
    (1.0, 1.0, 1.0)
    """
    y, s = np.asarray(y, bool), np.asarray(s, float)
    auc = float(roc_auc_score(y, s))
    rng = np.random.default_rng(seed)
    n = len(y)
    _, level = np.unique(s, return_inverse=True)          # tied scores share a level
    n_levels = int(level.max()) + 1 if n else 0
    cell = 2 * level + y                                  # (level, class) of each image
    boots = []
    for start in range(0, n_resamples, 32):               # 32 resamples drawn at a time bound the memory
        r = min(32, n_resamples - start)
        drawn = rng.integers(0, n, (r, n))                # the same draws as r calls of size n
        for cells in cell[drawn]:                         # one resample at a time: its counts stay in cache
            both = np.bincount(cells, minlength=2 * n_levels).reshape(n_levels, 2)
            neg, pos = both[:, 0], both[:, 1]
            n_pos, n_neg = int(pos.sum()), int(neg.sum())
            if n_pos and n_neg:                           # sums of whole and half counts: exact in float64
                below = np.cumsum(neg) - neg              # negatives strictly below each level
                boots.append(float(pos @ (below + 0.5 * neg)) / (n_pos * n_neg))
    values = np.asarray(boots, np.float64)
    lo, hi = np.percentile(values, [2.5, 97.5]) if len(values) else (np.nan, np.nan)
    return auc, float(lo), float(hi)


def threshold_at_precision(y: np.ndarray, s: np.ndarray, precision: float) -> tuple[float, float]:
    """The lowest score threshold whose precision reaches ``precision``, and the recall there."""
    p, r, t = precision_recall_curve(y, s)
    ok = np.where(p[:-1] >= precision)[0]
    if not len(ok):
        return float("nan"), 0.0
    return float(t[ok[0]]), float(r[ok[0]])
