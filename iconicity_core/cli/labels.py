"""`iconicity labels import|export`: the human labels sidecar (DB.labels.csv) the dashboard writes."""
from __future__ import annotations

from pathlib import Path

import typer

from .options import Db, fail, open_db, out_option, wrote

labels_app = typer.Typer(no_args_is_help=True, help="Human labels, kept in DB.labels.csv beside the database.")


@labels_app.command("export")
def labels_export(db: Db, out: Path | None = out_option("file", None, "--out", "-o", help="CSV file (default stdout; "
                                                         "never the labels file itself or a database).")) -> None:
    """The labels people gave (the dashboard's Label page, `labels import`) as image,label, the form `evaluate --labels`
    and `calibrate --labels` read. The database's own labels (the demo's) are not in it: `evaluate` and `calibrate`
    use those, with these over them, when no --labels is given."""
    from ..io import labels
    from ..io.outputs import write_output

    open_db(db, read_only=True).close()               # a scores database (its labels are beside it)
    problems = labels.problems(db)
    for item, msg in problems:
        typer.secho(f"problem: {item}: {msg}" if item not in msg else f"problem: {msg}", fg="yellow", err=True)
    text = labels.export_csv(db)
    if not labels.current(db):
        where = (f"{labels.sidecar(db)} holds no usable label" if labels.sidecar(db).exists() else
                 f"nobody has labelled images of {db} yet (no {labels.sidecar(db).name})")
        typer.secho(f"warning: {where} — the export is only a header. `evaluate` and `calibrate` without --labels use "
                    "the database's own labels, if it has any.", fg="yellow", err=True)
    if out:
        write_output(out, text)
        wrote(out)
    else:
        typer.echo(text, nl=False)


@labels_app.command("import")
def labels_import(db: Db, csv_file: Path = typer.Argument(..., help="CSV with image,label."),
                  who: str = typer.Option("import", help="Recorded as who labelled.")) -> None:
    """Add labels from a CSV image,label (replica / partial / reinterpretation / miss)."""
    from ..io import labels
    from .options import report_items

    try:
        given, problems = labels.read_labels(csv_file)
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    from .. import db as database

    con = open_db(db, read_only=True)
    known = database.views.known_relpaths(con, list(given))
    con.close()
    rows, unknown = labels.importable(given, known, who)
    report_items(problems + unknown, "problem")
    try:
        labels.append(db, rows)
    except labels.LabelsFileError as e:
        fail(str(e))
    typer.echo(f"{len(rows)} label(s) added to {labels.sidecar(db)}")


def register(app: typer.Typer) -> None:
    app.add_typer(labels_app, name="labels")
