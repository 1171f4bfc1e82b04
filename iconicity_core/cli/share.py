"""`iconicity share`: one offline HTML file with live thresholds for collaborators who have no server."""
from __future__ import annotations

from pathlib import Path

import typer

from .options import MATCH, POOLING, ClipTau, ClipTauDynamic, Db, Match, PatchTau, Pooling, Quiet, Run, fail


def share(
    db: Db,
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file to write [default: <db name>_findings.html]."),
    images: str = typer.Option("evidence", help="none, evidence (every reference and each model's most and least "
                                                "reused recognised generations) or all."),
    max_mb: float = typer.Option(40.0, "--max-mb", help="Size budget of the file in MB; images are left out first."),
    title: str | None = typer.Option(None, help="Page title [default: 'Iconicity findings — <db name>']."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    pooling: Pooling = POOLING, match: Match = MATCH,
    model: list[str] = typer.Option([], "--model", help="Start with only these models (repeatable)."),
    kind: list[str] = typer.Option([], "--kind", help="Start with only static or dynamic references (repeatable)."),
    variant: list[str] = typer.Option([], "--variant", help="Start with only these prompt variants (repeatable)."),
    run: Run = None,
    quiet: Quiet = False,
) -> None:
    """Write one self-contained HTML page that opens offline (double-click it) and recomputes CRA / VR /
    VI / CRT exactly as `iconicity metrics` when a threshold moves; thresholds given here are its
    starting view (default: the run's operating point)."""
    from tqdm import tqdm

    from .. import db as database
    from ..api import Results
    from ..config import Filters
    from ..share import IMAGE_MODES, ShareTooLarge, build_share, default_out

    if images not in IMAGE_MODES:
        fail(f"--images must be one of {', '.join(IMAGE_MODES)}")
    if max_mb <= 0:
        fail("--max-mb must be positive")
    if not db.exists():
        fail(f"{db} does not exist: give --db FILE (a scores database), or build the demo with `iconicity demo`")
    try:
        res = Results(db, run)
        t = res.thresholds(clip_tau, clip_tau_dynamic, patch_tau, pooling, match=match)
    except (ValueError, LookupError, database.DatabaseBusy, database.SchemaError) as e:
        fail(str(e))
    bar = None

    def progress(i: int, n: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=n, desc="thumbnails", unit="img", leave=False)
        bar.update(i - bar.n)

    try:
        shared = build_share(db, res.run_id, t, Filters(tuple(model), tuple(kind), tuple(variant)), images=images,
                             max_mb=max_mb, title=title, progress=progress)
    except ShareTooLarge as e:
        fail(str(e))
    except ValueError as e:
        fail(str(e))
    finally:
        if bar is not None:
            bar.close()
    path = shared.write(out or default_out(db))
    s = shared.summary
    typer.secho(f"{path}: {s['mb']:.1f} MB, run {s['run']}, {s['generated_images']:,} generated images, "
                f"{s['images']:,} of {s['images_wanted']:,} thumbnails"
                + (f" ({s['images_unreadable']:,} unreadable)" if s["images_unreadable"] else "")
                + " — open it in a browser, no server needed", fg="green", err=True)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command()(share)
