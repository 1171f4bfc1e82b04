"""Atomic file writes: readers see the old file or the new one, never half of one. Only a regular file (or
nothing) is ever replaced: a device, FIFO, socket or folder at the path is refused
(:class:`~iconicity_core.errors.OutputRefused`), and missing parent folders are created only when the caller
asks (``create_parents``). What a command may write at all is decided by :mod:`.outputs` (the fence).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = atomic_write(p, "a,b\\n")
>>> p.read_text()
'a,b\\n'
"""
from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputRefused


def check_replaceable(path: Path) -> None:
    """Refuse (:class:`OutputRefused`) to replace anything but a regular file or a link (a link is replaced,
    never what it points to)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise OutputRefused(f"{path}: cannot check what is there ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputRefused(f"{path} is a folder — give a file name")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise OutputRefused(f"{path} is not a regular file (a device, a pipe or a socket) — refusing to replace it; "
                            "give another path")


@contextlib.contextmanager
def atomic_path(path: str | Path, create_parents: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary path (not yet existing) beside ``path``; on success it replaces ``path`` (same folder, so the
    rename is atomic), on failure it is removed and ``path`` is untouched. Only a regular file is replaced."""
    path = Path(path)
    check_replaceable(path)
    if create_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"      # not created: the caller writes it
    try:
        yield tmp
        check_replaceable(path)                                           # still nothing but a regular file
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: str | bytes, encoding: str = "utf-8", create_parents: bool = False) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; returns ``path``. An OS error names ``path`` (not the
    temporary file beside it)."""
    try:
        with atomic_path(path, create_parents) as tmp:
            if isinstance(data, bytes):
                tmp.write_bytes(data)
            else:
                tmp.write_text(data, encoding=encoding)
    except OSError as e:
        if e.filename is None or str(e.filename) == str(path):
            raise
        raise type(e)(e.errno, e.strerror or str(e), str(path)) from None
    return Path(path)


def write_csv(path: str | Path, header: list[str], rows, dicts: bool = False, create_parents: bool = False) -> Path:
    """Write a CSV atomically: ``rows`` are sequences, or dicts (``dicts=True``; missing keys empty,
    unknown keys ignored)."""
    import csv
    import io

    buf = io.StringIO(newline="")
    if dicts:
        dw = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", restval="")
        dw.writeheader()
        dw.writerows(rows)
    else:
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)
    return atomic_write(path, buf.getvalue(), create_parents=create_parents)
