"""Which databases the dashboard may open, and the first-start build of the demo."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import config


def cli_db(argv: Sequence[str]) -> Path | None:
    """``--db FILE`` from ``streamlit run app.py -- --db FILE``."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--db")
    args, _ = ap.parse_known_args(list(argv))
    return Path(args.db).expanduser().resolve() if args.db else None


def allowed_roots(argv: Sequence[str], environ: dict | None = None) -> tuple[str, ...] | None:
    """Folders images may be served from (``--allow-root DIR``, repeatable, and ``$ICONICITY_IMAGE_ROOTS``,
    separated by the path separator); None when neither is given — then a database's own list of
    dataset roots decides (a database is trusted input)."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--allow-root", action="append", default=[])
    args, _ = ap.parse_known_args(list(argv))
    return config.image_roots(args.allow_root, environ)


def options(argv: Sequence[str], environ: dict | None = None) -> dict[str, Path]:
    """The databases a user may pick, by display name: ``--db``, ``$ICONICITY_DB``, every ``*.duckdb``
    in the data folder, and the demo (built on first use). The first is the default."""
    env = os.environ if environ is None else environ
    opts: dict[str, Path] = {}
    for p in (cli_db(argv), Path(env["ICONICITY_DB"]).expanduser().resolve() if env.get("ICONICITY_DB") else None):
        if p is not None:
            opts.setdefault(p.name, p)
    data = config.data_dir()
    for p in sorted(data.glob("*.duckdb")) if data.is_dir() else []:
        opts.setdefault(p.name, p.resolve())
    demo = config.demo_db_path()
    opts.setdefault(demo.name, demo)
    return opts


def is_demo(path: Path) -> bool:
    return path.resolve() == config.demo_db_path().resolve()


def needs_demo(path: Path) -> bool:
    """``path`` is the demo and it is missing or was built by another version of the code. A demo another
    process is writing raises :class:`~iconicity_core.errors.DatabaseBusy` (wait: never rebuilt under a
    writer); a file at the demo's path that is not a demo is left alone (the page says why it cannot open it)."""
    if not is_demo(path):
        return False
    from ..demo.build import demo_state

    return demo_state(path) in ("missing", "old")


def ensure_demo(path: Path, progress: Callable[[float, str], object]) -> None:
    """Build (or rebuild) the demo database when :func:`needs_demo` (two sessions starting at once do not
    race: the build holds a file lock and the second one waits)."""
    if not needs_demo(path):
        return
    from ..demo.build import build_demo

    build_demo(path, progress=progress, quiet=True)
