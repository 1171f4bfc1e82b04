"""The score tables each page shows, from the engine and the cached reads (covariates, paths) —
memoised per inputs, so a rerun that changes nothing recomputes nothing and a slider move recomputes
only what depends on it. (The Map, Find similar and Compare runs: :mod:`.explore`; labels:
:mod:`.labelling`.)"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import correlation, tables
from ..config import Filters
from ..core import metrics as K
from ..io.csvfiles import to_csv
from . import cache
from .labelling import labels_version, sidecar_labels

TAUS = np.round(np.linspace(0, 1, 101), 2)
GRID_TAUS = np.round(np.linspace(0.3, 0.9, 7), 2)


def references(ctx) -> pd.DataFrame:
    """One row per (reference, model, variant): title, kind, covariates, then the scores."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("refs+cov", ctx.version, t, f), lambda: tables.with_covariates(
        ctx.engine.reference_table(t, f), cache.references(*ctx.key)))


def model_summary(ctx, kind: str) -> tuple[pd.DataFrame, pd.Series]:
    """The per-model table for one kind (``all``, ``static`` or ``dynamic``) and its means over models."""
    models = ctx.engine.model_table(ctx.thresholds, ctx.filters)
    shown = models[models["kind"] == kind]
    return shown, shown[["cra", "vr", "vi", "crt"]].mean()


def reference_points(ctx, kind: str, variant: str | None = None) -> pd.DataFrame:
    """Per (reference, model) points of the recognition x realization plane for one prompt variant
    (all variants if None), with quadrants."""
    t, f = ctx.thresholds, ctx.filters

    def build():
        refs = references(ctx)
        keep = np.ones(len(refs), bool)
        if kind != "all":
            keep &= (refs["kind"] == kind).to_numpy()
        if variant is not None:
            keep &= (refs["variant"] == variant).to_numpy()
        refs = refs[keep]
        return refs.assign(quadrant=K.quadrants(refs["cra"], refs["vr"]))
    return ctx.engine.memo(("points", ctx.version, t, f, kind, variant), build)


def reference_summary(ctx) -> pd.DataFrame:
    """One row per reference: key columns, mean scores over the selected models and variants, counts,
    covariates."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("refsummary", ctx.version, t, f), lambda: tables.per_reference(
        ctx.engine.reference_table(t, f), cache.references(*ctx.key), cache.reference_counts(*ctx.key, ctx.run_id)))


def quadrant_counts(refs: pd.DataFrame) -> pd.DataFrame:
    return refs["quadrant"].value_counts().reindex(K.QUADRANTS, fill_value=0).rename("points").to_frame()


def gallery(ctx, slug: str, sort: str = "clip_sim", descending: bool = True) -> pd.DataFrame:
    """Generated images of one reference (under the filters) with their scores and paths, sorted."""
    if sort not in ("clip_sim", "vr", "image"):
        raise ValueError("sort must be clip_sim, vr or image")
    f = ctx.filters
    df = ctx.engine.image_table(ctx.thresholds, Filters(f.models, f.kinds, f.variants, (slug,)))
    df = df.merge(cache.file_rows(*ctx.key, tuple(df["file_id"])), on="file_id", how="left")
    df["high_reuse"] = K.high_reuse(df["vr"])
    return df.sort_values([sort, "image"], ascending=[not descending, True], kind="stable").reset_index(drop=True)


def variants(ctx, base: str) -> pd.DataFrame:
    t, f = ctx.thresholds, ctx.filters
    f = Filters(f.models, f.kinds, (), f.slugs)
    return ctx.engine.memo(("variants", t, f, base),
                           lambda: tables.variants_wide(ctx.engine.reference_table(t, f), base))


def covariates(ctx) -> tuple[list[str], pd.DataFrame]:
    """Numeric covariate columns (as they appear beside the scores) and their provenance."""
    covs, sources = cache.covariates(*ctx.key)
    return [tables.covariate_label(c) for c in covs], sources


def correlations(ctx, variant: str, n_resamples: int, correction: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The references of one prompt variant with covariates and scores, and the Spearman table
    (bootstrap CIs, corrected p-values, partial rho) at the current thresholds."""
    covs, _ = covariates(ctx)
    t, f = ctx.thresholds, ctx.filters

    def build():
        refs = references(ctx)
        refs = refs[refs["variant"] == variant]
        return refs, correlation.correlation_table(refs, covs, n_resamples=n_resamples, correction=correction)
    return ctx.engine.memo(("corr", ctx.version, t, f, variant, n_resamples, correction, tuple(covs)), build)


def multivariable(ctx, refs: pd.DataFrame, covs: list[str], metric: str, variant: str) -> dict[str, pd.DataFrame]:
    """Per model: the multivariable model of ``metric`` on the standardised covariates."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("mv", ctx.version, t, f, variant, metric, tuple(covs)), lambda: {
        model: correlation.multivariable(g, covs, metric) for model, g in refs.groupby("model")})


def sweeps(ctx) -> dict[str, pd.DataFrame]:
    return ctx.engine.sweeps(ctx.filters, ctx.thresholds, TAUS, GRID_TAUS)


def labelled_images(ctx) -> pd.DataFrame:
    """The labelled generated images (the database's labels; the dashboard's sidecar wins) with their
    scores at the current thresholds."""
    t, f = ctx.thresholds, ctx.filters
    given = sidecar_labels(ctx)

    def build():
        d = ctx.engine.labelled_table(t, f, frozenset(given))
        if given:
            d = d.assign(label=d["file_id"].map(given).fillna(d["label"]))
        return d[d["label"].notna()].reset_index(drop=True)
    return ctx.engine.memo(("labelled", t, f, labels_version(ctx)), build)


def headline_roc(ctx) -> tuple[list, pd.DataFrame, pd.DataFrame]:
    """The labelled images' ROC analyses (VR, CLIP similarity): separations, their AUC table and the
    curves to plot — computed once per thresholds, filters and labels."""
    from ..analysis.calibration import calibration, roc_frame, separations_table

    labelled = labelled_images(ctx)

    def build():
        seps = calibration(labelled)
        return seps, separations_table(seps), roc_frame(seps)
    return ctx.engine.memo(("headline", ctx.thresholds, ctx.filters, labels_version(ctx)), build)


def measure_rocs(ctx) -> pd.DataFrame | None:
    """ROC curves of VR / CLIP similarity against the plain measures of the latest `iconicity evaluate`
    (None if it never ran), per thresholds, filters and labels."""
    from ..analysis.evaluate import measure_columns
    from ..analysis.roc import roc_curves

    b = cache.measures(*ctx.key, ctx.run_id)
    if b is None or b.empty:
        return None
    labelled = labelled_images(ctx)

    def build():
        base = labelled.merge(b, on="file_id")
        return roc_curves(base, measure_columns(base))
    return ctx.engine.memo(("measurerocs", ctx.thresholds, ctx.filters, labels_version(ctx)), build)


def image_csv(ctx) -> str:
    """``metrics --by image`` at the current thresholds and filters as CSV (the same columns as the CLI)."""
    t, f = ctx.thresholds, ctx.filters

    def build():
        df = ctx.engine.image_table(t, f)
        df = df.merge(cache.file_rows(*ctx.key, tuple(df["file_id"])), on="file_id", how="left")
        cols = ["model", "slug", "kind", "variant", "image", "clip_sim", "recognised", "vr", "vi", "label", "seed",
                "file_id"]
        return to_csv(df[cols].sort_values(["model", "slug", "variant", "image"]))
    return ctx.engine.memo(("imagecsv", ctx.version, t, f), build)


def reference_breakdown(ctx, slug: str) -> pd.DataFrame:
    """The scores of one reference per model and prompt variant."""
    r = ctx.engine.reference_table(ctx.thresholds, ctx.filters)
    return r[r["slug"] == slug].drop(columns=["slug", "kind", "pooling"]).reset_index(drop=True)


def calibration(ctx, target_precision: float = 0.9, n_resamples: int = 199) -> pd.DataFrame:
    """:func:`iconicity_core.analysis.calibration.calibrate` on the labelled images under the filters."""
    from ..analysis.calibration import calibrate

    t, f = ctx.thresholds, ctx.filters
    given = sidecar_labels(ctx)

    def build():
        ids, labels, clip, cells = ctx.engine.labelled_arrays(f, frozenset(given), t.match)
        if given:
            labels = np.array([given.get(i, lab) for i, lab in zip(ids, labels)], object)
        return calibrate(labels, clip, cells, t.rule, target_precision, n_resamples)
    return ctx.engine.memo(("calibrate", f, t.rule, t.match, target_precision, n_resamples,
                            labels_version(ctx)), build)
