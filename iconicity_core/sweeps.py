"""Threshold sensitivity (pure numpy/pandas): metrics over grids of thresholds, ranking stability.

Inputs are the raw per-image numbers: a frame with ``model, slug, kind, clip_sim`` and a matrix of
per-cell best similarities (one row per image, same order).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau


def _tau_vec(kind: pd.Series, clip_tau: float, clip_tau_dynamic: float | None) -> np.ndarray:
    dyn = clip_tau if clip_tau_dynamic is None else clip_tau_dynamic
    return np.where(kind.to_numpy() == "dynamic", dyn, clip_tau)


def model_metrics(images: pd.DataFrame, cells: np.ndarray, clip_tau: float, patch_tau: float,
                  pooling: str = "recognised", clip_tau_dynamic: float | None = None) -> pd.DataFrame:
    """Per-model macro means (CRA, VR, VI, CRT) at one threshold pair — same rules as the SQL."""
    rec = images["clip_sim"].to_numpy() > _tau_vec(images["kind"], clip_tau, clip_tau_dynamic)
    vr = (cells > patch_tau).mean(axis=1)
    df = pd.DataFrame({"model": images["model"].to_numpy(), "slug": images["slug"].to_numpy(),
                       "variant": images["variant"].to_numpy(), "rec": rec.astype(float),
                       "vr_pool": np.where(rec | (pooling == "all"), vr, np.nan)})
    ref = df.groupby(["model", "variant", "slug"]).agg(cra=("rec", "mean"), vr=("vr_pool", "mean"))
    ref["vi"] = 1 - ref["vr"]
    ref["crt"] = np.where(ref["cra"] > 0, ref["cra"] * ref["vi"], 0.0)
    return ref.groupby(["model", "variant"])[["cra", "vr", "vi", "crt"]].mean().reset_index()


def cra_curve(images: pd.DataFrame, taus: np.ndarray) -> pd.DataFrame:
    """CRA per model (macro over references) for every CLIP threshold in ``taus``."""
    s = images["clip_sim"].to_numpy()[:, None] > taus[None, :]
    df = pd.DataFrame(s.astype(float), columns=taus)
    df["model"], df["slug"] = images["model"].to_numpy(), images["slug"].to_numpy()
    per_ref = df.groupby(["model", "slug"]).mean()
    out = per_ref.groupby("model").mean().T.reset_index(names="tau")
    return out.melt(id_vars="tau", var_name="model", value_name="cra")


def vr_curve(images: pd.DataFrame, cells: np.ndarray, taus: np.ndarray) -> pd.DataFrame:
    """Mean VR per model (macro over references, all generations) for every patch threshold."""
    vr = np.stack([(cells > t).mean(axis=1) for t in taus], axis=1)
    df = pd.DataFrame(vr, columns=taus)
    df["model"], df["slug"] = images["model"].to_numpy(), images["slug"].to_numpy()
    out = df.groupby(["model", "slug"]).mean().groupby("model").mean().T.reset_index(names="tau")
    return out.melt(id_vars="tau", var_name="model", value_name="vr")


def crt_grid(images: pd.DataFrame, cells: np.ndarray, clip_taus: np.ndarray, patch_taus: np.ndarray,
             pooling: str = "recognised") -> pd.DataFrame:
    """Per-model CRT (all variants pooled) over the grid of (CLIP tau, patch tau)."""
    rows = []
    for ct in clip_taus:
        for pt in patch_taus:
            m = model_metrics(images.assign(variant="*"), cells, float(ct), float(pt), pooling)
            rows += [{"clip_tau": ct, "patch_tau": pt, "model": r.model, "crt": r.crt} for r in m.itertuples()]
    return pd.DataFrame(rows)


def ranking_stability(grid: pd.DataFrame, clip_tau: float, patch_tau: float) -> pd.DataFrame:
    """Kendall tau between the model ranking by CRT at each grid point and at the nearest grid point
    to the current thresholds (1 = same order everywhere)."""
    pts = grid[["clip_tau", "patch_tau"]].drop_duplicates().to_numpy()
    ref_pt = pts[np.argmin(np.abs(pts[:, 0] - clip_tau) + np.abs(pts[:, 1] - patch_tau))]
    ref = grid[(grid.clip_tau == ref_pt[0]) & (grid.patch_tau == ref_pt[1])].set_index("model")["crt"]
    rows = []
    for (ct, pt), g in grid.groupby(["clip_tau", "patch_tau"]):
        v = g.set_index("model")["crt"].reindex(ref.index)
        k = kendalltau(ref.to_numpy(), v.to_numpy()).statistic if len(ref) > 1 else np.nan
        rows.append({"clip_tau": ct, "patch_tau": pt, "kendall_tau": k})
    return pd.DataFrame(rows)
