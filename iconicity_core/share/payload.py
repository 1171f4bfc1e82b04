"""The data of the shareable page (pure: numpy in, JSON-ready values out).

Every similarity is stored as one byte: how many thresholds of the page's grid (0.00, 0.01, ..., 1.00) it
passes under the run's rule (:func:`iconicity_core.core.sweeps.pass_counts`, the kernel's cut). A value
passes grid threshold ``j`` exactly when its byte is ``> j``, so the page decides *recognised* and *reused*
as ``iconicity metrics`` does at every grid threshold — the same decisions, not an approximation — and the
metrics follow from the kernel's sufficient statistics in the page's JavaScript.

>>> import numpy as np
>>> q = quantise(np.array([0.47, 0.4700001, 0.9]), "gt")
>>> q.tolist(), (q > 47).tolist()                    # 0.47 does not pass 0.47 under >, 0.4700001 does
([47, 48, 90], [False, True, True])
>>> quantise(np.array([0.47]), "ge").tolist()
[48]
>>> decode = lambda s: np.frombuffer(__import__("base64").b64decode(s), np.uint8)
>>> decode(b64(q)).tolist()
[47, 48, 90]
"""
from __future__ import annotations

import base64
import json

import numpy as np

from ..core.sweeps import pass_counts

#: The page's threshold grid: 101 values, 0.00 to 1.00 (its sliders move on it).
GRID = np.round(np.linspace(0.0, 1.0, 101), 2)


def quantise(values, rule: str) -> np.ndarray:
    """One byte per value: how many grid thresholds it passes (0..101)."""
    return pass_counts(np.asarray(values), GRID, rule).astype(np.uint8)


def b64(a: np.ndarray) -> str:
    """A little-endian array as base64 (the page reads it into a typed array of the same type)."""
    return base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()).decode()


def code_array(codes: np.ndarray, n_names: int) -> tuple[str, str]:
    """Integer codes in the smallest unsigned type: ``(base64, type name for the page)``."""
    for dtype, name in ((np.uint8, "u8"), (np.uint16, "u16"), (np.uint32, "u32")):
        if n_names <= np.iinfo(dtype).max + 1:
            return b64(np.asarray(codes).astype(dtype)), name
    raise ValueError("too many names")


def on_grid(tau: float) -> bool:
    """Whether a threshold is one of the page's slider positions.

    >>> on_grid(0.47), on_grid(0.475), on_grid(1.2)
    (True, False, False)
    """
    return 0.0 <= tau <= 1.0 and abs(tau * 100 - round(tau * 100)) < 1e-9


def for_script_tag(value) -> str:
    """JSON that can sit inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped as
    ``\\u003c`` etc. (a title holding ``</script>`` cannot end the block); NaN written as null.

    >>> for_script_tag({"t": "</script><b>", "x": float("nan")})
    '{"t":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e","x":null}'
    """
    text = json.dumps(_clean(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean(v):
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def rows(df) -> list[dict]:
    """A table as JSON-ready records (NaN as None, numpy scalars as Python ones)."""
    return _clean(df.to_dict("records"))
