"""The output fence: every option that writes a file or a folder (the CLI's ``--out`` / ``-o``, exports,
reports, the shared page, the demo) passes its path through :func:`fence_output` first, so no command ever
overwrites or writes into what it does not own:

* a DuckDB file, recognised by its bytes (not its name) — the scores database itself or another one;
* a database's sidecars: its labels (``DB.labels.csv`` and its lock), its write-ahead log (``DB.wal``), its
  lock (``DB.lock``) and its maps folder (``DB.maps/`` and anything in it);
* an existing file that is not a regular file (a device such as ``/dev/null``, a FIFO, a socket);
* a folder where a file is meant, a file where a folder is meant;
* a path whose parent folder does not exist, unless the command documents that it creates it.

The refusal is an :class:`~iconicity_core.errors.OutputRefused` whose one-line message says what to do; the
target is left byte-identical. :func:`~.atomic.atomic_path` (every write) replaces only regular files.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> fence_output(d / "table.csv") == d / "table.csv"
True
>>> _ = (d / "s.duckdb").write_bytes(b"\\0" * 8 + b"DUCK" + b"\\0" * 4)
>>> fence_output(d / "s.duckdb.labels.csv")
Traceback (most recent call last):
...
iconicity_core.errors.OutputRefused: ...s.duckdb.labels.csv is the labels file of the database ...s.duckdb ...
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import OutputRefused

#: Bytes 8..12 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"
#: What a database keeps beside itself, by suffix of its path: what each is called in messages.
SIDECARS = {".labels.csv": "the labels file", ".labels.csv.lock": "the labels file's lock",
            ".wal": "the write-ahead log", ".lock": "the lock file", ".maps": "the maps folder",
            ".wal.lock": "the lock file"}
#: Names that are databases by convention even before they exist (their sidecars are refused too).
DB_SUFFIXES = (".duckdb", ".ddb")
KINDS = ("file", "folder")


def is_duckdb_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file that starts like a DuckDB database (its magic bytes; any name).

    >>> is_duckdb_file("/nonexistent"), is_duckdb_file("/dev/null")
    (False, False)
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return False
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) >= 12 and head[8:12] == DUCKDB_MAGIC


def _is_database(base: Path) -> bool:
    return is_duckdb_file(base) or base.name.lower().endswith(DB_SUFFIXES)


def owner_of(path: str | Path) -> tuple[Path, str] | None:
    """``(database, what)`` when ``path`` is (or lies inside) a sidecar of a database — its labels, lock, WAL
    or maps folder — else None. A database here is a DuckDB file by its bytes, or a ``*.duckdb`` name.

    >>> owner_of("/x/results.duckdb.maps/run-pca.parquet")
    (PosixPath('/x/results.duckdb'), 'the maps folder')
    >>> owner_of("/x/notes.csv") is None
    True
    """
    p = Path(os.path.abspath(path))
    for q in (p, *p.parents):
        name = q.name
        for suffix in sorted(SIDECARS, key=len, reverse=True):
            if name.endswith(suffix) and len(name) > len(suffix):
                base = q.with_name(name[: -len(suffix)])
                if _is_database(base):
                    return base, SIDECARS[suffix]
    return None


def protected(path: str | Path) -> str | None:
    """Why ``path`` must never be written over or deleted by a command's output (None: it may): a DuckDB
    database, a database's sidecar, a device / FIFO / socket."""
    p = Path(path)
    if is_duckdb_file(p):
        return f"{p} is a DuckDB database"
    owner = owner_of(p)
    if owner is not None:
        return f"{p} is {owner[1]} of the database {owner[0]}"
    try:
        st = os.stat(p)
    except OSError:
        return None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return f"{p} is not a regular file (a device, a pipe or a socket)"
    return None


def fence_output(path: str | Path, kind: str = "file", create_parents: bool = False) -> Path:
    """Check that a command may write ``path`` (a ``file`` it replaces atomically, or a ``folder`` it writes
    files into) and return it; raise :class:`OutputRefused` (nothing written) when it may not — see the
    module docstring. ``create_parents``: create missing parent folders (only where the command documents
    it); a folder output itself is created by the caller when it writes."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    p = Path(path).expanduser()
    flag = "a file" if kind == "file" else "a folder"
    why = protected(p)
    if why is not None:
        raise OutputRefused(f"{why} — refusing to write {flag} there; give another path")
    if p.is_symlink() and not p.exists():
        raise OutputRefused(f"{p} is a link to nothing ({os.readlink(p)}) — give another path")
    if p.exists():
        if kind == "file" and p.is_dir():
            raise OutputRefused(f"{p} is a folder — give a file name, e.g. {p / _example(p)}")
        if kind == "folder" and not p.is_dir():
            raise OutputRefused(f"{p} is a file, not a folder — give a folder (it is created if missing)")
    parent = p.parent if str(p.parent) else Path(".")
    _fence_parent(parent, p, create_parents)
    return p


def _example(p: Path) -> str:
    return "output.csv" if p.suffix != ".html" else "findings.html"


def _fence_parent(parent: Path, p: Path, create: bool) -> None:
    for q in (parent, *parent.parents):
        if q.exists() or q.is_symlink():
            if not q.is_dir():
                raise OutputRefused(f"{q} is a file, not a folder — {p} cannot be written under it; give another path")
            break
    if parent.is_dir():
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputRefused(f"the folder {parent} cannot be written (no permission) — give a folder you can write to")
        return
    if not create:
        raise OutputRefused(f"the folder {parent} does not exist — create it first, or give a path in an existing folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputRefused(f"cannot create the folder {parent} ({e.strerror or e}) — give a path you can write to") from None


def fenced_folder(path: str | Path, create_parents: bool = False) -> Path:
    """:func:`fence_output` for a folder output, then create the folder (not its parents unless asked)."""
    p = fence_output(path, "folder", create_parents)
    try:
        p.mkdir(exist_ok=True)
    except OSError as e:
        raise OutputRefused(f"cannot create the folder {p} ({e.strerror or e}) — give a folder you can write to") from None
    return p


def write_output(path: str | Path, data: str | bytes, create_parents: bool = False) -> Path:
    """Fence ``path`` as a file output, then write ``data`` atomically (text as UTF-8)."""
    from .atomic import atomic_write

    return atomic_write(fence_output(path, "file", create_parents), data)
