"""The run's data for the live views — one payload, two wrappings: raw bytes for the dashboard (sent once per
database version and run), JSON with a base64 blob for the shared file. Pure: numpy in, bytes and JSON-ready
values out.

Every similarity is one byte: how many thresholds of the grid (:data:`iconicity_core.core.sweeps.TAU_GRID`:
0.00, 0.01, ..., 1.00) it passes under the run's rule (:func:`iconicity_core.core.sweeps.pass_counts`, the
kernel's cut). A value passes grid threshold ``j`` exactly when its byte is ``> j``, so the browser decides
*recognised* and *reused* as ``iconicity metrics`` does at every grid threshold — the same decisions, not an
approximation — and finishes the metrics from the kernel's sufficient statistics (``web/js/kernel.js``).

>>> import numpy as np
>>> q = quantise(np.array([0.47, 0.4700001, 0.9]), "gt")
>>> q.tolist(), (q > 47).tolist()                    # 0.47 does not pass 0.47 under >, 0.4700001 does
([47, 48, 90], [False, True, True])
>>> quantise(np.array([0.47]), "ge").tolist()
[48]
>>> p = Payload({"n": 1}, {"clip": np.array([3], np.uint8), "slug": np.array([1, 2], np.uint16)})
>>> c = p.container()
>>> c[:4], p.meta["layout"]["slug"]
(b'ICX1', {'offset': 8, 'length': 2, 'type': 'u16'})
"""
from __future__ import annotations

import base64
import hashlib
import json
import struct

import numpy as np

from ..config import Rule
from ..core.sweeps import TAU_GRID, pass_counts

#: Every fifth threshold of the grid: the heat maps of CRT over (recognition τ, patch τ).
HEATMAP = list(range(0, len(TAU_GRID), 5))
#: Percentile-bootstrap resamples the browser draws for each correlation's CI.
BOOTSTRAP = 199
MAGIC = b"ICX1"
_TYPES = {np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16", np.dtype(np.uint32): "u32"}


def quantise(values, rule: Rule, dynamic=None) -> np.ndarray:
    """One byte per value: how many grid thresholds it passes (0..101); ``dynamic`` (one per value) for the rules
    that compare the kinds' CLIP similarities differently (:func:`iconicity_core.core.metrics.cut`)."""
    return pass_counts(np.asarray(values), TAU_GRID, rule, dynamic).astype(np.uint8)


def codes(values: np.ndarray, n_names: int) -> np.ndarray:
    """Integer codes in the smallest unsigned type that holds ``n_names``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_names <= np.iinfo(dtype).max + 1:
            return np.asarray(values).astype(dtype)
    raise ValueError("too many names")


def on_grid(tau: float) -> bool:
    """Whether a threshold is one of the grid's values (a slider position).

    >>> on_grid(0.47), on_grid(0.475), on_grid(1.2)
    (True, False, False)
    """
    return 0.0 <= tau <= 1.0 and abs(tau * 100 - round(tau * 100)) < 1e-9


class Payload:
    """``meta`` (JSON-ready; its ``layout`` says where each array lies) and the arrays, laid out in one blob
    (little-endian, each at a multiple of 8 bytes)."""

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray | None]) -> None:
        parts: list[bytes] = []
        layout: dict[str, dict | None] = {}
        offset = 0
        for name, a in arrays.items():
            if a is None:
                layout[name] = None
                continue
            a = np.ascontiguousarray(a)
            data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
            layout[name] = {"offset": offset, "length": int(a.size), "type": _TYPES[a.dtype]}
            pad = (-len(data)) % 8
            parts.append(data + b"\0" * pad)
            offset += len(data) + pad
        self.blob = b"".join(parts)
        self.meta = {**meta, "layout": layout}

    def container(self) -> bytes:
        """The dashboard's bytes: ``ICX1``, the header's length (u32), the header (JSON), padding, the blob."""
        header = json.dumps(clean(self.meta), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        return MAGIC + struct.pack("<I", len(header)) + header + b"\0" * ((-len(header)) % 8) + self.blob

    def shared(self) -> dict:
        """The shared file's form: the header with the blob in base64."""
        return {**self.meta, "blob": base64.b64encode(self.blob).decode()}


def payload_id(*parts) -> str:
    """A short stable id of what a payload was built from (database, its version, run)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def build(engine, refs, covariates: list[str], info: dict, op, text: dict, colours: dict[str, str],
          extra: dict | None = None, bootstrap: int = BOOTSTRAP) -> Payload:
    """The payload of one score run: ``engine`` (its arrays), ``refs`` (the references indexed by slug, with
    titles and covariates), the run's record ``info`` and operating point ``op`` (its rule quantises every
    similarity), the words ``text`` (:func:`iconicity_core.web.text.texts`)."""
    from ..analysis.correlation import POOLED_DECIMALS
    from ..analysis.tables import covariate_label
    from ..config import QUADRANT_COLOURS
    from ..core import metrics as kernel
    from ..core.grid import parse_grid
    from ..display import column_label

    a = engine.a
    rows, cols = parse_grid(info["grid"])
    refs = refs.reindex(a.slugs)
    same = None if np.array_equal(a.cells, a.same_pos) else a.same_pos
    meta = {
        "format": 2,
        "run": {"id": info.get("run_id"), "rule": op.rule, "grid": info.get("grid"), "rows": rows, "cols": cols},
        "grid": {"n": len(TAU_GRID), "taus": TAU_GRID.tolist(), "heatmap": HEATMAP},
        # a dynamic τ of its own only when it differs (as config.run_thresholds keeps it): then a given recognition
        # τ moves both kinds, as in iconicity metrics
        "op": {"clip_tau": op.clip_tau, "patch_tau": op.patch_tau,
               "clip_tau_dynamic": None if op.dynamic_tau == op.clip_tau else op.dynamic_tau},
        "models": list(a.models), "colours": colours, "slugs": list(a.slugs), "variants": list(a.variants),
        "refs": {"title": [None if v != v else str(v) for v in refs["title"]] if "title" in refs else [None] * len(a.slugs),
                 "dynamic": a.dynamic.tolist(), "covariate_names": covariates,
                 "covariate_labels": {c: column_label(covariate_label(c)) for c in covariates},
                 "covariates": {c: refs[c].astype(float).tolist() for c in covariates}},
        "n": engine.n, "k": engine.k, "bootstrap": bootstrap, "pooled_decimals": POOLED_DECIMALS,
        "quadrants": {"cut": kernel.QUADRANT_CUT, "names": list(kernel.QUADRANTS), "colours": list(QUADRANT_COLOURS)},
        "text": text, "start": {"variant": "title" if "title" in a.variants else (a.variants[0] if a.variants else "")},
        **(extra or {}),
    }
    arrays = {"model": codes(a.model, len(a.models)), "slug": codes(a.slug, len(a.slugs)),
              "variant": codes(a.variant, len(a.variants)), "clip": quantise(a.clip, op.rule, a.dynamic[a.slug]),
              "cells": quantise(a.cells.ravel(), op.rule), "same": None if same is None else quantise(same.ravel(), op.rule)}
    return Payload(meta, arrays)


def for_script_tag(value) -> str:
    """JSON that can sit inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped as
    ``\\u003c`` etc. (a title holding ``</script>`` cannot end the block); NaN written as null.

    >>> for_script_tag({"t": "</script><b>", "x": float("nan")})
    '{"t":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e","x":null}'
    """
    text = json.dumps(clean(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def clean(v):
    """JSON-ready values: NaN as None, numpy scalars as Python ones, tuples as lists."""
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
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
    return clean(df.to_dict("records"))
