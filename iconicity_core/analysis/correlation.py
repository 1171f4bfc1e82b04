"""Correlation analysis (pure): Spearman rho with bootstrap confidence intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, rankdata, spearmanr


def spearman_along(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman rho of paired samples along ``axis`` (vectorised over the other axes; 0 where a sample
    is constant) — what the bootstrap evaluates for all resamples at once.

    >>> spearman_along(np.array([[1, 2, 3], [1, 2, 3]]), np.array([[2, 4, 9], [3, 2, 1]])).tolist()
    [1.0, -1.0]
    """
    ra = rankdata(a, axis=axis)
    rb = rankdata(b, axis=axis)
    ra = ra - ra.mean(axis=axis, keepdims=True)
    rb = rb - rb.mean(axis=axis, keepdims=True)
    num = (ra * rb).sum(axis=axis)
    den = np.sqrt((ra ** 2).sum(axis=axis) * (rb ** 2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


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
    res = bootstrap((x, y), spearman_along, paired=True, vectorized=True, n_resamples=n_resamples,
                    confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    return rho, float(res.confidence_interval.low), float(res.confidence_interval.high), n


def correlation_table(refs: pd.DataFrame, covariates: list[str], metrics=("cra", "vr", "crt"),
                      n_resamples: int = 999, correction: str = "holm") -> pd.DataFrame:
    """For every (model or 'pooled', metric, covariate) of a per-reference table: Spearman rho with a
    bootstrap 95% CI, its p-value adjusted across the whole table (Holm or BH), and the partial rho
    controlling for the other covariates.

    'pooled' averages each reference's metric over models (one point per reference).
    """
    from scipy.stats import spearmanr

    rows = []
    pooled = refs.groupby("slug").agg({**{m: "mean" for m in metrics}, **{c: "first" for c in covariates}})
    groups = [("pooled", pooled)] + [(m, g) for m, g in refs.groupby("model")]
    for model, g in groups:
        for metric in metrics:
            for cov in covariates:
                x, y = g[cov].to_numpy(float), g[metric].to_numpy(float)
                rho, lo, hi, n = spearman_ci(x, y, n_resamples)
                ok = ~(np.isnan(x) | np.isnan(y))
                p = float(spearmanr(x[ok], y[ok]).pvalue) if rho == rho else float("nan")
                others = [c for c in covariates if c != cov]
                part = partial_spearman(x, y, g[others].to_numpy(float)) if others else float("nan")
                rows.append({"model": model, "metric": metric, "covariate": cov, "rho": rho,
                             "ci_low": lo, "ci_high": hi, "p": p, "partial_rho": part, "n": n})
    out = pd.DataFrame(rows)
    if len(out):
        out[f"p_{correction}"] = adjust_pvalues(out["p"].to_numpy(), correction)
    return out


def is_count_like(values: np.ndarray) -> bool:
    """Positive integers spanning two orders of magnitude: show on a log axis."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return bool(len(v) and (v > 0).all() and np.allclose(v, np.round(v)) and v.max() / v.min() >= 100)


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, axis=0)


def partial_spearman(x: np.ndarray, y: np.ndarray, controls: np.ndarray) -> float:
    """Spearman correlation of x and y after removing (linearly, on ranks) the control variables.

    >>> rng = np.random.default_rng(0); z = rng.normal(size=500)
    >>> x, y = z + 0.1 * rng.normal(size=500), z + 0.1 * rng.normal(size=500)
    >>> bool(spearman_ci(x, y, 99)[0] > 0.9), bool(abs(partial_spearman(x, y, z[:, None])) < 0.15)
    (True, True)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    z = np.asarray(controls, float).reshape(len(x), -1)
    ok = ~(np.isnan(x) | np.isnan(y) | np.isnan(z).any(axis=1))
    if ok.sum() < z.shape[1] + 3:
        return float("nan")
    rx, ry, rz = _ranks(x[ok]), _ranks(y[ok]), _ranks(z[ok])
    design = np.column_stack([np.ones(ok.sum()), rz])
    res = [r - design @ np.linalg.lstsq(design, r, rcond=None)[0] for r in (rx, ry)]
    den = np.linalg.norm(res[0]) * np.linalg.norm(res[1])
    return float(res[0] @ res[1] / den) if den > 0 else float("nan")


def adjust_pvalues(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Family-wise (``holm``) or false-discovery-rate (``bh``, Benjamini–Hochberg) adjusted p-values.

    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03]), "holm").round(4).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03]), "bh").round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    return out


def multivariable(refs: pd.DataFrame, covariates: list[str], metric: str = "cra") -> pd.DataFrame:
    """Coefficients (per standard deviation of each covariate) with 95% CIs.

    ``cra``: binomial GLM on the recognised counts (``cra * n`` of ``n``); ``vr``/``crt``: OLS.
    """
    import statsmodels.api as sm

    df = refs.dropna(subset=[metric, *covariates])
    covariates = [c for c in covariates if df[c].nunique() > 1]          # constant columns carry no information
    if len(df) < len(covariates) + 3:
        return pd.DataFrame(columns=["term", "coef", "ci_low", "ci_high", "p", "model", "n"])
    X = df[covariates].astype(float)
    sd = X.std(ddof=0).replace(0, np.nan)
    X = ((X - X.mean()) / sd).fillna(0.0)
    X = sm.add_constant(X, has_constant="add")
    if metric == "cra":
        k = np.round(df["cra"] * df["n"]).to_numpy()
        fit = sm.GLM(np.column_stack([k, df["n"].to_numpy() - k]), X, family=sm.families.Binomial()).fit()
        kind = "binomial GLM (logit), recognised of n"
    else:
        fit = sm.OLS(df[metric].astype(float), X).fit()
        kind = f"OLS on {metric}"
    ci = fit.conf_int()
    return pd.DataFrame({"term": X.columns, "coef": fit.params.to_numpy(), "ci_low": ci.iloc[:, 0].to_numpy(),
                         "ci_high": ci.iloc[:, 1].to_numpy(), "p": fit.pvalues.to_numpy(), "model": kind, "n": len(df)})
