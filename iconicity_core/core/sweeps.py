"""Threshold sweeps (pure numpy/pandas): how many values pass each of many thresholds in one pass, and
how stable a ranking is across a grid of thresholds. Passing is the kernel's rule
(:func:`iconicity_core.core.metrics.cut`), so a sweep at one threshold equals the metric there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from ..config import Rule
from .metrics import GroupStats, cut, cut32, cuts

#: THE threshold grid: 0.00, 0.01, ..., 1.00 — the sliders' positions, the sweeps' thresholds and the bytes the
#: live views decide with (one byte per similarity: how many of these it passes).
TAU_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)
#: The paper's sensitivity grid for the CRT heat map of ``Results.sweep()`` (0.3, 0.4, ..., 0.9).
SENSITIVITY_GRID = np.round(np.linspace(0.3, 0.9, 7), 2)


def exceed_fraction(groups: np.ndarray, values: np.ndarray, taus: np.ndarray, rule: Rule = "gt",
                    dynamic=None) -> np.ndarray:
    """For each group, the fraction of its values that pass each threshold (the kernel's rule).

    ``groups``: ``(n,)`` integer codes; ``values``: ``(n,)`` or ``(n, k)``; ``taus`` ascending; ``dynamic``:
    what the values are, as in :func:`iconicity_core.core.metrics.passes` (``None``, a bool, or one per row).
    One pass (histogram of how many thresholds each value passes, then a reverse cumulative sum).

    >>> exceed_fraction(np.array([0, 0, 1]), np.array([0.2, 0.8, 0.5]), np.array([0.1, 0.5, 0.9])).tolist()
    [[1.0, 0.5, 0.0], [1.0, 0.0, 0.0]]
    >>> exceed_fraction(np.array([0, 0, 1]), np.array([0.2, 0.8, 0.5]), np.array([0.1, 0.5, 0.9]), "ge").tolist()
    [[1.0, 0.5, 0.0], [1.0, 1.0, 0.0]]
    """
    taus = np.asarray(taus, np.float64)
    if len(groups) == 0:
        return np.zeros((0, len(taus)))
    v = np.asarray(values).reshape(len(groups), -1)
    groups = np.asarray(groups, np.int32)
    count = _counter(taus, rule, dynamic)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    t1 = len(taus) + 1
    hist = np.zeros(n_groups * t1, np.int64)
    step = max(1, 2**20 // max(v.shape[1], 1))          # about a million values at a time stay in cache
    for s in range(0, len(v), step):
        code = groups[s:s + step, None] * np.int32(t1) + count(v[s:s + step], slice(s, s + step))
        hist += np.bincount(code.ravel(), minlength=n_groups * t1)
    counts = hist.reshape(n_groups, t1).astype(np.float64)
    return _passing(counts) / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def _passing(by_count: np.ndarray) -> np.ndarray:
    """From per-group totals by pass count (``(n_groups, n_taus + 1)``), the totals over the entries passing
    each threshold: column ``j`` sums the counts above ``j``."""
    return by_count[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:].astype(np.float64)


def pass_counter(taus, rule: Rule = "gt", dynamic: bool | None = None):
    """A function of an array that gives, per value, how many of ``taus`` (ascending) it passes under the
    kernel's rule (``dynamic``: one kind for every value, as in :func:`iconicity_core.core.metrics.cut`) — so
    ``value passes taus[j]  <=>  j < count``. One byte per value then says whether it passes at every
    threshold of a grid (what the shareable page embeds). NaN passes none, as in
    :func:`iconicity_core.core.metrics.passes`."""
    cuts64 = np.array([cut(t, rule, dynamic) for t in np.asarray(taus, np.float64)], np.float64)
    cuts32 = np.array([cut32(t, rule, dynamic) for t in np.asarray(taus, np.float64)], np.float32)

    def count(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == np.float32:      # compare in float32 with cuts that give the float64 answer
            out = _count_below(cuts32, x)
        else:
            out = np.searchsorted(cuts64, x.astype(np.float64), side="left").astype(np.int32)
        nan = np.isnan(x)
        return np.where(nan, 0, out).astype(np.int32) if nan.any() else out
    return count


def _counter(taus, rule: Rule, dynamic):
    """``count(x, rows)``: :func:`pass_counter` of the values ``x``, which are the rows ``rows`` (a slice) of
    the values ``dynamic`` describes — one kind for all (``None`` or a bool), or one per row."""
    if dynamic is None or np.ndim(dynamic) == 0:
        one = pass_counter(taus, rule, dynamic)
        return lambda x, rows: one(x)
    static, dyn = pass_counter(taus, rule, False), pass_counter(taus, rule, True)
    t = np.asarray(taus, np.float64)
    if np.array_equal(cuts(t, rule, False), cuts(t, rule, True), equal_nan=True):    # the rule ignores the kind
        return lambda x, rows: static(x)
    d = np.asarray(dynamic, bool)

    def count(x: np.ndarray, rows) -> np.ndarray:
        x = np.asarray(x)
        k = d[rows]
        return np.where(k.reshape(k.shape + (1,) * (x.ndim - k.ndim)), dyn(x), static(x)).astype(np.int32)
    return count


def pass_counts(values, taus, rule: Rule = "gt", dynamic=None) -> np.ndarray:
    """How many of ``taus`` (ascending) each value passes (:func:`pass_counter`; ``dynamic``: ``None``, a bool,
    or one per value).

    >>> from iconicity_core.core import metrics as kernel
    >>> taus = TAU_GRID
    >>> v = np.array([0.3, 0.30000001, np.nan, -0.2, 1.5])
    >>> pass_counts(v, taus).tolist(), pass_counts(v, taus, "ge").tolist()
    ([30, 31, 0, 0, 101], [31, 31, 0, 0, 101])
    >>> c = pass_counts(v, taus)
    >>> all(((c > j) == kernel.passes(v, taus[j])).all() for j in range(101))
    True
    >>> at = np.full(2, float(np.float32(0.7)))           # float32(0.7) passes 0.70 only for a static reference
    >>> pass_counts(at, taus, "authors", dynamic=np.array([False, True])).tolist()
    [71, 70]
    """
    return _counter(taus, rule, dynamic)(values, slice(None))


def group_stats_at(groups: np.ndarray, counts: np.ndarray, n_taus: int, vr: np.ndarray,
                   n_groups: int) -> list[GroupStats]:
    """The kernel's sufficient statistics (:func:`iconicity_core.core.metrics.group_stats`) of every group at
    each of ``n_taus`` recognition thresholds at once, from ``counts = pass_counts(sims, taus, rule)``: an image
    is recognised at ``taus[j]`` iff ``counts > j``. Two bincounts over (group, count) and a reverse cumulative
    sum replace one full pass per threshold.

    >>> from iconicity_core.core import metrics as kernel
    >>> g, sims, vr = np.array([0, 0, 1, 1]), np.array([0.2, 0.6, 0.6, 0.9]), np.array([0.5, 1.0, 0.0, 0.25])
    >>> taus = np.array([0.5, 0.6])
    >>> [s.n_rec.tolist() for s in group_stats_at(g, pass_counts(sims, taus), 2, vr, 2)]
    [[1.0, 2.0], [0.0, 1.0]]
    >>> at, one = group_stats_at(g, pass_counts(sims, taus), 2, vr, 2)[1], kernel.group_stats(g, kernel.passes(sims, 0.6), vr, 2)
    >>> all(np.array_equal(getattr(at, f), getattr(one, f)) for f in ("n", "n_rec", "vr_sum", "vr_rec_sum"))
    True
    """
    g = np.asarray(groups, np.int64)
    vr = np.asarray(vr, np.float64)
    t1 = n_taus + 1
    code = g * t1 + np.asarray(counts, np.int64)
    n = np.bincount(g, minlength=n_groups).astype(np.int64)
    vr_sum = np.bincount(g, weights=vr, minlength=n_groups)

    n_rec, vr_rec = (_passing(np.bincount(code, weights=w, minlength=n_groups * t1).reshape(n_groups, t1))
                     for w in (None, vr))
    return [GroupStats(n, n_rec[:, j], vr_sum, vr_rec[:, j]) for j in range(n_taus)]


def _count_below(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``np.searchsorted(t, v, side="left")`` (how many thresholds lie strictly below each value), for
    ascending float32 ``t``; on an evenly spaced grid (the sweeps' 0.00, 0.01, ..., 1.00) computed from
    the spacing and then corrected to the exact answer, which is several times faster on millions of
    values than a binary search.

    >>> t = np.linspace(0, 1, 101).astype(np.float32)
    >>> v = np.array([-1, 0, t[1], np.nextafter(t[1], 2), 0.5, 1, 2, np.nan], np.float32)
    >>> bool((_count_below(t, v) == np.searchsorted(t, v)).all())
    True
    """
    step = (t[-1] - t[0]) / max(len(t) - 1, 1) if len(t) > 1 else 0
    if len(t) < 3 or step <= 0 or not np.allclose(np.diff(t), step, rtol=1e-3, atol=0):
        return np.searchsorted(t, v, side="left").astype(np.int32)
    g = np.nan_to_num(np.clip(np.ceil((v - t[0]) / step), 0, len(t)), nan=len(t)).astype(np.int32)
    last = len(t) - 1
    while True:                        # the guess is off by at most one or two: fix it exactly
        down = (g > 0) & (t[np.maximum(g - 1, 0)] >= v)
        up = (g <= last) & (t[np.minimum(g, last)] < v)
        if not (down.any() or up.any()):
            return g
        g = g - down + up


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
