"""Reading results: `metrics`, `errors`, `export`, `runs` (list / show / delete), `embedders`, `db upgrade`."""
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
    Run,
    emit,
    fail,
    open_db,
    out_option,
    thresholds,
)


def metrics(
    db: Db,
    by: str = typer.Option("model", "--by", help="image, reference or model."),
    clip_tau: ClipTau = None,
    clip_tau_dynamic: ClipTauDynamic = None,
    patch_tau: PatchTau = None,
    pooling: Pooling = POOLING,
    match: Match = MATCH,
    fmt: Format = "csv",
    run: Run = None,
    output: Path | None = out_option("file", None, "--output", "-o", help="Write to a file instead of stdout (never "
                                     "over a database or its sidecars; the folder must exist)."),
) -> None:
    """CRA / VR / VI / CRT from stored similarities, at any thresholds (nothing is re-embedded)."""
    from .. import db as database

    if by not in database.metrics_sql.BY:
        fail(f"--by must be one of {', '.join(database.metrics_sql.BY)}")
    con = open_db(db, read_only=True)
    run_id, t = thresholds(con, run, clip_tau, clip_tau_dynamic, patch_tau, pooling, match)
    df = database.metrics_sql.metrics_table(con, by, t, run_id=run_id)
    emit(df, fmt, output, {"by": by, "run_id": run_id, "thresholds": t.as_dict(), "vi_pooling": t.pooling,
                           "match": t.match})


def errors(db: Db, fmt: Format = "csv") -> None:
    """List per-file errors and dataset problems recorded during scoring."""
    from .. import db as database

    emit(database.scores.errors_table(open_db(db, read_only=True)), fmt)


def export(
    db: Db,
    out: Path = out_option("folder", Path("export"), "--out", help="Output folder (created if missing; its parent "
                                                                   "must exist)."),
    fmt: str = typer.Option("authors", "--format", help="authors: the released scripts' CSV files."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    match: Match = MATCH,
    run: Run = None,
) -> None:
    """Export results in the authors' CSV format (their file names and rows, plus every image with
    cra_pass and VR); recorded as a run."""
    from ..analysis.export import export_authors

    if fmt != "authors":
        fail("--format authors is the only export format so far")
    con = open_db(db)
    run_id, t = thresholds(con, run, clip_tau, clip_tau_dynamic, patch_tau, match=match)
    paths = export_authors(con, out, t, run_id)
    for p in paths:
        typer.echo(str(p))


runs_app = typer.Typer(help="Recorded computations: list, show, delete.", invoke_without_command=True)


@runs_app.callback()
def runs_list(ctx: typer.Context, db: Path | None = typer.Option(None, "--db", help="Scores database."),
              fmt: Format = "csv") -> None:
    """List every recorded run (score, evaluate, covariate, analyze, export), newest first."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = db
        return
    from .. import db as database
    from .options import _demo_db

    emit(database.runs.table(open_db(db or _demo_db(), read_only=True)), fmt)


def _db(ctx: typer.Context, db: Path | None) -> Path:
    from .options import _demo_db

    return db or ctx.obj or _demo_db()


@runs_app.command("show")
def runs_show(ctx: typer.Context, run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
              db: Path | None = typer.Option(None, "--db")) -> None:
    """Everything recorded about one run: config, inputs, versions, outputs, and the rows it produced."""
    from .. import db as database

    con = open_db(_db(ctx, db), read_only=True)
    rid = _find(con, run_id)
    rec = database.runs.require(con, rid) | {"produced": database.runs.produced_counts(con, rid)}
    rec["warnings"] = database.runs.warnings_for(rec)
    typer.echo(json.dumps(rec, indent=2, default=str))


def _find(con, prefix: str) -> str:
    from .. import db as database

    matches = database.runs.matching(con, prefix)
    if len(matches) != 1:
        fail(f"{'no' if not matches else 'more than one'} run matches {prefix!r} — see `iconicity runs --db ...`")
    return matches[0]


@runs_app.command("delete")
def runs_delete(ctx: typer.Context, run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
                db: Path | None = typer.Option(None, "--db"),
                yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")) -> None:
    """Delete a run, its child runs and everything they produced (similarities, baseline scores,
    covariate columns, and files they wrote that are unchanged since)."""
    from .. import db as database
    from ..io.provenance import owned_files, sha256_file

    path = _db(ctx, db)
    con = open_db(path)
    rid = _find(con, run_id)
    counts = database.runs.produced_counts(con, rid)
    n_files = sum(why is None for r in database.runs.with_children(con, rid)
                  for _p, _d, why in owned_files(r.get("outputs") or {}, path))      # those it may remove, not keep
    what = [f"{n:,} {database.runs.PRODUCED[k]}" for k, n in counts.items() if n]
    what += [f"up to {n_files} file(s) it wrote, where unchanged"] if n_files else []
    if not yes and not typer.confirm(f"delete run {rid} and what it produced ({', '.join(what) or 'no rows or files'})? "
                                     "(--yes skips this question)"):
        raise typer.Exit(1)
    for rec in database.runs.delete(con, rid):
        for p, digest, why in owned_files(rec.get("outputs") or {}, path):
            if why:
                typer.echo(f"kept {p} ({why})")
            elif p.is_file() and sha256_file(p) == digest:
                p.unlink()
                typer.echo(f"removed {p}")
            elif p.exists():
                typer.echo(f"kept {p} (changed since the run wrote it)")
        typer.echo(f"deleted run {rec['run_id']} ({rec['kind']})")


def embedders() -> None:
    """List the embedder families that `score` can use, with the threshold each one's scores are read at."""
    from ..embedders import list_embedders

    typer.echo(f"{'role':<12} {'name':<28} {'τ':>5}  description")
    for e in list_embedders():
        tau = "–" if e.default_tau is None else f"{e.default_tau:.2f}"
        typer.echo(f"{e.role:<12} {e.name:<28} {tau:>5}  {e.description}")


db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: Db) -> None:
    """Migrate a database written by an older version to the current schema (in place)."""
    from .. import db as database

    con = open_db(db)
    typer.echo(f"{db}: schema version {database.schema.version_of(con)}")


def register(app: typer.Typer) -> None:
    app.command()(metrics)
    app.command()(errors)
    app.command()(export)
    app.command()(embedders)
    app.add_typer(runs_app, name="runs")
    app.add_typer(db_app, name="db")
