"""Correlation analysis (pure): Spearman rho with bootstrap confidence intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from ..config import N_RESAMPLES


def spearman_along(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman rho of paired samples along ``axis`` (vectorised over the other axes; 0 where a sample
    is constant).

    >>> spearman_along(np.array([[1, 2, 3], [1, 2, 3]]), np.array([[2, 4, 9], [3, 2, 1]])).round(12).tolist()
    [1.0, -1.0]
    """
    return (_unit(rankdata(a, axis=axis).astype(np.float64), axis) * _unit(rankdata(b, axis=axis).astype(np.float64),
                                                                         axis)).sum(axis=axis)


def _unit(r: np.ndarray, axis: int = -1) -> np.ndarray:
    """Centre ``r`` (a float64 array the caller owns: it is modified) and scale it to unit norm along
    ``axis``; a constant row becomes zeros."""
    r -= r.mean(axis=axis, keepdims=True)
    norm = np.sqrt(np.sum(r * r, axis=axis, keepdims=True))
    np.divide(r, norm, out=r, where=norm > 0)
    r *= norm > 0
    return r


def resampled_ranks(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``rankdata(x[idx], axis=1)`` (average ranks for ties) for a ``(B, n)`` matrix of resample indices,
    in O(B n) with counting instead of sorting every resample.

    >>> x = np.array([3.0, 1.0, 3.0, 2.0]); idx = np.array([[0, 1, 2, 3], [0, 0, 1, 3]])
    >>> resampled_ranks(x, idx).tolist() == rankdata(x[idx], axis=1).tolist()
    True
    """
    uniq, dense = np.unique(x, return_inverse=True)
    m, (b, n) = len(uniq), idx.shape
    dense = dense.astype(np.int64)
    out = np.empty((b, n), np.float64)
    step = max(1, 2**16 // max(m, 1))               # resamples at a time whose counts (~0.5 MB) stay in cache
    for s in range(0, b, step):
        code = dense[idx[s:s + step]]
        r = len(code)
        code += (np.arange(r, dtype=np.int64) * m)[:, None]
        counts = np.bincount(code.ravel(), minlength=r * m).reshape(r, m)
        table = np.cumsum(counts, axis=1, dtype=np.float64)
        table -= (counts - 1) / 2.0                 # average rank of each value in each resample
        out[s:s + step] = table.ravel()[code]
    return out


def bootstrap_spearman(columns: dict[str, np.ndarray], pairs: list[tuple[str, str]], n_resamples: int = N_RESAMPLES,
                       seed: int = 0, level: float = 0.95) -> dict[tuple[str, str], tuple[float, float]]:
    """Percentile bootstrap CIs of Spearman rho for many pairs of columns of the same rows (paired
    resampling of rows). Pairs whose non-missing rows coincide share one set of resamples, and each
    column is ranked once per resample set, so a table of pairs costs little more than one pair.
    For a single pair this is ``scipy.stats.bootstrap`` (percentile method, same seed) to rounding."""
    out: dict = {}
    by_mask: dict[bytes, list] = {}
    for a, b in pairs:
        ok = ~(np.isnan(columns[a]) | np.isnan(columns[b]))
        by_mask.setdefault(ok.tobytes(), []).append((a, b, ok))
    alpha = (1 - level) / 2
    for group in by_mask.values():
        ok = group[0][2]
        n = int(ok.sum())
        if n < 3:
            out.update({(a, b): (float("nan"), float("nan")) for a, b, _ in group})
            continue
        idx = np.random.default_rng(seed).integers(0, n, (n_resamples, n))
        units = {}
        for name in {c for a, b, _ in group for c in (a, b)}:
            units[name] = _unit(resampled_ranks(columns[name][ok], idx))
        for a, b, _ in group:
            theta = np.einsum("ij,ij->i", units[a], units[b])
            lo, hi = np.percentile(theta, [alpha * 100, (1 - alpha) * 100])
            out[(a, b)] = (float(lo), float(hi))
    return out


def spearman_ci(x: np.ndarray, y: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0,
                level: float = 0.95) -> tuple[float, float, float, int]:
    """Spearman rho, its bootstrap CI (percentile, paired resampling) and n, ignoring NaN pairs.

    >>> rho, lo, hi, n = spearman_ci(np.arange(10.0), np.arange(10.0) ** 2)
    >>> round(rho, 9), n
    (1.0, 10)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = ~(np.isnan(x) | np.isnan(y))
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan"), float("nan"), float("nan"), n
    rho = float(spearmanr(x[ok], y[ok]).statistic)
    lo, hi = bootstrap_spearman({"x": x[ok], "y": y[ok]}, [("x", "y")], n_resamples, seed, level)[("x", "y")]
    return rho, lo, hi, n


#: Decimals the pooled per-reference means are rounded to before ranking (ties stay ties).
POOLED_DECIMALS = 12


def correlation_table(refs: pd.DataFrame, covariates: list[str], metrics=("cra", "vr", "crt"),
                      n_resamples: int = N_RESAMPLES, correction: str = "holm") -> pd.DataFrame:
    """For every (model or 'pooled', metric, covariate) of a per-reference table: Spearman rho with a
    bootstrap 95% CI, its p-value adjusted across the whole table (Holm or BH), and the partial rho
    controlling for the other covariates.

    'pooled' averages each reference's metric over models (one point per reference), rounded to
    :data:`POOLED_DECIMALS` so that references with equal means rank as ties whatever the order of summation
    (the shareable page computes the same ranks in JavaScript).
    """
    rows = []
    pooled = refs.groupby("slug").agg({**{m: "mean" for m in metrics}, **{c: "first" for c in covariates}})
    pooled[list(metrics)] = pooled[list(metrics)].round(POOLED_DECIMALS)
    groups = [("pooled", pooled)] + [(m, g) for m, g in refs.groupby("model")]
    for model, g in groups:
        cols = {c: g[c].to_numpy(float) for c in (*metrics, *covariates)}
        pairs = [(cov, metric) for metric in metrics for cov in covariates]
        valid = [(a, b) for a, b in pairs if _usable(cols[a], cols[b])]
        cis = bootstrap_spearman(cols, valid, n_resamples)
        for cov, metric in pairs:
            x, y = cols[cov], cols[metric]
            ok = ~(np.isnan(x) | np.isnan(y))
            if (cov, metric) in cis:
                res = spearmanr(x[ok], y[ok])
                rho, p, (lo, hi) = float(res.statistic), float(res.pvalue), cis[(cov, metric)]
            else:
                rho = p = lo = hi = float("nan")
            others = [c for c in covariates if c != cov]
            part = partial_spearman(x, y, g[others].to_numpy(float)) if others else float("nan")
            rows.append({"model": model, "metric": metric, "covariate": cov, "rho": rho,
                         "ci_low": lo, "ci_high": hi, "p": p, "partial_rho": part, "n_refs": int(ok.sum())})
    out = pd.DataFrame(rows)
    if len(out):
        out[f"p_{correction}"] = adjust_pvalues(out["p"].to_numpy(), correction)
    return out


def _usable(x: np.ndarray, y: np.ndarray) -> bool:
    ok = ~(np.isnan(x) | np.isnan(y))
    return bool(ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0)


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
        return pd.DataFrame(columns=["term", "coef", "ci_low", "ci_high", "p", "model", "n_refs"])
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
                         "ci_high": ci.iloc[:, 1].to_numpy(), "p": fit.pvalues.to_numpy(), "model": kind, "n_refs": len(df)})
