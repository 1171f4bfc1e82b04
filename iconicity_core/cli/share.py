"""`iconicity share`: one offline HTML file with live thresholds for collaborators who have no server."""
from __future__ import annotations

from pathlib import Path

import typer

from .options import MATCH, POOLING, ClipTau, ClipTauDynamic, Db, Match, PatchTau, Pooling, Run, checked, fail, out_option, warn


def share(
    db: Db,
    out: Path | None = out_option("file", None, "--out", "-o", help="HTML file to write [default: <db name>_findings.html]; "
                                                                    "never over a database or its sidecars."),
    images: str = typer.Option("evidence", help="none, evidence (every reference and each model's most and least "
                                                "reused recognised generations) or all."),
    max_mb: float = typer.Option(40.0, "--max-mb", help="Size budget of the file in MB; images are left out first."),
    title: str | None = typer.Option(None, help="Page title [default: 'Iconicity findings — <db name>']."),
    clip_tau: ClipTau = None, clip_tau_dynamic: ClipTauDynamic = None, patch_tau: PatchTau = None,
    pooling: Pooling = POOLING, match: Match = MATCH,
    model: list[str] = typer.Option([], "--model", help="Start with only these models (repeatable)."),
    kind: list[str] = typer.Option([], "--kind", help="Start with only static or dynamic references (repeatable)."),
    variant: list[str] = typer.Option([], "--variant", help="Start with only these prompt variants (repeatable)."),
    allow_root: list[Path] = typer.Option([], "--allow-root", help="Embed images only from dataset roots inside "
                                           "these folders (repeatable; also $ICONICITY_IMAGE_ROOTS), as the dashboard."),
    run: Run = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Write one self-contained HTML page that opens offline (double-click it) and recomputes CRA / VR /
    VI / CRT exactly as `iconicity metrics` when a threshold moves; thresholds given here are its
    starting view (default: the run's operating point)."""
    import math
    import warnings

    from tqdm import tqdm

    from .. import db as database
    from ..api import Results
    from ..config import Filters, image_roots
    from ..errors import PartialRunWarning
    from ..io.outputs import fence_output
    from ..share import IMAGE_MODES, ShareTooLarge, build_share, default_out

    if images not in IMAGE_MODES:
        fail(f"--images must be one of {', '.join(IMAGE_MODES)}")
    if not math.isfinite(max_mb) or max_mb <= 0:
        fail("--max-mb must be a positive number of megabytes")
    out = fence_output(out or default_out(db), "file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialRunWarning)     # said below, as one line
            res = Results(db, run)
        pooling_, match_ = checked(pooling, match)
        t = res.thresholds(clip_tau, clip_tau_dynamic, patch_tau, pooling_, match=match_)
    except (ValueError, LookupError, database.DatabaseError) as e:
        fail(str(e))
    if res.partial_note:
        warn(res.partial_note)
    names = {"--model": (model, res.engine.a.models), "--kind": (kind, ["static", "dynamic"]),
             "--variant": (variant, res.engine.a.variants)}
    for flag, (given, known) in names.items():
        unknown = [g for g in given if g not in known]
        if unknown:
            fail(f"{flag} {', '.join(unknown)}: not in run {res.run_id} (it has {', '.join(known)})")
    env_roots = image_roots(allow_root)
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
                             max_mb=max_mb, title=title, progress=progress,
                             allowed_roots=None if env_roots is None else [Path(r) for r in env_roots])
    except ShareTooLarge as e:
        fail(str(e))
    except ValueError as e:
        fail(str(e))
    finally:
        if bar is not None:
            bar.close()
    try:
        path = shared.write(out)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    s = shared.summary
    pictures = ("no thumbnails (--images none)" if images == "none" else
                f"{s['images']:,} of {s['images_wanted']:,} thumbnails" + (
                    f" ({s['images_unreadable']:,} unreadable or outside the allowed folders)"
                    if s["images_unreadable"] else ""))
    typer.secho(f"{path}: {s['mb']:.1f} MB, run {s['run']}, {s['generated_images']:,} generated images, {pictures}"
                " — open it in a browser, no server needed", fg="green", err=True)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command()(share)
