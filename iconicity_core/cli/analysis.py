"""`iconicity analyze` (correlation report for a paper) and `iconicity evaluate` (baselines vs labels)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

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
    fail,
    open_db,
    report_items,
    thresholds,
)


def analyze(
    db: Db,
    out: Path = typer.Option(Path("analysis"), "--out", help="Folder for the CSV, LaTeX and HTML files."),
    covariates: str | None = typer.Option(None, help="Comma-separated covariate columns (default: all numeric)."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    pooling: Pooling = POOLING,
    match: Match = MATCH,
    correction: str = typer.Option("holm", help="holm or bh."),
    n_resamples: int = typer.Option(999, help="Bootstrap resamples for the confidence intervals."),
    run: Run = None,
    variant: str = typer.Option("title", help="Prompt variant to analyse."),
) -> None:
    """Spearman rho with bootstrap CIs, partial rho, corrected p-values and multivariable models
    (CSV + LaTeX tables, HTML figures), per model, pooled, and per static/dynamic kind; recorded as a run."""
    from ..analysis.report import write_analysis

    if correction not in ("holm", "bh"):
        fail("--correction must be holm or bh")
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
    out: Path = typer.Option(Path("evaluation.csv"), "--out", help="CSV of AUCs (a .meta.json goes beside it)."),
    labels: Path | None = typer.Option(None, help="CSV image,label (replica/partial/reinterpretation/miss); "
                                                    "default: the labels stored in the database (demo)."),
    sscd: Path | None = typer.Option(None, help="SSCD TorchScript file (not bundled: non-commercial licence)."),
    dino_model: str | None = typer.Option(None, help="Also a global DINOv3 cosine (Hub id or local dir)."),
    precision: float = typer.Option(0.9, help="Report the threshold reaching this precision."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    match: Match = MATCH,
    n_resamples: int = typer.Option(999, help="Bootstrap resamples for the confidence intervals."),
    run: Run = None,
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Compare CLIP similarity and VR with plain similarity measures (pHash, SSIM, tiled L2, appearance
    descriptor, SSCD) on labelled images: ROC-AUC with bootstrap CIs. Images that cannot be read are
    skipped and listed; the run is recorded (`iconicity runs`)."""
    from ..analysis.evaluate import evaluate as run_evaluate
    from ..embedders import ModelLoadError
    from ..io.atomic import atomic_write

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    con = open_db(db)
    run_id, t = thresholds(con, run, clip_tau, clip_tau_dynamic, patch_tau, match=match)
    try:
        ev = run_evaluate(con, t, labels, sscd, precision, n_resamples, run_id, progress=not quiet, dino_model=dino_model)
    except (ValueError, LookupError, FileNotFoundError, ModelLoadError) as e:
        fail(str(e))
    report_items(ev.problems, "problem")
    report_items(ev.skipped, "skipped")
    from ..io.csvfiles import to_csv

    atomic_write(out, to_csv(ev.table))
    summary = {"evaluate_run": ev.run_id, "n_labelled": ev.n_labelled, "n_scored": ev.n_scored,
               "n_skipped": len(ev.skipped), "thresholds": t.as_dict(), "precision": precision,
               "bootstrap_resamples": n_resamples}
    atomic_write(out.with_suffix(".meta.json"), json.dumps(summary, indent=2))
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
    n_resamples: int = typer.Option(999, help="Bootstrap resamples for the ROC-AUC confidence intervals."),
    run: Run = None,
    fmt: Format = "text",
) -> None:
    """Which CLIP τ and patch τ do labelled images support? ROC-AUC with CI, Youden's point and the τ at a
    target precision, for recognisable-vs-miss (CLIP τ) and replica-vs-reinterpretation (patch τ)."""
    from .. import db as database
    from ..analysis.calibration import calibrate_run

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    con = open_db(db)
    try:
        table, rid = calibrate_run(con, database.runs.resolve(con, run), labels, target_precision, n_resamples)
    except (ValueError, LookupError, FileNotFoundError) as e:
        fail(str(e))
    if fmt == "json":
        typer.echo(json.dumps({"calibrate_run": rid, "rows": json.loads(table.to_json(orient="records"))}, indent=2))
        return
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"suggested: --clip-tau {table.set_index('threshold').loc['clip_tau', 'youden_tau']:.2f} "
               f"--patch-tau {table.set_index('threshold').loc['patch_tau', 'youden_tau']:.2f} (Youden's point; "
               f"calibrate run {rid})", err=True)


def register(app: typer.Typer) -> None:
    app.command()(analyze)
    app.command()(evaluate)
    app.command()(calibrate)
