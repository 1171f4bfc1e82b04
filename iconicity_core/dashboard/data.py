"""The tables and figures each page shows, from the engine (scores) and the cached reads (covariates,
paths, matches) — memoised per inputs, so a rerun that changes nothing recomputes nothing and a
slider move recomputes only what depends on it."""
from __future__ import annotations

from pathlib import Path

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
    """The labelled generated images (the database's labels; the dashboard's sidecar wins) with their
    scores at the current thresholds."""
    t, f = ctx.thresholds, ctx.filters
    given = sidecar_labels(ctx)

    def build():
        d = ctx.engine.labelled_table(t, f, frozenset(given))
        if given:
            d = d.assign(label=d["file_id"].map(given).fillna(d["label"]))
        return d[d["label"].notna()].reset_index(drop=True)
    return ctx.engine.memo(("labelled", t, f, _labels_version(ctx)), build)


def headline_roc(ctx) -> tuple[list, pd.DataFrame, pd.DataFrame]:
    """The labelled images' ROC analyses (VR, CLIP similarity): separations, their AUC table and the
    curves to plot — computed once per thresholds, filters and labels."""
    from ..analysis.calibration import calibration, roc_frame, separations_table

    labelled = labelled_images(ctx)

    def build():
        seps = calibration(labelled)
        return seps, separations_table(seps), roc_frame(seps)
    return ctx.engine.memo(("headline", ctx.thresholds, ctx.filters, _labels_version(ctx)), build)


def baseline_rocs(ctx) -> pd.DataFrame | None:
    """ROC curves of VR / CLIP similarity against the latest `iconicity evaluate` scores (None if it
    never ran), per thresholds, filters and labels."""
    from ..analysis.calibration import roc_curves
    from ..analysis.evaluate import baseline_measures

    b = cache.baselines(*ctx.key, ctx.run_id)
    if b is None or b.empty:
        return None
    labelled = labelled_images(ctx)

    def build():
        base = labelled.merge(b, on="file_id")
        return roc_curves(base, baseline_measures(base))
    return ctx.engine.memo(("baselinerocs", ctx.thresholds, ctx.filters, _labels_version(ctx)), build)


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
    given = sidecar_labels(ctx)

    def build():
        a, m = ctx.engine.a, ctx.engine.labelled(f, frozenset(given))
        labels = np.array([*a.labels, None], object)[a.label[m]]
        if given:
            labels = np.array([given.get(i, lab) for i, lab in zip(a.file_id[m].astype(str), labels)], object)
        return calibrate(labels, a.clip[m], a.cells[m], t.rule, target_precision, n_resamples)
    return ctx.engine.memo(("calibrate", f, t.rule, target_precision, n_resamples,
                            _labels_version(ctx)), build)


def apply_thresholds(clip_tau: float, patch_tau: float) -> None:
    """Button callback: move the sidebar's threshold sliders (runs before the next script run)."""
    import streamlit as st

    for k, v in (("clip_tau", clip_tau), ("clip_tau_dynamic", clip_tau), ("patch_tau", patch_tau)):
        st.session_state[k] = st.session_state[f"w_{k}"] = round(float(v), 2)


# -- exploring ------------------------------------------------------------------------------------

#: How many points the map may draw (a fixed random sample beyond). A lasso or box selects every mapped
#: image inside it, drawn or not, so the sample only thins the picture.
MAP_DRAW_CHOICES = (5_000, 10_000, 20_000, 50_000, 100_000)
MAP_DRAW_DEFAULT = 10_000


def sidecar_labels(ctx) -> dict[str, str]:
    """file_id -> label, from the labels people gave in the dashboard or imported (the sidecar beside
    the database; cached per version of that file)."""
    return cache.sidecar_labels(*ctx.key, _labels_version(ctx), ctx.run_id)


def _labels_version(ctx) -> tuple | None:
    from ..io import labels

    path = labels.sidecar(ctx.db)
    return cache.file_version(path) if path.exists() else None


def map_frame(ctx, method: str = "pca") -> pd.DataFrame | None:
    """Every mapped file of the run: x, y, role, model, slug, variant, label, and for generated images
    their scores at the current thresholds and image quadrant. None when the run kept no CLIP vectors."""
    t, f = ctx.thresholds, ctx.filters
    coords = cache.map_coordinates(*ctx.key, ctx.run_id, method)
    if coords is None:
        return None

    def build():
        files = cache.map_files(*ctx.key, ctx.run_id).merge(coords, on="image_id", how="inner")
        eng = ctx.engine
        rows = eng.rows_of(files["file_id"])
        gen = rows >= 0
        rec = np.zeros(len(files), bool)
        vr = np.full(len(files), np.nan)
        clip = np.full(len(files), np.nan)
        rec[gen] = eng.recognised(t)[rows[gen]]
        vr[gen] = eng.vr(t.patch_tau, t.rule)[rows[gen]]
        clip[gen] = eng.a.clip[rows[gen]]
        labels = sidecar_labels(ctx)
        out = files.assign(row=rows, clip_sim=clip, recognised=rec, vr=vr,
                           label=[labels.get(fid, lab) for fid, lab in zip(files["file_id"], files["label"])])
        quadrant = tables.quadrants(np.where(rec, 1.0, 0.0), vr)
        out["quadrant"] = np.where(gen, quadrant, "reference")
        keep = (out["role"] == "reference") | (gen & np.isin(rows, np.flatnonzero(eng.mask(f))))
        return out[keep].reset_index(drop=True)
    return ctx.engine.memo(("map", ctx.version, _labels_version(ctx), method, t, f), build)


def map_chart(ctx, points: pd.DataFrame, method: str, n: int, colour: str):
    """The figure of the drawn sample of :func:`map_frame`'s points, memoised (a selection reruns the
    page; the figure of the same points is not rebuilt)."""
    from ..viz import figures

    t, f = ctx.thresholds, ctx.filters

    def build():
        drawn = map_drawn(points, n)
        title = f"CLIP map: {len(drawn):,} of {len(points):,} images drawn" if len(drawn) < len(points) else None
        return figures.map_scatter(drawn, colour, title)
    return ctx.engine.memo(("mapchart", ctx.version, _labels_version(ctx), method, t, f, n, colour, len(points)),
                           build)


def map_drawn(points: pd.DataFrame, n: int) -> pd.DataFrame:
    """The points the map draws: all of them up to ``n``, else a fixed random sample of ``n`` (the
    same points at every threshold; references first, up to a quarter of ``n``)."""
    if len(points) <= n:
        return points
    order = np.random.default_rng(0).permutation(len(points))
    refs = order[(points["role"].to_numpy()[order] == "reference")][: n // 4]
    gens = order[(points["role"].to_numpy()[order] != "reference")][: n - len(refs)]
    return points.iloc[np.sort(np.concatenate([refs, gens]))]


def map_selection(points: pd.DataFrame, selection) -> pd.DataFrame:
    """The mapped images a chart selection names: every point inside its boxes and lasso polygons (drawn
    or not) and the points clicked (their ``customdata`` is their position in ``points``)."""
    from ..analysis.projection import in_region

    if not selection:
        return points.iloc[:0]
    inside = in_region(points["x"].to_numpy(), points["y"].to_numpy(), selection.get("box") or [],
                       selection.get("lasso") or [])
    for p in selection.get("points") or []:
        c = p.get("customdata")
        c = c[0] if isinstance(c, list) and c else c
        if isinstance(c, (int, float)) and 0 <= int(c) < len(points):
            inside[int(c)] = True
    return points[inside]


def selection_summary(ctx, points: pd.DataFrame) -> pd.DataFrame:
    """CRA / VR / VI / CRT of the selected generated images next to those of every mapped image (all
    that pass the filters)."""
    eng = ctx.engine
    shown = pd.DataFrame()
    for name, rows in (("selection", points["row"]), ("all mapped", None)):
        m = np.zeros(eng.n, bool)
        if rows is None:
            m[eng.mask(ctx.filters)] = True
        else:
            r = np.asarray(rows)
            m[r[r >= 0]] = True
        shown[name] = pd.Series(eng.subset_means(ctx.thresholds, m))
    return shown.T.reset_index(names="set")


def similar(ctx, file_id: str, k: int = 12) -> pd.DataFrame:
    """The generated and reference images nearest to one image by CLIP cosine (all models), best first."""
    from ..analysis.projection import nearest

    ids, vecs = cache.clip_index(*ctx.key, ctx.run_id)
    files = cache.map_files(*ctx.key, ctx.run_id)
    me = files[files["file_id"] == file_id]
    if me.empty or not len(ids):
        return pd.DataFrame()
    pos = np.searchsorted(ids, me["image_id"].iloc[0])
    if pos >= len(ids) or ids[pos] != me["image_id"].iloc[0]:
        return pd.DataFrame()
    order, sims = nearest(vecs[pos], vecs, k + 1)
    hit = pd.DataFrame({"image_id": ids[order], "cosine": sims})
    out = hit.merge(files, on="image_id").query("file_id != @file_id")
    return out.sort_values(["cosine", "file_id"], ascending=[False, True]).head(k).reset_index(drop=True)


def compare_runs(ctx, run_b: str, same_thresholds: bool) -> dict:
    """Run A (the sidebar's) against run B: per (model, reference, variant) CRA / VR / CRT side by side,
    rank correlations of the model and reference rankings, the references that move most, and how
    often the two runs agree on each image's recognised / reused flags."""
    from scipy.stats import kendalltau, spearmanr

    from ..config import run_thresholds

    eng_b = cache.engine(*ctx.key, run_b)
    info_b = cache.meta(*ctx.key)[1][run_b]
    t_a = ctx.thresholds
    t_b = t_a if same_thresholds else run_thresholds(info_b.get("config"), pooling=t_a.pooling)
    a = ctx.engine.reference_table(t_a, ctx.filters)
    b = eng_b.reference_table(t_b, ctx.filters)
    keys = ["model", "slug", "kind", "variant"]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    out = {"refs": both, "t_b": t_b, "rankings": []}
    for metric in ("cra", "vr", "crt"):
        for level, g in (("model", both.groupby("model")), ("reference", both.groupby("slug"))):
            m = g[[f"{metric}_a", f"{metric}_b"]].mean().dropna()
            rho = spearmanr(m.iloc[:, 0], m.iloc[:, 1]).statistic if len(m) > 2 else np.nan
            tau = kendalltau(m.iloc[:, 0], m.iloc[:, 1]).statistic if len(m) > 1 else np.nan
            out["rankings"].append({"metric": metric, "ranking of": level, "n": len(m), "spearman_rho": rho,
                                    "kendall_tau": tau})
    out["rankings"] = pd.DataFrame(out["rankings"])
    per_ref = both.groupby("slug")[["crt_a", "crt_b"]].mean()
    out["movers"] = per_ref.assign(change=per_ref["crt_b"] - per_ref["crt_a"]).reindex(
        (per_ref["crt_b"] - per_ref["crt_a"]).abs().sort_values(ascending=False).index).head(15).reset_index()
    ia, ib = ctx.engine.image_table(t_a, ctx.filters), eng_b.image_table(t_b, ctx.filters)
    img = ia.merge(ib, on="file_id", suffixes=("_a", "_b"))
    out["agreement"] = pd.DataFrame([
        {"flag": "recognised", "images": len(img), "agree": float((img.recognised_a == img.recognised_b).mean())},
        {"flag": "reused (VR > 0.5)", "images": len(img), "agree": float(((img.vr_a > 0.5) == (img.vr_b > 0.5)).mean())}])
    return out


def label_queue(ctx, n: int = 200, seed: int = 0) -> list[str]:
    """Generated images to label next: spread across models and across the range of CLIP similarity
    (five bins per model, taken in turn), deterministic for a seed. Images with no label anywhere come
    first; when every image has a label in the database (the demo), the queue offers them for
    re-labelling (sidecar labels override the database's)."""
    eng = ctx.engine
    a, m = eng.a, eng.mask(ctx.filters).copy()
    done = eng.rows_of(sorted(sidecar_labels(ctx)))
    m[done[done >= 0]] = False
    if (m & (a.label < 0)).any():                  # images with no label anywhere first; then re-labelling
        m &= a.label < 0
    idx = np.flatnonzero(m)
    if not len(idx):
        return []
    img = pd.DataFrame({"model": a.model[idx], "clip_sim": a.clip[idx], "file_id": a.file_id[idx].astype(str)})
    img = img.assign(bin=img.groupby("model")["clip_sim"].transform(
        lambda s: pd.qcut(s.rank(method="first"), min(5, len(s)), labels=False)))
    rng = np.random.default_rng(seed)
    cells = [g["file_id"].to_numpy()[rng.permutation(len(g))] for _, g in img.groupby(["bin", "model"])]
    out: list[str] = []
    for i in range(max(len(c) for c in cells)):
        out += [c[i] for c in cells if i < len(c)]
        if len(out) >= n:
            break
    return out[:n]


def save_label(ctx, file_id: str, label: str, who: str) -> None:
    """Record a label in the sidecar beside the database (never in the database)."""
    from ..io import labels

    image = cache.file_rows(*ctx.key, (file_id,))["image"].iloc[0]
    labels.append(ctx.db, [(image, label, file_id, who)])


def import_labels(ctx, content: bytes, name: str, who: str) -> tuple[int, list[tuple[str, str]]]:
    """Add labels from an uploaded CSV ``image,label`` (``name``: the uploaded file's): how many were
    added, and ``(row, problem)`` for each row skipped (bad label, unknown image) or for the file."""
    import tempfile

    from ..analysis.evaluate import read_labels
    from ..io import labels

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        try:
            given, problems = read_labels(path)
        except (ValueError, UnicodeDecodeError) as e:
            return 0, [(name, str(e).replace(str(path), name))]
    rows, unknown = labels.importable(given, cache.known_relpaths(*ctx.key, tuple(given)), who)
    labels.append(ctx.db, rows)
    return len(rows), problems + unknown


def label_and_next(ctx, file_id: str, label: str) -> None:
    """Button callback of the Label page: record ``label`` (unless a skip) and move the queue on."""
    import streamlit as st

    ss = st.session_state
    if label != "skip":
        save_label(ctx, file_id, label, ss.get("label_who") or "")
        ss["label_done"] = ss.get("label_done", 0) + 1
    ss["label_queue"] = [f for f in ss.get("label_queue", []) if f != file_id]
