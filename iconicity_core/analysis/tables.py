"""Tables assembled from metric tables (pure pandas): covariates beside scores, prompt variants side by
side, quadrants. Used by the SQL views (CLI, reports) and the dashboard's engine alike."""
from __future__ import annotations

import pandas as pd

#: Columns of the score tables; a covariate with one of these names is shown as ``cov_<name>``.
SCORE_COLUMNS = frozenset({"model", "variant", "n", "cra", "vr", "vi", "crt", "pooling", "quadrant", "n_images",
                           "n_ref_images", "n_ref_dropped"})


def covariate_label(name: str) -> str:
    """How a covariate column appears beside the scores.

    >>> covariate_label("sitelinks"), covariate_label("model")
    ('sitelinks', 'cov_model')
    """
    return f"cov_{name}" if name in SCORE_COLUMNS else name


def with_covariates(ref_metrics: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """One row per (reference, model, variant): the reference's title, kind and covariates, then its
    scores (``ref_metrics``: a ``metrics --by reference`` table; ``refs``: the references table). A
    covariate whose name is also a score column (a database written before such names were reserved)
    is shown as ``cov_<name>``.

    >>> m = pd.DataFrame({"model": ["a"], "slug": ["s"], "kind": ["static"], "cra": [0.5]})
    >>> list(with_covariates(m, pd.DataFrame({"slug": ["s"], "title": ["T"], "kind": ["static"], "model": [3.0]})))
    ['slug', 'title', 'kind', 'cov_model', 'model', 'cra']
    """
    clash = {c: covariate_label(c) for c in refs.columns if c in SCORE_COLUMNS}
    return refs.rename(columns=clash).merge(ref_metrics.drop(columns=["kind"]), on="slug", how="right")


def variants_wide(ref_metrics: pd.DataFrame, base: str = "title") -> pd.DataFrame:
    """Per (model, reference): CRA and VR under each prompt variant and the change from ``base``."""
    wide = ref_metrics.pivot_table(index=["model", "slug"], columns="variant", values=["cra", "vr"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    for metric in ("cra", "vr"):
        for v in sorted(ref_metrics["variant"].unique()):
            if v != base and f"{metric}_{base}" in wide and f"{metric}_{v}" in wide:
                wide[f"d{metric}_{v}"] = wide[f"{metric}_{v}"] - wide[f"{metric}_{base}"]
    return wide.reset_index()


def per_reference(ref_metrics: pd.DataFrame, refs: pd.DataFrame, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per reference: the key columns first (slug, title, kind), then the mean CRA / VR / VI /
    CRT over the models and prompt variants in ``ref_metrics`` (macro: each (model, variant) counts
    once), the number of generations and of reference images, then the covariates."""
    g = ref_metrics.groupby("slug", sort=True)
    agg = g[["cra", "vr", "vi", "crt"]].mean().join(g["n"].sum().rename("n_images")).reset_index()
    clash = {c: covariate_label(c) for c in refs.columns if c in SCORE_COLUMNS}
    out = refs.rename(columns=clash).merge(agg, on="slug", how="inner")
    if counts is not None and len(counts):
        out = out.merge(counts, on="slug", how="left")
    covs = [clash.get(c, c) for c in refs.columns if c not in ("slug", "title", "kind")]
    first = ["slug", "title", "kind", "cra", "vr", "vi", "crt", "n_images", *[c for c in ("n_ref_images",
                                                                                        "n_ref_dropped") if c in out]]
    return out[first + covs]
