"""Pure metric functions (DESIGN §2). No I/O, no models: numpy in, numbers out.

Thresholds are strict: a generation is *recognised* when ``s_i > tau`` and a cell is *reused*
when its best similarity ``> tau_patch``.

>>> import numpy as np
>>> s = np.array([0.9, 0.7, 0.5])
>>> recognised(s, 0.7).tolist()
[True, False, False]
>>> cra(s, 0.7)
0.3333333333333333
>>> cells = np.array([[0.9, 0.9, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.7, 0.7, 0.7, 0.7]])
>>> visual_reuse(cells, 0.6).tolist()
[0.5, 0.0, 1.0]
>>> crt(s, cells, clip_tau=0.7, patch_tau=0.6)  # CRA 1/3 x VI of the recognised image (0.5)
0.16666666666666666
"""
from __future__ import annotations

from typing import Literal

import numpy as np


from ..config import POOLINGS

Pooling = Literal["recognised", "all"]


def recognised(clip_sim: np.ndarray, tau: float, rule: str = "gt") -> np.ndarray:
    """Per-generation recognition flags ``s_i > tau`` (``s_i >= tau`` with rule ``ge``)."""
    s = np.asarray(clip_sim, dtype=float)
    return s >= tau if rule == "ge" else s > tau


def cra(clip_sim: np.ndarray, tau: float) -> float:
    """CRA: fraction of generations whose best CLIP similarity exceeds ``tau`` (NaN if empty)."""
    s = np.asarray(clip_sim, dtype=float)
    return float(np.mean(s > tau)) if s.size else float("nan")


def visual_reuse(cell_sims: np.ndarray, patch_tau: float) -> np.ndarray:
    """VR_i for each generation: the fraction of its cells whose best match exceeds ``patch_tau``.

    ``cell_sims`` has shape ``(n_images, n_cells)``; NaN cells (not scored) are ignored.
    """
    c = np.atleast_2d(np.asarray(cell_sims, dtype=float))
    reused = np.where(np.isnan(c), np.nan, c > patch_tau)
    return np.nanmean(reused, axis=1)


def visual_independence(cell_sims: np.ndarray, patch_tau: float) -> np.ndarray:
    """VI_i = 1 - VR_i."""
    return 1.0 - visual_reuse(cell_sims, patch_tau)


def pooled_vr(
    clip_sim: np.ndarray, cell_sims: np.ndarray, clip_tau: float, patch_tau: float,
    pooling: Pooling = "recognised",
) -> float:
    """VR(c): mean VR_i over the recognised generations (default) or over all of them.

    NaN when the pool is empty.
    """
    _check_pooling(pooling)
    vr = visual_reuse(cell_sims, patch_tau)
    pool = recognised(clip_sim, clip_tau) if pooling == "recognised" else np.ones(vr.shape, bool)
    return float(np.mean(vr[pool])) if pool.any() else float("nan")


def crt(
    clip_sim: np.ndarray, cell_sims: np.ndarray, clip_tau: float, patch_tau: float,
    pooling: Pooling = "recognised",
) -> float:
    """CRT(c) = CRA(c) x VI(c); 0 when no generation is recognised."""
    _check_pooling(pooling)
    a = cra(clip_sim, clip_tau)
    if not a > 0:
        return 0.0 if a == a else float("nan")
    vr = pooled_vr(clip_sim, cell_sims, clip_tau, patch_tau, pooling)
    return float(a * (1.0 - vr))


def reference_scores(
    clip_sim: np.ndarray, cell_sims: np.ndarray, clip_tau: float, patch_tau: float,
    pooling: Pooling = "recognised",
) -> dict[str, float]:
    """All per-reference numbers at once: ``n, cra, vr, vi, crt`` (as in ``metrics --by reference``)."""
    vr = pooled_vr(clip_sim, cell_sims, clip_tau, patch_tau, pooling)
    return {
        "n": int(np.asarray(clip_sim).size),
        "cra": cra(clip_sim, clip_tau),
        "vr": vr,
        "vi": 1.0 - vr,
        "crt": crt(clip_sim, cell_sims, clip_tau, patch_tau, pooling),
    }


def _check_pooling(pooling: str) -> None:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")


def float32_cut(tau: float, rule: str = "gt") -> np.float32:
    """The float32 threshold ``c`` with ``v > c  <=>  float64(v) > tau`` (rule ``gt``) or
    ``float64(v) >= tau`` (rule ``ge``) for every float32 ``v`` — so float32 similarities are compared
    without converting them, with exactly the float64 (SQL) answer.

    >>> v = np.array([0.6], np.float32)            # float32(0.6) is a little above 0.6
    >>> bool(v.astype(np.float64)[0] > 0.6), bool(v[0] > float32_cut(0.6)), bool(v[0] > np.float32(0.6))
    (True, True, False)
    >>> bool(np.float32(0.5) > float32_cut(0.5, "ge")), bool(np.float32(0.5) > float32_cut(0.5))
    (True, False)
    """
    t = np.float32(tau)
    if rule == "ge":          # the largest float32 strictly below tau
        return np.nextafter(t, np.float32(-np.inf)) if np.float64(t) >= tau else t
    return np.nextafter(t, np.float32(-np.inf)) if np.float64(t) > tau else t
