"""The tables and figures each page shows, from the engine (scores) and the cached reads (covariates,
paths, matches) — memoised per inputs, so a rerun that changes nothing recomputes nothing and a
slider move recomputes only what depends on it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import correlation, tables
from ..config import Filters
from . import cache

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
        return refs.assign(quadrant=tables.quadrants(refs["cra"], refs["vr"]))
    return ctx.engine.memo(("points", ctx.version, t, f, kind, variant), build)


def reference_summary(ctx) -> pd.DataFrame:
    """One row per reference: key columns, mean scores over the selected models and variants, counts,
    covariates."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("refsummary", ctx.version, t, f), lambda: tables.per_reference(
        ctx.engine.reference_table(t, f), cache.references(*ctx.key), cache.reference_counts(*ctx.key, ctx.run_id)))


def quadrant_counts(refs: pd.DataFrame) -> pd.DataFrame:
    return refs["quadrant"].value_counts().reindex(tables.QUADRANTS, fill_value=0).rename("points").to_frame()


def gallery(ctx, slug: str, sort: str = "clip_sim", descending: bool = True) -> pd.DataFrame:
    """Generated images of one reference (under the filters) with their scores and paths, sorted."""
    if sort not in ("clip_sim", "vr", "image"):
        raise ValueError("sort must be clip_sim, vr or image")
    f = ctx.filters
    df = ctx.engine.image_table(ctx.thresholds, Filters(f.models, f.kinds, f.variants, (slug,)))
    df = df.merge(cache.file_rows(*ctx.key, tuple(df["file_id"])), on="file_id", how="left")
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
    return ctx.engine.sweeps(ctx.filters, ctx.thresholds.pooling, TAUS, GRID_TAUS, ctx.thresholds.rule)


def labelled_images(ctx) -> pd.DataFrame:
    """The labelled generated images with their scores at the current thresholds."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("labelled", t, f), lambda: (lambda d: d[d["label"].notna()].reset_index(drop=True))(
        ctx.engine.image_table(t, f)))


def baselines(ctx) -> pd.DataFrame | None:
    """Labelled images with CLIP similarity, VR and the latest `iconicity evaluate` scores."""
    b = cache.baselines(*ctx.key, ctx.run_id)
    if b is None or b.empty:
        return None
    return labelled_images(ctx).merge(b, on="file_id")


def image_scores(ctx, file_id: str) -> dict:
    """The current scores of one generated image."""
    t = ctx.thresholds
    df = ctx.engine.image_table(t, Filters())
    row = df[df["file_id"] == file_id]
    return row.iloc[0].to_dict() if len(row) else {}


def image_csv(ctx) -> str:
    """``metrics --by image`` at the current thresholds and filters as CSV (the same columns as the CLI)."""
    t, f = ctx.thresholds, ctx.filters

    def build():
        df = ctx.engine.image_table(t, f)
        df = df.merge(cache.file_rows(*ctx.key, tuple(df["file_id"])), on="file_id", how="left")
        cols = ["model", "slug", "kind", "variant", "image", "clip_sim", "recognised", "vr", "vi", "label", "seed",
                "file_id"]
        return df[cols].sort_values(["model", "slug", "variant", "image"]).to_csv(index=False)
    return ctx.engine.memo(("imagecsv", ctx.version, t, f), build)


def reference_breakdown(ctx, slug: str) -> pd.DataFrame:
    """The scores of one reference per model and prompt variant."""
    r = ctx.engine.reference_table(ctx.thresholds, ctx.filters)
    return r[r["slug"] == slug].drop(columns=["slug", "kind", "pooling"]).reset_index(drop=True)


def calibration(ctx, target_precision: float = 0.9, n_resamples: int = 199) -> pd.DataFrame:
    """:func:`iconicity_core.analysis.calibration.calibrate` on the labelled images under the filters."""
    from ..analysis.calibration import calibrate

    t, f = ctx.thresholds, ctx.filters

    def build():
        a, m = ctx.engine.a, ctx.engine.mask(f)
        labels = np.array([*a.labels, None], object)[a.label[m]]
        return calibrate(labels, a.clip[m], a.cells[m], t.rule, target_precision, n_resamples)
    return ctx.engine.memo(("calibrate", f, t.rule, target_precision, n_resamples), build)


def apply_thresholds(clip_tau: float, patch_tau: float) -> None:
    """Button callback: move the sidebar's threshold sliders (runs before the next script run)."""
    import streamlit as st

    for k, v in (("clip_tau", clip_tau), ("clip_tau_dynamic", clip_tau), ("patch_tau", patch_tau)):
        st.session_state[k] = st.session_state[f"w_{k}"] = round(float(v), 2)
