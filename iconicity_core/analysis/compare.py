"""Two scoring runs of the same data side by side (pure, from two engines): per-reference scores, whether
the model and reference rankings survive, the references that move most, and how often the runs agree
on each image's flags."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from ..config import Filters, Thresholds
from ..core import metrics as kernel
from .engine import Engine


def compare_runs(eng_a: Engine, eng_b: Engine, t_a: Thresholds, t_b: Thresholds, f: Filters = Filters(),
                 movers: int = 15) -> dict:
    """``refs`` (per model, reference, kind and variant: ``cra_a``, ``cra_b``, ...), ``rankings`` (Spearman
    and Kendall of the model and reference rankings by CRA / VR / CRT), ``movers`` (references whose CRT,
    mean over models, changes most) and ``agreement`` (share of images with the same recognised flag and
    the same high-reuse flag, :func:`iconicity_core.core.metrics.high_reuse`)."""
    a, b = eng_a.reference_table(t_a, f), eng_b.reference_table(t_b, f)
    both = a.drop(columns=["pooling", "match"]).merge(b.drop(columns=["pooling", "match"]),
                                                      on=["model", "slug", "kind", "variant"], suffixes=("_a", "_b"))
    rankings = []
    for metric in ("cra", "vr", "crt"):
        for level, g in (("model", both.groupby("model")), ("reference", both.groupby("slug"))):
            m = g[[f"{metric}_a", f"{metric}_b"]].mean().dropna()
            rho = spearmanr(m.iloc[:, 0], m.iloc[:, 1]).statistic if len(m) > 2 else np.nan
            tau = kendalltau(m.iloc[:, 0], m.iloc[:, 1]).statistic if len(m) > 1 else np.nan
            rankings.append({"metric": metric, "ranking of": level, "n_ranked": len(m), "spearman_rho": rho,
                             "kendall_tau": tau})
    per_ref = both.groupby("slug")[["crt_a", "crt_b"]].mean()
    change = per_ref["crt_b"] - per_ref["crt_a"]
    moved = per_ref.assign(change=change).reindex(change.abs().sort_values(ascending=False).index).head(movers)
    ia, ib = eng_a.image_table(t_a, f), eng_b.image_table(t_b, f)
    img = ia.merge(ib, on="file_id", suffixes=("_a", "_b"))
    agreement = pd.DataFrame([
        {"flag": "recognised", "images": len(img), "agree": float((img.recognised_a == img.recognised_b).mean())},
        {"flag": f"reused (VR > {kernel.QUADRANT_CUT:g})", "images": len(img),
         "agree": float((kernel.high_reuse(img.vr_a) == kernel.high_reuse(img.vr_b)).mean())}])
    return {"refs": both, "rankings": pd.DataFrame(rankings), "movers": moved.reset_index(), "agreement": agreement}
