"""THE metric kernel: the one place that says what *recognised*, *reused*, CRA, VR, VI and CRT are.

Every number a user sees goes through these functions — the SQL of ``iconicity metrics`` (which
returns per-image sufficient statistics and finishes them here), the in-memory engine of the
dashboard and the notebook API, the threshold sweeps, exports, calibration, heatmaps and finding
cards. The formulas are written out in ``docs/method.md``.

**Rules.** A value *passes* a threshold ``tau`` under rule ``gt`` when ``v > tau`` (the paper), under
``ge`` when ``v >= tau``, and under ``authors`` as the released scripts compare, kind by kind: a *static*
reference's best CLIP similarity in float32 (``float32(v) >= float32(tau)``: compute_CRA.py's static check
compares a NumPy float32 with the Python float ``tau``, which NumPy 2 casts to float32), everything else as
``ge`` in float64 (its dynamic check takes ``float(...)`` first; the scripts threshold no cells). Every rule is
one comparison against a *cut*: ``v passes  <=>  v > cut(tau, rule, dynamic)`` (for ``ge`` the cut is the
float64 just below ``tau``; for a static reference under ``authors`` the float64 at which float32 rounding
flips, :func:`cuts`), so SQL only ever writes ``> $cut`` with the cut bound as a parameter. ``dynamic`` says
what the value is: ``None`` for anything that is not a recognition decision (a cell), else whether the
reference is dynamic — only ``authors`` tells the kinds apart. Float32 values (the stored per-cell
similarities) are compared with :func:`cut32`, which gives exactly the float64 answer.

**Matching.** ``any`` (the paper): a generated cell's best similarity to any cell of any kept
reference image; ``same-position``: its best similarity to the cell at the same grid position.

**Metrics of a group** (one reference, model and prompt variant) are finished from four sufficient
statistics — ``n`` generations, ``n_rec`` recognised, and the sums of VR_i over all of them and over
the recognised ones (torchmetrics' ``_update`` / ``_compute`` split):

* CRA = n_rec / n
* VR = mean VR_i over the recognised generations (pooling ``recognised``, NaN when none is) or over
  all of them (pooling ``all``); VI = 1 - VR
* CRT = CRA x VI, and 0 when nothing is recognised

Per model, kind and variant: macro means over references (:func:`macro_mean`, NaN-aware).

>>> import numpy as np
>>> s = np.array([0.9, 0.7, 0.5])
>>> recognised(s, 0.7).tolist(), recognised(s, 0.7, "ge").tolist()
([True, False, False], [True, True, False])
>>> at = np.array([float(np.float32(0.7))] * 2)   # 0.699999988..., a float32 similarity sitting on tau 0.7
>>> recognised(at, 0.7, "ge").tolist(), recognised(at, 0.7, "authors", dynamic=np.array([False, True])).tolist()
([False, False], [True, False])
>>> cells = np.array([[0.9, 0.9, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.7, 0.7, 0.7, 0.7]], np.float32)
>>> visual_reuse(cells, 0.6).tolist()
[0.5, 0.0, 1.0]
>>> m = reference_scores(s, cells, clip_tau=0.7, patch_tau=0.6)   # CRA 1/3, VI of the recognised image 0.5
>>> round(m["cra"], 4), m["vr"], round(m["crt"], 4)
(0.3333, 0.5, 0.1667)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import MATCHES, POOLINGS, RULES, Pooling, Rule

#: Which stored per-cell similarity each matching mode reads (column of ``cell_sims``).
MATCH_COLUMNS = {"any": "sim", "same-position": "same_pos_sim"}
#: The Overview's quadrant cuts: a reference is *recognised* when CRA > 0.5 and *reused* when VR > 0.5.
QUADRANT_CUT = 0.5
QUADRANTS = ("replicated", "reinterpreted", "reused unrecognised", "missed")


def check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"threshold rule must be one of {', '.join(RULES)}, got {rule!r}")


def check_match(match: str) -> None:
    if match not in MATCHES:
        raise ValueError(f"matching must be one of {', '.join(MATCHES)}, got {match!r}")


def check_pooling(pooling: str) -> None:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")


def symbol(rule: Rule) -> str:
    """How a rule reads in text: ``>`` or ``≥``."""
    check_rule(rule)
    return ">" if rule == "gt" else "≥"


#: How each rule is written out in files (the exports' metadata).
RULE_TEXT = {"gt": "strict >", "ge": ">=",
             "authors": ">= (a static reference's CLIP similarity compared in float32, as compute_CRA.py; "
                        "everything else in float64)"}


def cut(tau: float, rule: Rule = "gt", dynamic: bool | None = None) -> float:
    """The float64 cut ``c`` with ``v passes tau  <=>  v > c`` for every float64 ``v`` (``dynamic``: what
    ``v`` is, see the module's *Rules*).

    >>> cut(0.6), cut(0.6, "ge") < 0.6, 0.6 > cut(0.6, "ge")
    (0.6, True, True)
    >>> cut(0.7, "authors", dynamic=False) < cut(0.7, "authors") == cut(0.7, "ge") < 0.7
    True
    """
    if dynamic is not None and np.asarray(dynamic).ndim:
        raise ValueError("cut() takes one kind; use cuts() for an array of them")
    return float(cuts(tau, rule, dynamic))


def cuts(tau, rule: Rule = "gt", dynamic=None) -> np.ndarray:
    """:func:`cut` of every threshold and kind (``tau`` and ``dynamic`` broadcast against each other).

    Under ``authors`` a static reference's similarity passes when ``float32(v) >= float32(tau)``: with
    ``t32 = float32(tau)`` and ``lo`` the float32 just below it, ``float32(v)`` is ``t32`` or more exactly when
    ``v`` lies above the midpoint ``m = (lo + t32) / 2`` (exact in float64), or on it and round-to-nearest-even
    picks ``t32`` (its last bit is 0). The cut is therefore the float64 just below ``m`` when ``t32`` is even,
    and ``m`` itself when it is odd:

    >>> v = np.float64(np.float32(0.7))                  # 0.699999988..., float32(0.7), below 0.7 in float64
    >>> c = float(cuts(0.7, "authors", False))
    >>> bool(v > c), bool(np.float32(v) >= 0.7), bool(v > cut(0.7, "ge"))
    (True, True, False)
    >>> lo = np.nextafter(np.float32(0.7), np.float32(0))
    >>> m = (float(lo) + float(np.float32(0.7))) / 2       # the midpoint: a tie, rounded to the even neighbour
    >>> around = [np.nextafter(m, -1), m, np.nextafter(m, 2)]
    >>> [bool(x > c) for x in around] == [bool(np.float32(x) >= np.float32(0.7)) for x in around]
    True
    >>> cuts([0.7, 0.7], "authors", [False, True]).tolist() == [c, cut(0.7, "ge")]
    True
    """
    check_rule(rule)
    t = np.asarray(tau, np.float64)
    if rule == "gt":
        return t
    below = np.nextafter(t, -np.inf)
    if rule == "ge" or dynamic is None:
        return below
    return np.where(np.asarray(dynamic, bool), below, _float32_cut(t))


def _float32_cut(t: np.ndarray) -> np.ndarray:
    """The float64 ``c`` with ``v > c  <=>  float32(v) >= float32(t)`` for every float64 ``v`` (NaN: never)."""
    with np.errstate(over="ignore"):
        t32 = np.asarray(t, np.float64).astype(np.float32)
    lo = np.nextafter(t32, np.float32(-np.inf))
    mid = (lo.astype(np.float64) + t32.astype(np.float64)) / 2
    even = (t32.view(np.uint32) & 1) == 0             # the last significand bit, whatever the sign
    return np.where(even, np.nextafter(mid, -np.inf), mid)


def cut32(tau: float, rule: Rule = "gt", dynamic: bool | None = None) -> np.float32:
    """The float32 cut ``c`` with ``v > c  <=>  float64(v) > cut(tau, rule, dynamic)`` for every float32 ``v``
    — so float32 similarities are compared without converting them, with exactly the float64 (SQL)
    answer: the largest float32 not above the float64 cut.

    >>> v = np.array([0.6], np.float32)            # float32(0.6) is a little above 0.6
    >>> bool(v.astype(np.float64)[0] > 0.6), bool(v[0] > cut32(0.6)), bool(v[0] > np.float32(0.6))
    (True, True, False)
    >>> bool(np.float32(0.5) > cut32(0.5, "ge")), bool(np.float32(0.5) > cut32(0.5))
    (True, False)
    """
    c = cut(tau, rule, dynamic)
    c32 = np.float32(c)
    return np.nextafter(c32, np.float32(-np.inf)) if np.float64(c32) > c else c32


def passes(values, tau, rule: Rule = "gt", dynamic=None) -> np.ndarray:
    """Which values pass ``tau`` (a number, or an array broadcast against ``values``); ``dynamic``: ``None``
    (not a recognition decision), or a bool or per-value array (see the module's *Rules*). Float32 arrays
    with one threshold and kind are compared in float32 with :func:`cut32` (the float64 answer, without a
    copy); anything else in float64."""
    v = np.asarray(values)
    if v.dtype == np.float32 and np.ndim(tau) == 0 and np.ndim(dynamic) == 0:
        return v > cut32(float(tau), rule, dynamic)
    return v.astype(np.float64, copy=False) > cuts(tau, rule, dynamic)


def recognised(clip_sim, tau, rule: Rule = "gt", dynamic=None) -> np.ndarray:
    """Per-generation recognition flags: the best CLIP similarity ``s_i`` passes ``tau`` (a number or a
    per-image array, e.g. from :func:`clip_taus`); ``dynamic``: whether each image's reference is dynamic
    (a bool or per-image array) — needed by the rules that compare the kinds differently (``authors``)."""
    if dynamic is None and rule == "authors":
        raise ValueError("the 'authors' rule compares static and dynamic references' similarities differently: "
                         "say which images are dynamic (dynamic=...)")
    return passes(np.asarray(clip_sim, np.float64), tau, rule, dynamic)


def clip_taus(dynamic, clip_tau: float, clip_tau_dynamic: float | None = None) -> np.ndarray:
    """The recognition threshold of each image: ``clip_tau_dynamic`` where ``dynamic`` (films, series),
    else ``clip_tau``.

    >>> clip_taus(np.array([False, True]), 0.7, 0.75).tolist()
    [0.7, 0.75]
    """
    dyn = clip_tau if clip_tau_dynamic is None else clip_tau_dynamic
    return np.where(np.asarray(dynamic, bool), np.float64(dyn), np.float64(clip_tau))


def reused(cells, tau: float, rule: Rule = "gt") -> np.ndarray:
    """Per-cell reuse flags: a cell's best similarity passes the patch threshold (same shape)."""
    return passes(cells, tau, rule)


def reused_count(cells, tau: float, rule: Rule = "gt") -> np.ndarray:
    """How many cells of each image (row) are reused."""
    return reused(np.atleast_2d(np.asarray(cells)), tau, rule).sum(axis=1, dtype=np.int32)


def visual_reuse(cells, tau: float, rule: Rule = "gt") -> np.ndarray:
    """VR_i of each image (row of ``cells``, every image with the same number of cells): the fraction
    of its cells that are reused."""
    c = np.atleast_2d(np.asarray(cells))
    return vr_from_counts(reused_count(c, tau, rule), c.shape[1])


def vr_from_counts(n_reused, n_cells) -> np.ndarray:
    """VR_i from the count of reused cells and the number of cells (what SQL returns per image)."""
    return np.asarray(n_reused, np.float64) / np.asarray(n_cells, np.float64)


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per group: generations, recognised, and the sums of VR_i over all of them
    and over the recognised ones."""

    n: np.ndarray
    n_rec: np.ndarray
    vr_sum: np.ndarray
    vr_rec_sum: np.ndarray


def group_stats(group, rec, vr, n_groups: int | None = None) -> GroupStats:
    """Sufficient statistics of every group (``group``: integer codes ``0..n_groups-1``, one per image)."""
    g = np.asarray(group, np.int64)
    n_groups = (int(g.max()) + 1 if len(g) else 0) if n_groups is None else n_groups
    rec = np.asarray(rec, bool)
    vr = np.asarray(vr, np.float64)
    return GroupStats(np.bincount(g, minlength=n_groups).astype(np.int64),
                      np.bincount(g, weights=rec, minlength=n_groups),
                      np.bincount(g, weights=vr, minlength=n_groups),
                      np.bincount(g, weights=np.where(rec, vr, 0.0), minlength=n_groups))


def finish(stats: GroupStats, pooling: Pooling = "recognised") -> dict[str, np.ndarray]:
    """CRA, VR, VI and CRT of each group from its sufficient statistics (groups with ``n = 0`` give NaN
    CRA and VR; they are usually left out before).

    >>> s = GroupStats(np.array([4, 2]), np.array([2.0, 0.0]), np.array([2.0, 1.0]), np.array([1.5, 0.0]))
    >>> {k: v.tolist() for k, v in finish(s).items()}
    {'cra': [0.5, 0.0], 'vr': [0.75, nan], 'vi': [0.25, nan], 'crt': [0.125, 0.0]}
    >>> finish(s, "all")["vr"].tolist()
    [0.5, 0.5]
    """
    check_pooling(pooling)
    n = np.asarray(stats.n, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cra = np.asarray(stats.n_rec, np.float64) / n
        if pooling == "all":
            vr = np.asarray(stats.vr_sum, np.float64) / n
        else:
            vr = np.where(stats.n_rec > 0, np.asarray(stats.vr_rec_sum, np.float64) / stats.n_rec, np.nan)
    vi = 1.0 - vr
    crt = np.where(cra > 0, cra * vi, np.where(np.isnan(cra), np.nan, 0.0))
    return {"cra": cra, "vr": vr, "vi": vi, "crt": crt}


METRICS = ("cra", "vr", "vi", "crt")


def macro_mean(group, values, n_groups: int | None = None) -> np.ndarray:
    """Mean of ``values`` per group, leaving NaN out (NaN for a group with no value): how per-reference
    scores become per-model ones.

    >>> macro_mean(np.array([0, 0, 1]), np.array([0.2, np.nan, 0.5])).tolist()
    [0.2, 0.5]
    """
    g = np.asarray(group, np.int64)
    n_groups = (int(g.max()) + 1 if len(g) else 0) if n_groups is None else n_groups
    v = np.asarray(values, np.float64)
    ok = ~np.isnan(v)
    num = np.bincount(g, weights=np.where(ok, v, 0.0), minlength=n_groups)
    den = np.bincount(g, weights=ok, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def reference_scores(clip_sim, cells, clip_tau: float, patch_tau: float, pooling: Pooling = "recognised",
                     rule: Rule = "gt", dynamic: bool | None = None) -> dict[str, float]:
    """All numbers of one group of generations at once: ``n, cra, vr, vi, crt`` (as in ``metrics --by
    reference``), through :func:`group_stats` and :func:`finish`."""
    rec = recognised(clip_sim, clip_tau, rule, dynamic)
    vr = visual_reuse(cells, patch_tau, rule)
    out = finish(group_stats(np.zeros(len(rec), np.int64), rec, vr, 1), pooling)
    return {"n": len(rec), **{k: float(v[0]) for k, v in out.items()}}


def quadrants(cra, vr) -> np.ndarray:
    """Quadrant of each point of the recognition x realization plane (VR NaN counts as no reuse).

    >>> quadrants([0.9, 0.9, 0.1, 0.1], [0.9, 0.1, 0.9, float("nan")]).tolist()
    ['replicated', 'reinterpreted', 'reused unrecognised', 'missed']
    """
    rec = np.asarray(cra, float) > QUADRANT_CUT
    reuse = high_reuse(vr)
    return np.array(QUADRANTS, object)[np.where(rec, np.where(reuse, 0, 1), np.where(reuse, 2, 3))]


def high_reuse(vr) -> np.ndarray:
    """VR above the quadrant cut (NaN: no): the "reused" side of the plane, and an image that counts as
    a replica in calibration."""
    return np.nan_to_num(np.asarray(vr, float), nan=0.0) > QUADRANT_CUT


# -- tables: the rows of `iconicity metrics --by reference|model`, from per-image values ---------------
REFERENCE_COLUMNS = ["model", "slug", "kind", "variant", "n", "cra", "vr", "vi", "crt"]
MODEL_COLUMNS = ["model", "kind", "variant", "n_refs", "cra", "vr", "vi", "crt"]


def reference_table(images, rec, vr, pooling: Pooling = "recognised"):
    """``--by reference``: one row per (model, slug, variant) of ``images`` (a frame with ``model, slug,
    kind, variant``; ``rec`` and ``vr`` per image), sorted by model, slug, variant.

    >>> import pandas as pd
    >>> img = pd.DataFrame({"model": ["m", "m", "m"], "slug": ["a", "a", "b"], "kind": ["static"] * 3,
    ...                     "variant": ["title"] * 3})
    >>> reference_table(img, np.array([True, False, False]), np.array([0.5, 1.0, 0.0]))[["slug", "cra", "vr", "crt"]]
      slug  cra   vr   crt
    0    a  0.5  0.5  0.25
    1    b  0.0  NaN  0.00
    """
    import pandas as pd

    if not len(images):
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("model", "slug", "kind", "variant") else float)
                             for c in REFERENCE_COLUMNS})
    codes = images.groupby(["model", "slug", "variant"], sort=True, dropna=False).ngroup().to_numpy()
    n_groups = int(codes.max()) + 1
    first = np.empty(n_groups, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)          # first image of each group
    out = images.iloc[first][["model", "slug", "kind", "variant"]].reset_index(drop=True)
    stats = group_stats(codes, rec, vr, n_groups)
    out["n"] = stats.n
    for k, v in finish(stats, pooling).items():
        out[k] = v
    return out


def model_table(refs):
    """``--by model`` from a ``--by reference`` table: macro means over references per (model, kind,
    variant), and over both kinds (``kind = 'all'``); sorted by model, variant, then static / dynamic
    before ``all``.

    >>> import pandas as pd
    >>> ref = pd.DataFrame({"model": ["m"] * 3, "slug": ["a", "b", "c"], "kind": ["static", "static", "dynamic"],
    ...                     "variant": ["title"] * 3, "n": [2, 2, 2], "cra": [1.0, 0.5, 0.0],
    ...                     "vr": [0.5, np.nan, 0.0], "vi": [0.5, np.nan, 1.0], "crt": [0.5, 0.0, 0.0]})
    >>> model_table(ref)[["kind", "n_refs", "cra", "vr"]]
          kind  n_refs   cra    vr
    0  dynamic       1  0.00  0.00
    1   static       2  0.75  0.50
    2      all       3  0.50  0.25
    """
    import pandas as pd

    parts = []
    for per_kind in (True, False):
        frame = refs if per_kind else refs.assign(kind="all")
        if not len(frame):
            continue
        g = frame.groupby(["model", "variant", "kind"], sort=True, dropna=False)
        codes = g.ngroup().to_numpy()
        keys = g.size().reset_index()[["model", "variant", "kind"]]
        keys["n_refs"] = np.bincount(codes, minlength=len(keys))
        for m in METRICS:
            keys[m] = macro_mean(codes, frame[m].to_numpy(np.float64), len(keys))
        parts.append(keys)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("model", "kind", "variant") else float)
                             for c in MODEL_COLUMNS})
    out = pd.concat(parts, ignore_index=True)[MODEL_COLUMNS]
    order = np.lexsort((out["kind"].to_numpy(), out["kind"].to_numpy() == "all", out["variant"].to_numpy(),
                        out["model"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)
