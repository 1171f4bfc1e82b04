"""Human labels, kept in a sidecar file next to the scores database — never in the database itself,
which the dashboard only reads: ``results.duckdb`` -> ``results.duckdb.labels.csv``.

Every labelling is a row (``image, label, file_id, who, when``) so who labelled what and when stays
visible; the latest row of an image wins; ``skip`` is recorded but is no label. Each write replaces
the whole file atomically.

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "s.duckdb"
>>> _ = append(db, [("gen/a.png", "replica", "f1", "ana")]); _ = append(db, [("gen/a.png", "miss", "f1", "bo")])
>>> current(db)
{'gen/a.png': 'miss'}
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from ..config import LABELS
from .atomic import atomic_write

COLUMNS = ["image", "label", "file_id", "who", "when"]
CHOICES = (*LABELS, "skip")


def sidecar(database: str | Path) -> Path:
    """Where the labels of a scores database live."""
    return Path(str(database) + ".labels.csv")


def rows(database: str | Path) -> list[dict]:
    """Every labelling, oldest first."""
    path = sidecar(database)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("image")]


def current(database: str | Path) -> dict[str, str]:
    """image (path relative to its dataset root) -> its latest label (skips are not labels)."""
    out: dict[str, str] = {}
    for r in rows(database):
        if r["label"] in LABELS:          # a skip leaves an earlier label as it was
            out[r["image"]] = r["label"]
    return out


def by_file(database: str | Path, file_ids, images) -> dict[str, str]:
    """file_id -> latest label, for the files ``file_ids`` at the relative paths ``images`` (the same
    order). A row recorded with its file (the dashboard's) labels that file; a row without one (an
    import) labels every file at its path; rows apply oldest first, so the latest labelling wins.

    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "s.duckdb"
    >>> _ = append(db, [("a.png", "miss", "f1", "ana"), ("a.png", "replica", "", "import")])
    >>> by_file(db, ["f1", "f2"], ["a.png", "a.png"])
    {'f1': 'replica', 'f2': 'replica'}
    """
    at: dict[str, list[str]] = {}
    for fid, image in zip(file_ids, images):
        at.setdefault(image, []).append(fid)
    out: dict[str, str] = {}
    for r in rows(database):
        if r["label"] not in LABELS:                   # a skip leaves an earlier label as it was
            continue
        for fid in ([r["file_id"]] if r.get("file_id") else at.get(r["image"], [])):
            out[fid] = r["label"]
    return out


def append(database: str | Path, new: list[tuple], when: datetime | None = None) -> Path:
    """Add ``(image, label, file_id, who)`` rows (``label`` one of :data:`CHOICES`)."""
    bad = [r[1] for r in new if r[1] not in CHOICES]
    if bad:
        raise ValueError(f"labels must be one of {', '.join(CHOICES)}, got {bad}")
    from filelock import FileLock

    stamp = (when or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with FileLock(str(sidecar(database)) + ".lock"):        # two people labelling at once lose no row
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows(database))
        w.writerows({"image": i, "label": lab, "file_id": fid or "", "who": who or "", "when": stamp}
                    for i, lab, fid, who in new)
        return atomic_write(sidecar(database), buf.getvalue())


def importable(given: dict[str, str], known: set[str], who: str) -> tuple[list[tuple], list[tuple[str, str]]]:
    """Split labels read from a CSV (``image -> label``) into rows for :func:`append` (images in
    ``known``, the database's relative paths) and ``(image, problem)`` for the rest."""
    ok = [(image, label, "", who) for image, label in given.items() if image in known]
    bad = [(image, "not an image of this database (paths are relative to the dataset root, as in "
                   "`iconicity metrics --by image`) — row skipped") for image in given if image not in known]
    return ok, bad


def export_csv(database: str | Path) -> str:
    """``image,label`` of the current labels (what `iconicity evaluate --labels` reads)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["image", "label"])
    w.writerows(sorted(current(database).items()))
    return buf.getvalue()
