"""The paper's own robustness checks, on stored scores (pure, from the in-memory engine):

* **position independence** — VR with matching ``any`` against ``same-position``: a reused-but-moved
  composition (reuse anywhere, none in place) is the signature of reinterpretation by collage;
* **the sensitivity grid** — per model CRA / VR / CRT with bootstrap CIs over references at every (CLIP τ,
  patch τ) of a grid, whether the model ranking survives (Kendall τ against the operating point), the share
  of references whose recognition x realization quadrant changes, and which conclusions hold everywhere;
* **perturbation statistics** — per model and prompt variant against the title prompt: paired ΔCRA / ΔVR /
  ΔCRT over references with paired bootstrap CIs and Wilcoxon signed-rank tests, the share of references
  still recognised, and whether VR falls when recognition holds.

Reference consistency (dynamic references' own images) is in :mod:`.consistency`.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, wilcoxon

from ..config import N_RESAMPLES, ROBUSTNESS_STEP, Filters, Thresholds
from ..core import metrics as kernel
from ..errors import InvalidArgument, NoResults
from .engine import Engine

METRICS = ("cra", "vr", "crt")


def _per_model(refs: pd.DataFrame, metric: str) -> pd.Series:
    return refs.groupby("model")[metric].mean()


def bootstrap_means(values: pd.DataFrame, n_resamples: int = N_RESAMPLES, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per column of ``values`` (one row per reference): the mean and a percentile-bootstrap CI, references
    resampled with replacement (NaN rows left out of each mean). The same resamples for every column, so
    paired columns stay paired.

    >>> v = pd.DataFrame({"a": [0.0, 1.0, 1.0, 0.0]})
    >>> r = bootstrap_means(v, 200).loc["a"]
    >>> float(r["mean"]), bool(0 <= r["ci_low"] <= 0.5 <= r["ci_high"] <= 1)
    (0.5, True)
    """
    x = values.to_numpy(np.float64)
    n = len(x)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n_resamples, n)) if n else np.zeros((n_resamples, 0), int)
    # each resample as draw counts per reference: its mean of a column is (counts @ values) / (counts @ present),
    # NaN rows left out — one matrix product for every column and resample instead of a gather per column
    counts = np.bincount((np.arange(n_resamples)[:, None] * n + idx).ravel(),
                         minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)
    present = np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        all_means = (counts @ np.where(present, x, 0.0)) / (counts @ present)
    out = []
    for j, col in enumerate(values.columns):
        v, means = x[:, j], all_means[:, j]
        lo, hi = (np.nanpercentile(means, [50 * (1 - level), 100 - 50 * (1 - level)])
                  if np.isfinite(means).any() else (np.nan, np.nan))
        out.append({"column": col, "mean": float(np.nanmean(v)) if np.isfinite(v).any() else np.nan,
                    "ci_low": float(lo), "ci_high": float(hi), "n_refs": int(np.isfinite(v).sum())})
    return pd.DataFrame(out).set_index("column")


# -- position independence -------------------------------------------------------------------------------------
def position_independence(engine: Engine, t: Thresholds, f: Filters = Filters(), top: int = 15) -> dict:
    """Per model: VR with ``any`` matching and with ``same-position`` and their ratio (macro over references);
    and the (model, reference) points where the two differ most."""
    a = engine.reference_table(replace(t, match="any", pooling="all"), f)
    s = engine.reference_table(replace(t, match="same-position", pooling="all"), f)
    keys = ["model", "slug", "kind", "variant"]
    both = a[[*keys, "vr"]].merge(s[[*keys, "vr"]], on=keys, suffixes=("_any", "_same"))
    per_model = both.groupby("model")[["vr_any", "vr_same"]].mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        per_model["ratio_same_to_any"] = per_model["vr_same"] / per_model["vr_any"]
    both["moved"] = both["vr_any"] - both["vr_same"]
    movers = both.sort_values(["moved", "slug"], ascending=[False, True]).head(top).reset_index(drop=True)
    return {"per_model": per_model.reset_index(), "movers": movers}


# -- the sensitivity grid ----------------------------------------------------------------------------------------
def around(t: Thresholds) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The sensitivity grid of the paper's check centred on ``t``: each threshold one step below, at and above.

    >>> around(Thresholds(0.7, None, 0.6))
    ((0.6, 0.7, 0.8), (0.5, 0.6, 0.7))
    >>> around(Thresholds(0.47, None, 0.61))
    ((0.37, 0.47, 0.57), (0.51, 0.61, 0.71))
    """
    steps = (-ROBUSTNESS_STEP, 0.0, ROBUSTNESS_STEP)
    c, p = round(t.clip_tau, 2), round(t.patch_tau, 2)
    return tuple(round(c + d, 2) for d in steps), tuple(round(p + d, 2) for d in steps)


def sensitivity_grid(engine: Engine, t: Thresholds, clip_taus=None, patch_taus=None,
                     f: Filters = Filters(), variant: str | None = None, n_resamples: int = N_RESAMPLES,
                     seed: int = 0) -> dict:
    """Per (CLIP τ, patch τ, model): CRA / VR / CRT macro means over references with bootstrap CIs; per grid
    point: Kendall τ of the model ranking by CRT against the ranking at ``t`` (the operating point), and the
    share of (model, reference) points whose quadrant differs from the operating point's; and the list of
    conclusions that hold across the whole grid or flip. A run with a distinct dynamic CLIP τ keeps its offset
    (dynamic τ = grid τ + (τ_dynamic − τ)). The grid: ``clip_taus`` x ``patch_taus``, each by default
    :func:`around` ``t``. ``variant``: one prompt variant (default: ``title`` when present)."""
    variants = list(engine.a.variants)
    clip_taus = around(t)[0] if clip_taus is None else clip_taus
    patch_taus = around(t)[1] if patch_taus is None else patch_taus
    if n_resamples < 1:
        raise InvalidArgument(f"n_resamples must be at least 1, got {n_resamples}")
    if not variants:
        raise NoResults("the run has no scored generated images: there is nothing to check — score some first")
    if variant is not None and variant not in variants:
        raise InvalidArgument(f"variant {variant!r} is not a prompt variant of the run (it has {', '.join(variants)})")
    for name, taus in (("clip_taus", clip_taus), ("patch_taus", patch_taus)):
        vals = [float(v) for v in taus]
        if not vals or len(set(vals)) != len(vals):
            raise InvalidArgument(f"{name} must list each threshold once (at least one), got {vals}")
    variant = variant or ("title" if "title" in variants else variants[0])
    f = replace(f, variants=(variant,)) if variant is not None else f
    offset = t.dynamic_tau - t.clip_tau

    def at(ct, pt):
        tt = replace(t, clip_tau=float(ct), clip_tau_dynamic=float(ct) + offset if offset else None, patch_tau=float(pt))
        return engine.reference_table(tt, f)

    base = at(t.clip_tau, t.patch_tau)
    base_rank = _per_model(base, "crt")
    base_quad = kernel.quadrants(base["cra"], base["vr"])
    rows, points, majorities = [], [], {}
    for ct in clip_taus:
        for pt in patch_taus:
            refs = at(ct, pt)
            majorities[(ct, pt)] = _majority_quadrants(refs)
            for model, g in refs.groupby("model"):
                ci = bootstrap_means(g[list(METRICS)].reset_index(drop=True), n_resamples, seed)
                rows.append({"clip_tau": ct, "patch_tau": pt, "model": model, "n_refs": len(g),
                             **{f"{m}{suffix}": ci.loc[m, col] for m in METRICS
                                for suffix, col in (("", "mean"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high"))}})
            rank = _per_model(refs, "crt").reindex(base_rank.index)
            kt = kendalltau(base_rank.to_numpy(), rank.to_numpy()).statistic if len(rank) > 1 else np.nan
            quad = kernel.quadrants(refs["cra"], refs["vr"])
            points.append({"clip_tau": ct, "patch_tau": pt, "kendall_tau": kt,
                           "quadrant_changed": float(np.mean(quad != base_quad)) if len(quad) else np.nan,
                           "ranking": " > ".join(rank.sort_values(ascending=False, kind="stable").index)})
    table, grid = pd.DataFrame(rows), pd.DataFrame(points)
    return {"table": table, "points": grid, "conclusions": conclusions(table, base, majorities), "variant": variant,
            "operating_point": (t.clip_tau, t.patch_tau)}


def _majority_quadrants(refs: pd.DataFrame) -> dict[str, str]:
    """Per model: the quadrant most of its references are in (ties: the first in the kernel's order)."""
    q = refs.assign(quadrant=kernel.quadrants(refs["cra"], refs["vr"]))
    order = {name: i for i, name in enumerate(kernel.QUADRANTS)}
    out = {}
    for model, g in q.groupby("model"):
        counts = g["quadrant"].value_counts()
        out[model] = min(counts.index, key=lambda name: (-counts[name], order[name]))
    return out


def verdict(holding: int, points: int) -> str:
    """``holds`` at every grid point, ``fails`` at none, else ``flips``.

    >>> verdict(9, 9), verdict(0, 9), verdict(4, 9)
    ('holds', 'fails', 'flips')
    """
    return "holds" if holding == points else "fails" if holding == 0 else "flips"


def conclusions(table: pd.DataFrame, base: pd.DataFrame, majorities: dict) -> pd.DataFrame:
    """Plain-language statements about the models at the operating point and whether each holds at every
    grid point (:func:`verdict`): the order of every pair of models by CRA, VR and CRT, and each model's
    majority quadrant."""
    out = []
    models = sorted(table["model"].unique())
    n_points = table.groupby(["clip_tau", "patch_tau"]).ngroups
    names = {"cra": "recognises more often (CRA)", "vr": "reuses more (VR)", "crt": "transforms more (CRT)"}
    for metric in METRICS:
        at_op = _per_model(base, metric)
        for i, a in enumerate(models):
            for b in models[i + 1:]:
                if a not in at_op or b not in at_op or not np.isfinite(at_op[a] - at_op[b]) or at_op[a] == at_op[b]:
                    continue
                hi, lo = (a, b) if at_op[a] > at_op[b] else (b, a)
                wide = table.pivot_table(index=["clip_tau", "patch_tau"], columns="model", values=metric)
                holds = (wide[hi] > wide[lo]).fillna(False)
                flips = [f"recognition τ {c:g} / patch τ {p:g}" for (c, p), ok in holds.items() if not ok]
                out.append({"statement": f"{hi} {names[metric]} than {lo}", "metric": metric,
                            "verdict": verdict(int(holds.sum()), n_points),
                            "holds_at": f"{int(holds.sum())} of {n_points}", "holds_everywhere": not flips,
                            "flips_at": "; ".join(flips)})
    for model, top in _majority_quadrants(base).items():
        flips = [f"recognition τ {c:g} / patch τ {p:g} ({m.get(model)})" for (c, p), m in majorities.items() if m.get(model) != top]
        out.append({"statement": f"most references of {model} are {top}", "metric": "quadrant",
                    "verdict": verdict(n_points - len(flips), n_points),
                    "holds_at": f"{n_points - len(flips)} of {n_points}", "holds_everywhere": not flips,
                    "flips_at": "; ".join(flips)})
    return pd.DataFrame(out, columns=["statement", "metric", "verdict", "holds_at", "holds_everywhere", "flips_at"])


# -- perturbation statistics ------------------------------------------------------------------------------------
def perturbation(engine: Engine, t: Thresholds, f: Filters = Filters(), base: str = "title",
                 n_resamples: int = N_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """Per model and prompt variant against ``base``, over the references both have: mean ΔCRA, ΔVR, ΔCRT
    (variant − base) with paired bootstrap CIs and Wilcoxon signed-rank p-values; the share of references
    recognised under ``base`` (CRA > 0.5) still recognised under the variant; and, where recognition holds,
    ΔVR (does the model transform more when the title changes?)."""
    refs = engine.reference_table(t, replace(f, variants=()))
    wide = refs.pivot_table(index=["model", "slug"], columns="variant", values=list(METRICS))
    rows = []
    if base not in refs["variant"].unique():
        return pd.DataFrame()
    models_present = set(wide.index.get_level_values("model"))
    for variant in sorted(v for v in refs["variant"].unique() if v != base):
        for model in sorted(models_present):
            w = wide.xs(model, level="model")
            if (("cra", variant) not in w) or (("cra", base) not in w):
                continue
            d = pd.DataFrame({m: w[(m, variant)] - w[(m, base)] for m in METRICS})
            both = w[[("cra", base), ("cra", variant)]].dropna()
            if d["cra"].notna().sum() == 0:
                continue
            rec_base = both[("cra", base)] > kernel.QUADRANT_CUT
            still = both[("cra", variant)] > kernel.QUADRANT_CUT
            held = (rec_base & still)
            dvr_held = (w[("vr", variant)] - w[("vr", base)])[held.reindex(w.index, fill_value=False)]
            ci = bootstrap_means(pd.concat([d, dvr_held.rename("vr_held")], axis=1).reset_index(drop=True),
                                 n_resamples, seed)
            row = {"model": model, "variant": variant, "base": base, "n_refs": int(d["cra"].notna().sum())}
            for m in (*METRICS, "vr_held"):
                vals = (dvr_held if m == "vr_held" else d[m]).dropna().to_numpy()
                row[f"d{m}"] = ci.loc[m, "mean"]
                row[f"d{m}_ci_low"], row[f"d{m}_ci_high"] = ci.loc[m, "ci_low"], ci.loc[m, "ci_high"]
                row[f"d{m}_p_wilcoxon"] = paired_wilcoxon(vals)
            row["share_still_recognised"] = float(still[rec_base].mean()) if rec_base.any() else np.nan
            row["n_recognised_under_base"] = int(rec_base.sum())
            rows.append(row)
    return pd.DataFrame(rows)


def paired_wilcoxon(differences) -> float:
    """The two-sided Wilcoxon signed-rank p-value of paired differences (scipy; NaN with fewer than two
    non-zero differences).

    >>> round(paired_wilcoxon([0.1, 0.2, 0.3, 0.25, 0.15, -0.05]), 4)
    0.0625
    """
    d = np.asarray(differences, float)
    d = d[np.isfinite(d)]
    if (d != 0).sum() < 2:
        return float("nan")
    return float(wilcoxon(d).pvalue)
