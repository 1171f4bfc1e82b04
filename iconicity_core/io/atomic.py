"""Atomic file writes: readers see the old file or the new one, never half of one.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = atomic_write(p, "a,b\\n")
>>> p.read_text()
'a,b\\n'
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary path (not yet existing) beside ``path``; on success it replaces ``path`` (same folder, so the
    rename is atomic), on failure it is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"      # not created: the caller writes it
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding)
    return Path(path)


def write_csv(path: str | Path, header: list[str], rows, dicts: bool = False) -> Path:
    """Write a CSV atomically: ``rows`` are sequences, or dicts (``dicts=True``; missing keys empty,
    unknown keys ignored)."""
    import csv
    import io

    buf = io.StringIO(newline="")
    if dicts:
        w = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", restval="")
        w.writeheader()
        w.writerows(rows)
    else:
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)
    return atomic_write(path, buf.getvalue())
