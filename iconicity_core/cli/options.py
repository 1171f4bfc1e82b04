"""Options shared by several commands (typer ``Annotated`` aliases), and the helpers every command uses
to open a database, fail with a one-line message, and print tables."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from .. import config


def _demo_db() -> Path:
    """``--db`` left out: the demo database (said on stderr, so a table on stdout stays clean)."""
    path = config.demo_db_path()
    typer.secho(f"no --db given: using the demo database {path}" + ("" if path.exists() else
                " (not built yet: run `iconicity demo`, or give --db FILE)"), fg="cyan", err=True)
    return path


Db = Annotated[Path, typer.Option("--db", default_factory=_demo_db, show_default="the demo database",
                                  help="Scores database (DuckDB file) [default: the demo database, data/demo.duckdb "
                                       "in a checkout].")]
ClipTau = Annotated[float | None, typer.Option(help="CLIP threshold (static references; dynamic too unless set) "
                                                      "[default: the run's operating point, see `runs show`].")]
ClipTauDynamic = Annotated[float | None, typer.Option(help="CLIP threshold for dynamic references.")]
PatchTau = Annotated[float | None, typer.Option(help="Cell reuse threshold [default: the run's operating point].")]
Pooling = Annotated[str, typer.Option(help="VI(c) over 'recognised' generations or 'all'.")]
Match = Annotated[str, typer.Option(help="Patch matching: 'any' (a cell matches any cell of any reference image, the "
                                         "paper) or 'same-position' (only the cell at the same grid position).")]
Run = Annotated[str | None, typer.Option(help="Score run id or a unique prefix (default: the latest; "
                                                 "see `iconicity runs`).")]
Format = Annotated[str, typer.Option("--format", help="csv or json.")]
Quiet = Annotated[bool, typer.Option(help="No progress bars.")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")]

POOLING = config.POOLING
MATCH = config.MATCH


def fail(msg: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {msg}", fg="red", err=True)
    raise typer.Exit(code)


def thresholds(con, run: str | None, clip_tau: float | None, clip_tau_dynamic: float | None,
               patch_tau: float | None, pooling: str = config.POOLING,
               match: str = config.MATCH) -> tuple[str, config.Thresholds]:
    """The score run (id or prefix; default the latest) and the thresholds to read it at: the values
    given, else the run's operating point; always the run's threshold rule."""
    from .. import db as database

    try:
        run_id = database.runs.resolve(con, run)
        return run_id, config.run_thresholds(database.runs.get(con, run_id).get("config"), clip_tau, clip_tau_dynamic,
                                             patch_tau, pooling, match)
    except (ValueError, LookupError) as e:
        fail(str(e))


def open_db(path: Path, read_only: bool = False):
    """Open a scores database or fail with what to do."""
    from .. import db

    try:
        return db.connect(path, read_only=read_only)
    except (FileNotFoundError, db.DatabaseBusy, db.SchemaError) as e:
        fail(str(e))


def emit(df, fmt: str, output: Path | None = None, meta: dict | None = None) -> None:
    """Print (or write) a table as CSV, or as JSON ``{...meta, "rows": [...]}``."""
    from ..io.atomic import atomic_write

    if fmt == "csv":
        from ..io.csvfiles import to_csv

        text = to_csv(df)
    elif fmt == "json":
        text = json.dumps({**(meta or {}), "rows": json.loads(df.to_json(orient="records", double_precision=15,
                                                                         date_format="iso"))},
                          indent=2, default=str) + "\n"
    else:
        fail(f"--format must be csv or json, got {fmt!r}")
    if output:
        atomic_write(output, text)
    else:
        sys.stdout.write(text)


def report_items(items: list[tuple[str, str]], prefix: str) -> None:
    """Per-item problems on stderr, one line each."""
    for item, msg in items:
        typer.secho(f"{prefix}: {item}: {msg}" if item not in msg else f"{prefix}: {msg}", fg="yellow", err=True)
