"""`iconicity analyze` (correlation report for a paper) and `iconicity evaluate` (baselines vs labels)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from ..config import N_RESAMPLES
from .options import (
    MATCH,
    POOLING,
    ClipTau,
    ClipTauDynamic,
    Db,
    Format,
    Match,
    PatchTau,
    Pooling,
    Quiet,
    Run,
    at_least_one,
    checked,
    emit,
    fail,
    open_db,
    out_option,
    report_items,
    resolve_run,
    thresholds,
    warn,
    wrote,
)


def analyze(
    db: Db,
    out: Path = out_option("folder", Path("analysis"), "--out", help="Folder for the CSV, LaTeX and HTML files (created "
                                                                     "if missing; its parent must exist)."),
    covariates: str | None = typer.Option(None, help="Comma-separated covariate columns (default: all numeric)."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    pooling: Pooling = POOLING,
    match: Match = MATCH,
    correction: str = typer.Option("holm", help="holm or bh."),
    n_resamples: int = typer.Option(N_RESAMPLES, help="Bootstrap resamples for the confidence intervals."),
    run: Run = None,
    variant: str = typer.Option("title", help="Prompt variant to analyse."),
) -> None:
    """Spearman rho with bootstrap CIs, partial rho, corrected p-values and multivariable models
    (CSV + LaTeX tables, HTML figures), per model, pooled, and per static/dynamic kind; recorded as a run."""
    from ..analysis.report import write_analysis

    if correction not in ("holm", "bh"):
        fail("--correction must be holm or bh")
    at_least_one(n_resamples, "--n-resamples")
    con = open_db(db)
    run_id, t = thresholds(con, run, clip_tau, clip_tau_dynamic, patch_tau, pooling, match)
    try:
        covs = [c.strip() for c in covariates.split(",")] if covariates else None
        paths = write_analysis(con, out, t, covs, correction, n_resamples, run_id, variant)
    except (ValueError, LookupError) as e:
        fail(str(e))
    for p in paths:
        typer.echo(str(p))


def evaluate(
    db: Db,
    out: Path = out_option("file", Path("evaluation.csv"), "--out", help="CSV of AUCs (a .meta.json goes beside it; "
                                                                         "the folder must exist)."),
    labels: Path | None = typer.Option(None, help="CSV image,label (replica/partial/reinterpretation/miss); "
                                                    "default: the labels stored in the database (demo)."),
    sscd: Path | None = typer.Option(None, help="SSCD TorchScript file (not bundled: non-commercial licence)."),
    dino_model: str | None = typer.Option(None, help="Also a global DINOv3 cosine (Hub id or local dir)."),
    precision: float = typer.Option(0.9, help="Report the threshold reaching this precision."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    match: Match = MATCH,
    n_resamples: int = typer.Option(N_RESAMPLES, help="Bootstrap resamples for the confidence intervals."),
    run: Run = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Compare CLIP similarity and VR with plain similarity measures (pHash, SSIM, tiled L2, appearance
    descriptor, SSCD) on labelled images: ROC-AUC with bootstrap CIs. Images that cannot be read are
    skipped and listed; the run is recorded (`iconicity runs`)."""
    from ..analysis.evaluate import evaluate as run_evaluate
    from ..embedders import ModelLoadError
    from ..io.outputs import fence_output, write_output

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    at_least_one(n_resamples, "--n-resamples")
    meta_out = fence_output(out.with_suffix(".meta.json"), "file")
    con = open_db(db)
    run_id, t = thresholds(con, run, clip_tau, clip_tau_dynamic, patch_tau, match=match)
    try:
        ev = run_evaluate(con, t, labels, sscd, precision, n_resamples, run_id, progress=not quiet, dino_model=dino_model)
    except (ValueError, LookupError, FileNotFoundError, ModelLoadError) as e:
        fail(str(e))
    report_items(ev.problems, "problem")
    report_items(ev.skipped, "skipped")
    from ..io.csvfiles import to_csv

    write_output(out, to_csv(ev.table))
    summary = {"evaluate_run": ev.run_id, "n_labelled": ev.n_labelled, "n_scored": ev.n_scored,
               "n_skipped": len(ev.skipped), "thresholds": t.as_dict(), "precision": precision,
               "bootstrap_resamples": n_resamples}
    write_output(meta_out, json.dumps(summary, indent=2))
    wrote(out, meta_out)
    if fmt == "json":
        typer.echo(json.dumps({**summary, "rows": json.loads(ev.table.to_json(orient="records"))}, indent=2))
        return
    typer.echo(ev.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"{ev.n_scored} of {ev.n_labelled} labelled image(s) scored, {ev.n_labelled - ev.n_scored} skipped "
               f"(evaluate run {ev.run_id})", err=True)


def calibrate(
    db: Db,
    labels: Path | None = typer.Option(None, help="CSV image,label (replica/partial/reinterpretation/miss); "
                                                    "default: the labels stored in the database (demo)."),
    target_precision: float = typer.Option(0.9, help="Report the lowest τ whose precision reaches this."),
    n_resamples: int = typer.Option(N_RESAMPLES, help="Bootstrap resamples for the ROC-AUC confidence intervals."),
    run: Run = None,
    fmt: Format = "text",
) -> None:
    """Which CLIP τ and patch τ do labelled images support? ROC-AUC with CI, Youden's point and the τ at a
    target precision, for recognisable-vs-miss (CLIP τ) and replica-vs-reinterpretation (patch τ)."""
    from ..analysis.calibration import calibrate_run

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    at_least_one(n_resamples, "--n-resamples")
    con = open_db(db)
    try:
        table, rid = calibrate_run(con, resolve_run(con, run), labels, target_precision, n_resamples)
    except (ValueError, LookupError, FileNotFoundError) as e:
        fail(str(e))
    if fmt == "json":
        typer.echo(json.dumps({"calibrate_run": rid, "rows": json.loads(table.to_json(orient="records"))}, indent=2))
        return
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    best = table.set_index("threshold")["youden_tau"].dropna()
    flags = " ".join(f"--{name.replace('_', '-')} {tau:.2f}" for name, tau in best.items())
    typer.echo(f"suggested: {flags} (Youden's point; calibrate run {rid})" if flags else
               f"no threshold suggested: each separation has labels of one class only (calibrate run {rid})", err=True)


def _floats(text: str, name: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        fail(f"{name} takes comma-separated numbers, e.g. 0.6,0.7,0.8")
    if not out or not all(-1 <= v <= 1 for v in out):
        fail(f"{name}: thresholds must lie in [-1, 1]")
    twice = sorted({v for v in out if out.count(v) > 1})
    if twice:
        fail(f"{name} lists {', '.join(f'{v:g}' for v in twice)} more than once: give each threshold once")
    return out


def robustness(
    db: Db,
    clip_taus: str | None = typer.Option(None, help="Recognition thresholds of the grid, e.g. 0.6,0.7,0.8 (default: "
                                                    "the run's operating point and 0.1 either side, the paper's check)."),
    patch_taus: str | None = typer.Option(None, help="Patch thresholds of the grid (default: the operating point ± 0.1)."),
    pooling: Pooling = POOLING, match: Match = MATCH, run: Run = None,
    variant: str | None = typer.Option(None, help="Prompt variant (default: title)."),
    n_resamples: int = typer.Option(N_RESAMPLES, help="Bootstrap resamples over references."),
    out: Path | None = out_option("folder", None, "--out", help="Folder for robustness.csv / .tex / conclusions.csv "
                                                               "(created if missing; its parent must exist)."),
    fmt: Format = "text",
) -> None:
    """The sensitivity grid: per (CLIP τ, patch τ) the per-model CRA / VR / CRT with bootstrap CIs, whether the
    model ranking survives (Kendall τ vs the run's operating point), the share of references whose quadrant
    changes, and which conclusions hold across the whole grid and which flip."""
    import json as _json
    import warnings

    from ..analysis.robustness import sensitivity_grid
    from ..api import Results
    from ..errors import PartialRunWarning
    from ..io.csvfiles import to_csv
    from ..io.outputs import fenced_folder, write_output

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    at_least_one(n_resamples, "--n-resamples")
    grid_taus = (None if clip_taus is None else _floats(clip_taus, "--clip-taus"),
                 None if patch_taus is None else _floats(patch_taus, "--patch-taus"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialRunWarning)     # said below, as one line
            res = Results(db, run)
        pooling_, match_ = checked(pooling, match)
        t = res.thresholds(pooling=pooling_, match=match_)
    except (LookupError, ValueError) as e:
        fail(str(e))
    if res.partial_note:
        warn(res.partial_note)
    g = sensitivity_grid(res.engine, t, *grid_taus, variant=variant, n_resamples=n_resamples)
    meta = {"run_id": res.run_id, "operating_point": t.as_dict(), "variant": g["variant"],
            "bootstrap_resamples": n_resamples}
    if out is not None:
        out = fenced_folder(out)
        for name, df in (("robustness", g["table"]), ("robustness_points", g["points"]), ("conclusions", g["conclusions"])):
            write_output(out / f"{name}.csv", to_csv(df))
            write_output(out / f"{name}.tex", df.to_latex(index=False, float_format="%.3f", na_rep="--", escape=True))
        write_output(out / "robustness.meta.json", _json.dumps(meta, indent=2))
        wrote(*(out / f"{n}.{x}" for n in ("robustness", "robustness_points", "conclusions") for x in ("csv", "tex")),
              out / "robustness.meta.json")
    if fmt == "json":
        typer.echo(_json.dumps({**meta, **{k: _json.loads(g[k].to_json(orient="records")) for k in
                                           ("table", "points", "conclusions")}}, indent=2))
        return
    typer.echo(g["points"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo("")
    for r in g["conclusions"].itertuples():
        mark = r.verdict.upper() if r.verdict == "flips" else r.verdict
        typer.echo(f"[{mark}] {r.statement} ({r.holds_at} grid points)" + (f" — flips at {r.flips_at}" if r.flips_at else ""))


def references_consistency(
    db: Db, run: Run = None,
    z: float = typer.Option(3.5, help="Outlier: robust z-score of an image's mean similarity below -Z."),
    min_similarity: float | None = typer.Option(None, help="Outlier: mean similarity to the work's other images below "
                                                           "this [default: the run's CLIP τ, e.g. 0.70 for CLIP]."),
    fmt: Format = "csv",
    cra: bool = typer.Option(False, "--cra", help="Print the CRA with and without the outliers instead."),
) -> None:
    """Dynamic references' own images: each image's mean CLIP similarity to the others, its robust z-score, and
    whether it is an outlier; with --cra, per work, model and variant the CRA with the outliers dropped."""
    from ..analysis.consistency import consistency_table

    con = open_db(db, read_only=True)
    run_id, t = thresholds(con, run, None, None, None)
    floor = t.clip_tau if min_similarity is None else min_similarity
    images, cras = consistency_table(con, run_id, t, z, floor)
    if cra:
        for slug in sorted(set(cras.loc[cras["n_refs_kept"] == 0, "slug"])):
            warn(f"{slug}: every reference image is an outlier at these settings — no CRA without them (left empty); "
                 "loosen --z or --min-similarity")
    emit(cras if cra else images, fmt, meta={"run_id": run_id, "z": z, "min_similarity": floor,
                                             "thresholds": t.as_dict()})


def register(app: typer.Typer) -> None:
    from .study import references_app

    app.command()(analyze)
    app.command()(evaluate)
    app.command()(calibrate)
    app.command()(robustness)
    references_app.command("consistency")(references_consistency)
