"""Correlation analysis (pure): Spearman rho with bootstrap confidence intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, spearmanr


def spearman_ci(x: np.ndarray, y: np.ndarray, n_resamples: int = 999, seed: int = 0,
                level: float = 0.95) -> tuple[float, float, float, int]:
    """Spearman rho, its bootstrap CI (percentile, paired resampling) and n, ignoring NaN pairs.

    >>> rho, lo, hi, n = spearman_ci(np.arange(10.0), np.arange(10.0) ** 2)
    >>> round(rho, 9), n
    (1.0, 10)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), float("nan"), n
    rho = float(spearmanr(x, y).statistic)

    def stat(a, b):
        r = spearmanr(a, b).statistic
        return 0.0 if np.isnan(r) else r

    res = bootstrap((x, y), stat, paired=True, vectorized=False, n_resamples=n_resamples,
                    confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    return rho, float(res.confidence_interval.low), float(res.confidence_interval.high), n


def correlation_table(refs: pd.DataFrame, covariates: list[str], metrics=("cra", "vr", "crt"),
                      n_resamples: int = 999) -> pd.DataFrame:
    """rho with 95% CI for every (model or 'pooled', metric, covariate) from a per-reference table."""
    rows = []
    groups = [("pooled", refs)] + [(m, g) for m, g in refs.groupby("model")]
    for model, g in groups:
        for metric in metrics:
            for cov in covariates:
                rho, lo, hi, n = spearman_ci(g[cov].to_numpy(float), g[metric].to_numpy(float), n_resamples)
                rows.append({"model": model, "metric": metric, "covariate": cov, "rho": rho,
                             "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


def is_count_like(values: np.ndarray) -> bool:
    """Positive integers spanning two orders of magnitude: show on a log axis."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return bool(len(v) and (v > 0).all() and np.allclose(v, np.round(v)) and v.max() / v.min() >= 100)
