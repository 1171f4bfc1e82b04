"""The score tables each page shows, from the engine and the cached reads (covariates, paths) —
memoised per inputs, so a rerun that changes nothing recomputes nothing and a slider move recomputes
only what depends on it. (The Map: :mod:`.mapping`; Find similar: :mod:`.neighbours`; Compare runs:
:mod:`.run_comparison`; labels: :mod:`.labeller`.)"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import correlation, tables
from ..config import Filters
from ..core import metrics as kernel
from ..io.csvfiles import to_csv
from . import cache
from .labeller import labels_version, sidecar_labels


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


def reference_summary(ctx) -> pd.DataFrame:
    """One row per reference: key columns, mean scores over the selected models and variants, counts,
    covariates."""
    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("refsummary", ctx.version, t, f), lambda: tables.per_reference(
        ctx.engine.reference_table(t, f), cache.references(*ctx.key), cache.reference_counts(*ctx.key, ctx.run_id)))


def gallery(ctx, slug: str, sort: str = "clip_sim", descending: bool = True) -> pd.DataFrame:
    """Generated images of one reference (under the filters) with their scores and paths, sorted."""
    if sort not in ("clip_sim", "vr", "image"):
        raise ValueError("sort must be clip_sim, vr or image")
    f = ctx.filters
    df = ctx.engine.image_table(ctx.thresholds, Filters(f.models, f.kinds, f.variants, (slug,)))
    df = df.merge(cache.file_rows(*ctx.key, tuple(df["file_id"])), on="file_id", how="left")
    df["high_reuse"] = kernel.high_reuse(df["vr"])
    given = sidecar_labels(ctx)                       # a person's label (the sidecar) over the database's
    if given:
        df["label"] = df["file_id"].map(given).fillna(df["label"])
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
    return r[r["slug"] == slug].drop(columns=["slug", "kind", "pooling", "match"]).reset_index(drop=True)


def calibration(ctx, target_precision: float = 0.9, n_resamples: int = 199) -> pd.DataFrame:
    """:func:`iconicity_core.analysis.calibration.calibrate` on the labelled images under the filters."""
    from ..analysis.calibration import calibrate

    t, f = ctx.thresholds, ctx.filters
    given = sidecar_labels(ctx)

    def build():
        ids, labels, clip, cells = ctx.engine.labelled_arrays(f, frozenset(given), t.match)
        a = ctx.engine.a
        dynamic = a.dynamic[a.slug[ctx.engine.labelled(f, frozenset(given))]]   # the kinds the rule may compare apart
        if given:
            labels = np.array([given.get(i, lab) for i, lab in zip(ids, labels, strict=True)], object)
        return calibrate(labels, clip, cells, t.rule, target_precision, n_resamples, dynamic=dynamic)
    return ctx.engine.memo(("calibrate", f, t.rule, t.match, target_precision, n_resamples,
                            labels_version(ctx)), build)


def patch_view(ctx, slug: str, file_id: str, alpha: float = 0.45) -> dict:
    """Everything the Patch matches page shows for one generated image, at the current thresholds and
    matching: the heatmap (outlines from the kernel, so exactly the cells VR counts), the references with the
    cells it reused outlined, the per-cell table, and the image's numbers."""
    from ..core.grid import parse_grid
    from ..core.similarity import reuse_map
    from ..viz import overlays

    t = ctx.thresholds
    rows, cols = parse_grid(ctx.info["grid"])
    m, row = cache.patch_matches(*ctx.key, ctx.run_id, file_id)
    refs = cache.reference_images(*ctx.key, ctx.run_id, slug)
    paths = cache.image_paths(*ctx.key, (file_id, *refs["file_id"]))
    ref_index = {f: k for k, f in enumerate(refs["file_id"])}
    sims = m[kernel.MATCH_COLUMNS[t.match]].to_numpy(np.float32)
    hit = kernel.reused(sims, t.patch_tau, t.rule)
    names = [f"R{ref_index.get(f, '?')}c{c}" for f, c in zip(m["ref_file"], m["ref_cell"], strict=True)] if t.match == "any" else None
    overlay = overlays.patch_overlay(overlays.display_image(paths[file_id]), sims, hit, rows, cols, names, alpha)
    used = reuse_map(m["ref_file"].tolist(), m["ref_cell"].tolist(), hit) if t.match == "any" else {}
    references = [(k, r, overlays.reference_overlay(overlays.display_image(paths[r.file_id]), used.get(r.file_id, {}), rows, cols))
                  for k, r in enumerate(refs.itertuples()) if r.kept]
    table = m.assign(reused=hit, matched=[f"{n} ({rel})" for n, rel in zip(names or [""] * len(m), m["ref_relpath"], strict=True)]
                     if names else "")[["cell", "sim", "same_pos_sim", "matched", "reused"]]
    return {"overlay": overlay, "references": references, "table": table, "row": row,
            "vr": float(kernel.visual_reuse(sims[None], t.patch_tau, t.rule)[0]), "n_reused": int(hit.sum()), "k": len(sims),
            "same_mean": float(m["same_pos_sim"].mean())}


def consistency(ctx, slug: str):
    """The consistency of a dynamic reference's kept images (:mod:`iconicity_core.analysis.consistency`), at
    the run's recognition τ as the similarity floor; None for a static reference or without stored vectors."""
    from ..analysis.consistency import work_consistency

    t = ctx.thresholds
    if cache.kinds(*ctx.key).get(slug) != "dynamic":
        return None

    def build():
        try:
            return cache.read(ctx.key[0], lambda con: work_consistency(con, ctx.run_id, slug, t, floor=t.clip_tau))
        except LookupError:
            return None
    return ctx.engine.memo(("consistency", ctx.version, slug, t.clip_tau, t.dynamic_tau, t.rule), build)


def robustness(ctx, clip_taus, patch_taus, n_resamples: int = 199) -> dict:
    """The sensitivity grid around the current thresholds (:func:`iconicity_core.analysis.robustness.sensitivity_grid`)."""
    from ..analysis.robustness import sensitivity_grid

    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("robustness", t, f, tuple(clip_taus), tuple(patch_taus), n_resamples),
                           lambda: sensitivity_grid(ctx.engine, t, clip_taus, patch_taus, f, n_resamples=n_resamples))


def position_independence(ctx) -> dict:
    from ..analysis.robustness import position_independence as pi

    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("position", t, f), lambda: pi(ctx.engine, t, f))


def perturbation(ctx, base: str, n_resamples: int = 499):
    from ..analysis.robustness import perturbation as pert

    t, f = ctx.thresholds, ctx.filters
    return ctx.engine.memo(("perturbation", t, f, base, n_resamples), lambda: pert(ctx.engine, t, f, base, n_resamples))


def grid_taus(ctx) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The sensitivity grid around the current thresholds (:func:`iconicity_core.analysis.robustness.around`)."""
    from ..analysis.robustness import around

    return around(ctx.thresholds)


def column_name(name: str) -> str:
    """A column's name in words (for chart categories)."""
    from ..display import column_label

    return column_label(name)


def export_suffix(ctx) -> str:
    t = ctx.thresholds
    return f"tau{t.clip_tau:.2f}_patch{t.patch_tau:.2f}_{t.pooling}_{t.match}_{t.rule}"


def export_tables(ctx) -> dict[str, pd.DataFrame]:
    t, f = ctx.thresholds, ctx.filters
    return {"model": ctx.engine.model_table(t, f), "reference": ctx.engine.reference_table(t, f)}


def csv(df: pd.DataFrame) -> str:
    """A table as spreadsheet-safe CSV (:func:`iconicity_core.io.csvfiles.to_csv`)."""
    return to_csv(df)


def column_docs() -> str:
    """What the exported columns mean (Markdown)."""
    return "\n".join(f"- `{k}`: {v}" for k, v in (
        ("model, slug, kind, variant", "the model, the reference, static or dynamic, the prompt variant"),
        ("n / n_refs", "generations of the reference / references of the model"),
        ("cra", "share of the generations that are recognised"),
        ("vr, vi", "share of reused cells (mean over the recognised generations, or all: see pooling), and 1 − VR"),
        ("crt", "CRA × VI (0 when nothing is recognised)"),
        ("pooling, match", "what VR and VI are averaged over; where a cell may match (any position, or the same)"),
        ("clip_sim, recognised", "per image: its best recognition similarity and whether it passes τ"),
        ("label, seed, file_id", "per image: its ground-truth label (when known), seed and stable id")))


def with_ci(df: pd.DataFrame, signed: bool = False) -> pd.DataFrame:
    """A table for people: every ``x`` with ``x_ci_low`` / ``x_ci_high`` becomes one column "x [95 % CI]"
    ("0.412 [0.350, 0.470]"), every ``x_p_wilcoxon`` a p-value column beside it."""
    from ..display import column_label

    out = pd.DataFrame(index=df.index)
    fmt = "{:+.3f}" if signed else "{:.3f}"
    for c in df.columns:
        if c.endswith(("_ci_low", "_ci_high")):
            continue
        if c.endswith("_p_wilcoxon"):
            out[f"p ({column_label(c[: -len('_p_wilcoxon')])})"] = df[c]
        elif f"{c}_ci_low" in df.columns:
            out[f"{column_label(c)} [95 % CI]"] = [
                "" if v != v else f"{fmt.format(v)} [{fmt.format(lo)}, {fmt.format(hi)}]"
                for v, lo, hi in zip(df[c], df[f"{c}_ci_low"], df[f"{c}_ci_high"], strict=True)]
        else:
            out[c] = df[c]
    return out.reset_index(drop=True)
