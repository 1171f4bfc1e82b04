"""Human labels, kept in a sidecar file next to the scores database — never in the database itself,
which the dashboard only reads: ``results.duckdb`` -> ``results.duckdb.labels.csv``.

Every labelling is a row (``image, label, file_id, who, when``) so who labelled what and when stays
visible; the latest row of an image wins; ``skip`` is recorded but is no label.

The file is a person's file too — opened in a spreadsheet, re-saved, edited by hand — so:

* **reading** accepts what spreadsheets and hand edits produce: a UTF-8 BOM, CRLF line ends, ``;`` or
  tab separators, headers in any case and order (or no header: ``image,label,...`` by position), extra
  columns, UTF-16, Windows-1252 (with a notice); a row it cannot use is reported with its line, and
  the rows before an unclosed quote are kept;
* **writing appends** the new rows at the end, in the file's own separator, line ends, encoding and
  column order, under a file lock (two people labelling at once lose no row) — it never rewrites the
  file from what it could parse, and a file it cannot parse completely is left untouched with a
  :class:`LabelsFileError` that names the line.

Every text cell (the image path, the file id, ``who``) that starts with a spreadsheet formula character is
written with a leading ``'`` (and read back exactly as given), so opening the file in a spreadsheet runs
nothing.

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "s.duckdb"
>>> _ = append(db, [("gen/a.png", "replica", "f1", "ana")]); _ = append(db, [("gen/a.png", "miss", "f1", "bo")])
>>> current(db)
{'gen/a.png': 'miss'}
"""
from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import LABELS
from ..errors import IconicityError
from .csvfiles import neutralise, unneutralise

COLUMNS = ["image", "label", "file_id", "who", "when"]
CHOICES = (*LABELS, "skip")
#: A labels or import file larger than this is refused (a mistaken path, /dev/zero, a database file).
MAX_BYTES = 200 * 1024 * 1024


class LabelsFileError(IconicityError, ValueError):
    """A labels file that cannot be read or written safely; the message names the file (and line) and
    says what to do."""


def sidecar(database: str | Path) -> Path:
    """Where the labels of a scores database live."""
    return Path(str(database) + ".labels.csv")


@dataclass
class Parsed:
    """What a labels file holds and how it is written (so an append matches it)."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)   # (line, normalised row)
    problems: list[tuple[str, str]] = field(default_factory=list)          # (file:line, message)
    error: str | None = None            # why the file cannot be appended to (None: it can)
    header: list[str] | None = None     # the file's column names, normalised, in its order (None: no header)
    delimiter: str = ","
    newline: str = "\n"
    encoding: str = "utf-8"
    ends_with_newline: bool = True


def _decode(data: bytes, name: str) -> tuple[str, str, str | None]:
    """``(text, encoding to append with, notice)``."""
    for bom, enc, append_enc in ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
                                 (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data.decode(enc), append_enc, None
            except UnicodeDecodeError as e:
                raise LabelsFileError(f"{name}: starts like {enc.upper()} but byte {e.start} does not decode — "
                                      "save it again as UTF-8") from None
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as e:
        return data.decode("cp1252", errors="replace"), "cp1252", (
            f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}): read as Windows-1252 — save the file as "
            "UTF-8 to be sure")


def _read_bytes(path: Path) -> bytes:
    try:
        st = path.stat()
    except OSError as e:
        raise LabelsFileError(f"{path}: cannot read it ({e.strerror})") from None
    if path.is_dir():
        raise LabelsFileError(f"{path} is a folder — give the CSV file itself")
    if not path.is_file():
        raise LabelsFileError(f"{path} is not a regular file (a device or a pipe?) — give a CSV file")
    if st.st_size > MAX_BYTES:
        raise LabelsFileError(f"{path} is {st.st_size:,} bytes, more than a labels file can be ({MAX_BYTES:,}) — "
                              "is it the right file?")
    try:
        return path.read_bytes()
    except OSError as e:
        raise LabelsFileError(f"{path}: cannot read it ({e.strerror})") from None


def parse(path: str | Path, required: tuple[str, ...] = ("image", "label")) -> Parsed:
    """Read a labels file (the sidecar, or a file to import) tolerantly; never raises for its content
    (only for a file that cannot be read at all: a folder, a device, too large)."""
    path = Path(path)
    out = Parsed()
    if not path.exists():
        return out
    data = _read_bytes(path)
    name = path.name
    text, out.encoding, notice = _decode(data, name)
    if notice:
        out.problems.append((name, notice))
    if not text.strip():
        return out
    out.ends_with_newline = text.endswith(("\n", "\r"))
    out.newline = "\r\n" if "\r\n" in text[:4096] else "\n"
    first = text.lstrip("\ufeff").splitlines()[0]
    try:
        out.delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        out.delimiter = ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=out.delimiter, strict=True)
    header: list[str] | None = None
    opened = 1                                  # the line the row being read starts on
    try:
        for raw in reader:
            line, opened = opened, reader.line_num + 1
            if not any(c.strip() for c in raw):
                continue
            cells = [c.strip() for c in raw]
            if header is None and out.header is None and not out.rows:
                names = [c.strip().strip('"').lower() for c in raw]
                if set(required) <= set(names):
                    header = out.header = names
                    continue
                if len(cells) >= 2 and cells[1].lower() in CHOICES:
                    out.header = None             # no header: image,label[,file_id,who,when] by position
                else:
                    out.error = (f"{name}:{line}: the first line {raw!r} is neither a header with the columns "
                                 f"{', '.join(required)} nor a row image,label — fix the header")
                    out.problems.append((f"{name}:{line}", out.error))
                    return out
            names = header or COLUMNS
            row = {n: unneutralise(c) for n, c in zip(names, cells, strict=False) if n}
            row.setdefault("label", "")
            row["label"] = row["label"].lower()
            out.rows.append((line, row))
    except csv.Error as e:
        line = opened
        out.error = (f"{name}:{line}: {e} — a quote opened on this line is never closed; fix that line (the "
                     f"{len(out.rows)} row(s) before it are read)")
        out.problems.append((f"{name}:{line}", out.error))
    return out


def rows(database: str | Path) -> list[dict]:
    """Every labelling in the sidecar, oldest first (rows it cannot use are left out)."""
    return [r for _, r in parse(sidecar(database)).rows if r.get("image")]


def problems(database: str | Path) -> list[tuple[str, str]]:
    """What the sidecar holds that cannot be used (``(file:line, message)``); empty when all is well."""
    try:
        p = parse(sidecar(database))
    except LabelsFileError as e:
        return [(sidecar(database).name, str(e))]
    return p.problems + [(f"{sidecar(database).name}:{line}", f"label {r['label']!r} is not one of "
                          f"{', '.join(CHOICES)} — row ignored") for line, r in p.rows if r["label"] not in CHOICES]


def safe_rows(database: str | Path) -> list[dict]:
    """:func:`rows`, or none when the sidecar cannot be read at all (the dashboard shows :func:`problems`)."""
    try:
        return rows(database)
    except LabelsFileError:
        return []


def current(database: str | Path) -> dict[str, str]:
    """image (path relative to its dataset root) -> its latest label (skips are not labels)."""
    out: dict[str, str] = {}
    for r in safe_rows(database):
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
    for fid, image in zip(file_ids, images, strict=True):
        at.setdefault(image, []).append(fid)
    known = set(file_ids)
    out: dict[str, str] = {}
    for r in safe_rows(database):
        if r["label"] not in LABELS:                   # a skip leaves an earlier label as it was
            continue
        fid = r.get("file_id") or ""
        for f in ([fid] if fid in known else at.get(r["image"], [])):
            out[f] = r["label"]
    return out


def append(database: str | Path, new: list[tuple], when: datetime | None = None) -> Path:
    """Add ``(image, label, file_id, who)`` rows (``label`` one of :data:`CHOICES`) at the end of the
    sidecar, in its own format; raises :class:`LabelsFileError` (file untouched) when it cannot."""
    bad = [r[1] for r in new if r[1] not in CHOICES]
    if bad:
        raise ValueError(f"labels must be one of {', '.join(CHOICES)}, got {bad}")
    path = sidecar(database)
    if not new:
        return path
    from filelock import FileLock, Timeout

    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    lock = FileLock(str(path) + ".lock", timeout=30)
    try:
        with lock:                                # two people labelling at once lose no row
            _append_locked(path, new, stamp)
    except Timeout:
        raise LabelsFileError(f"{path}.lock is held by another process for 30 s — try again") from None
    except LabelsFileError:
        raise
    except OSError as e:
        what = "is a link (refused: it could point anywhere)" if os.path.islink(str(path) + ".lock") else \
            f"cannot be written ({e.strerror})"
        raise LabelsFileError(f"{path.name}: the labels file or its lock {what} — labels go beside the database "
                              f"in {path.parent}; copy the database to a folder you can write to, or fix the "
                              "file") from None
    return path


def _append_locked(path: Path, new: list[tuple], stamp: str) -> None:
    p = parse(path)
    if p.error:
        raise LabelsFileError(f"{p.error}. The file was left as it is; the new label was not saved.")
    header = p.header if path.exists() and path.stat().st_size else COLUMNS
    names = header or COLUMNS[: max((len(r) for _, r in p.rows), default=len(COLUMNS))]
    if not {"image", "label"} <= set(names):
        names = COLUMNS
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=p.delimiter, lineterminator=p.newline)
    fresh = not path.exists() or path.stat().st_size == 0
    if fresh:
        w.writerow(COLUMNS)
    for image, label, fid, who in new:
        values = {"image": neutralise(image), "label": label, "file_id": neutralise(fid or ""),
                  "who": neutralise(who or ""), "when": stamp}
        w.writerow([values.get(n, "") for n in (COLUMNS if fresh else names)])
    text = buf.getvalue()
    if not fresh and not p.ends_with_newline:
        text = p.newline + text
    try:
        data = text.encode(p.encoding)
    except UnicodeEncodeError:
        raise LabelsFileError(f"{path.name} is saved as {p.encoding} and cannot hold {text.strip()!r} — save it as "
                              "UTF-8 (the file was left as it is)") from None
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_labels(path: str | Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A CSV ``image,label`` to import or evaluate with (image = path relative to the dataset root, as in
    `metrics --by image`), read as tolerantly as the sidecar. Returns the labels and per-row problems
    (unknown label, an image labelled twice with different labels, an unclosed quote); raises
    :class:`LabelsFileError` for a file that cannot be used at all."""
    path = Path(path)
    if not path.exists():
        raise LabelsFileError(f"{path} does not exist")
    p = parse(path)
    if p.error and not p.rows:
        raise LabelsFileError(p.error)
    if p.header is not None and not {"image", "label"} <= set(p.header):
        raise LabelsFileError(f"{path}: needs the columns image,label")
    labels: dict[str, str] = {}
    where: dict[str, int] = {}
    problems = list(p.problems)
    for line, row in p.rows:
        image, label = (row.get("image") or "").strip(), (row.get("label") or "").strip().lower()
        if not image or not label:
            continue
        if label not in LABELS:
            problems.append((f"{path.name}:{line}", f"label {row['label']!r} is not one of {', '.join(LABELS)} — "
                                                   "row skipped"))
            continue
        if image in labels and labels[image] != label:
            problems.append((f"{path.name}:{line}", f"{image} is labelled {labels[image]!r} on line {where[image]} and "
                                                   f"{label!r} here — the later one is used"))
        labels[image], where[image] = label, line
    return labels, problems


def importable(given: dict[str, str], known: set[str], who: str) -> tuple[list[tuple], list[tuple[str, str]]]:
    """Split labels read from a CSV (``image -> label``) into rows for :func:`append` (images in
    ``known``, the database's relative paths) and ``(image, problem)`` for the rest."""
    ok = [(image, label, "", who) for image, label in given.items() if image in known]
    bad = [(image, "not an image of this database (paths are relative to the dataset root, as in "
                   "`iconicity metrics --by image`) — row skipped") for image in given if image not in known]
    return ok, bad


def export_csv(database: str | Path) -> str:
    """``image,label`` of the current labels (what `iconicity evaluate --labels` reads), every cell
    spreadsheet-safe."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["image", "label"])
    w.writerows((neutralise(i), lab) for i, lab in sorted(current(database).items()))
    return buf.getvalue()


def no_labels_message(labels_file: str | Path | None) -> str:
    """What to say when no scored image has a label: the file given names none of them, or there are none at all.

    >>> no_labels_message("l.csv").split(":")[0]
    'l.csv names no scored generated image with a label'
    """
    if labels_file is not None:
        return (f"{labels_file} names no scored generated image with a label: it needs rows image,label with the image "
                "path as `iconicity metrics --by image` prints it and a label among " + ", ".join(LABELS))
    return ("no labelled images: neither the database nor its labels sidecar has a label — label images on the "
            "dashboard's Label page, or pass --labels with an image,label CSV")
