"""Options shared by several commands (typer ``Annotated`` aliases), and the helpers every command uses
to open a database, fail with a one-line message, and print tables.

Every option that writes a file or a folder is made by :func:`out_option` (or :func:`out_argument`): its value
passes the output fence (:func:`iconicity_core.io.outputs.fence_output`) when the command line is parsed, and
its metavar (``FILE`` / ``FOLDER``) says which — ``tests/test_outputs.py`` finds every such option in the app
and tries it against every forbidden target."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn, cast

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
#: Parameter names that write (the test of the fence finds them by these names and by their metavar).
OUTPUT_NAMES = ("out", "output", "out_dir", "cache_dir")
OUTPUT_METAVARS = {"FILE": "file", "FOLDER": "folder"}


def _fencer(kind: str, create_parents: bool):
    def check(value):
        if value is None:
            return None
        from ..io.outputs import fence_output

        return fence_output(value, kind, create_parents)      # OutputRefused: the error boundary's one line
    return check


def out_option(kind: str, default, *decls: str, help: str, create_parents: bool = False):  # noqa: A002
    """A ``typer.Option`` that writes a ``file`` or a ``folder``, fenced when parsed (see the module docstring)."""
    return typer.Option(default, *decls, help=help, callback=_fencer(kind, create_parents),
                        metavar="FILE" if kind == "file" else "FOLDER")


def out_argument(kind: str, help: str, create_parents: bool = False):  # noqa: A002
    """A ``typer.Argument`` that writes into a folder (a dataset folder the study commands fill), fenced."""
    return typer.Argument(..., help=help, callback=_fencer(kind, create_parents),
                          metavar="FILE" if kind == "file" else "FOLDER")


def one_line(msg: str) -> str:
    """A message as one line (what the error boundary and :func:`fail` print)."""
    return " ".join(part.strip() for part in str(msg).strip().splitlines() if part.strip())


def fail(msg: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {one_line(msg)}", fg="red", err=True)
    raise typer.Exit(code)


def warn(msg: str) -> None:
    typer.secho(f"warning: {one_line(msg)}", fg="yellow", err=True)


def at_least_one(value: int, flag: str) -> int:
    """Refuse a count below 1 (``--n-resamples 0`` computes nothing)."""
    if value < 1:
        fail(f"{flag} must be at least 1, got {value}")
    return value


def resolve_run(con, run: str | None) -> str:
    """The score run (id or prefix; default the latest). The latest is never a silent default when it is not
    finished: a warning on stderr names it and says how to finish it."""
    from .. import db as database

    try:
        run_id = database.runs.resolve(con, run)
    except (ValueError, LookupError) as e:
        fail(str(e))
    if run is None:
        note = database.runs.partial_note(con, run_id)
        if note:
            warn(note)
    return run_id


def checked(pooling: str, match: str) -> tuple[config.Pooling, config.Match]:
    """The typed options (words from the command line; :class:`config.Thresholds` refuses any other value)."""
    return cast(config.Pooling, pooling), cast(config.Match, match)


def thresholds(con, run: str | None, clip_tau: float | None, clip_tau_dynamic: float | None,
               patch_tau: float | None, pooling: str = config.POOLING,
               match: str = config.MATCH) -> tuple[str, config.Thresholds]:
    """The score run (id or prefix; default the latest) and the thresholds to read it at: the values
    given, else the run's operating point; always the run's threshold rule."""
    from .. import db as database

    run_id = resolve_run(con, run)
    try:
        return run_id, config.run_thresholds(database.runs.require(con, run_id).get("config"), clip_tau, clip_tau_dynamic,
                                             patch_tau, *checked(pooling, match))
    except (ValueError, LookupError) as e:
        fail(str(e))


#: Connections the running command opened: the error boundary closes them when the command ends, however it ends.
OPEN: list = []


def close_all() -> None:
    while OPEN:
        try:
            OPEN.pop().close()
        except Exception:
            pass


def open_db(path: Path, read_only: bool = False):
    """Open a scores database or fail with what to do. Only `score` (and `demo`) create a database: a writer
    command given a path where there is none says so instead of creating an empty one."""
    from .. import db

    try:
        con = db.connect(path, read_only=read_only, create=False)
    except db.DatabaseError as e:
        fail(str(e))
    OPEN.append(con)
    return con


def emit(df, fmt: str, output: Path | None = None, meta: dict | None = None) -> None:
    """Print (or write) a table as CSV, or as JSON ``{...meta, "rows": [...]}``."""
    from ..io.outputs import write_output

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
        write_output(output, text)
        wrote(output)
    else:
        sys.stdout.write(text)


def wrote(*paths: Path) -> None:
    """Say which files a command wrote (on stderr, so what it prints stays parseable)."""
    typer.echo("wrote " + ", ".join(str(p) for p in paths), err=True)


def report_items(items: list[tuple[str, str]], prefix: str) -> None:
    """Per-item problems on stderr, one line each."""
    for item, msg in items:
        typer.secho(f"{prefix}: {item}: {msg}" if item not in msg else f"{prefix}: {msg}", fg="yellow", err=True)
