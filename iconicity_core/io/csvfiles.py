"""Validated readers for the CSV files users write by hand: ``references.csv`` and ``generations.csv``.

Nothing in a row can stop a run: every bad row or cell becomes a problem ``(file:line, message)``
that says what to do, and the rest is read. Only a file that cannot be used at all (no ``slug``
column, say) raises :class:`CSVError` with a one-line message naming the file.

Header rules (deterministic, and every rename is reported):

* headers are matched without surrounding spaces and case (`` Slug `` is ``slug``);
* the first header that reads as a core column (``slug``, ``title``, ``kind``) is that column;
* every other column becomes a covariate named by :func:`~iconicity_core.core.names.safe_column`;
  a name that is a core or reserved name (one the tool's own tables use, such as ``model`` or
  ``cra``) gets a ``cov_`` prefix, and a name already taken gets ``_2``, ``_3``, ...
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import KINDS
from ..core.names import norm_slug, safe_column
from ..errors import IconicityError

CORE_COLUMNS = ("slug", "title", "kind")
GEN_COLUMNS = ("path", "model", "slug", "variant", "prompt", "seed", "label")
#: Names the tool's own tables and views use; a covariate may not take them.
RESERVED = frozenset({
    "slug", "title", "kind", "model", "variant", "n", "n_refs", "cra", "vr", "vi", "crt", "pooling", "quadrant",
    "file_id", "label", "seed", "prompt", "clip_sim", "recognised", "run_id", "vr_plot", "n_images", "n_ref_images",
})
INT64 = 2 ** 63


#: A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(cell: str) -> bool:
    """Whether a spreadsheet would run ``cell`` — or it is a ``'`` before such a cell (so that a value that
    itself starts with ``'=`` survives the round trip)."""
    return cell[:1] in FORMULA_START if cell[:1] != "'" else _formula_like(cell[1:])


def neutralise(cell):
    """A text cell made safe to open in a spreadsheet: a leading ``'`` before a formula character
    (:func:`unneutralise` undoes it when the file is read back, exactly — a value that itself starts with
    ``'=`` gets one more ``'``). Non-text values pass unchanged.

    >>> neutralise("=HYPERLINK(1)"), neutralise("-ism"), neutralise("fine"), neutralise(-0.5)
    ("'=HYPERLINK(1)", "'-ism", 'fine', -0.5)
    >>> [unneutralise(neutralise(v)) for v in ("@x", "'=x", "''+1", "'", "'plain", "")]
    ['@x', "'=x", "''+1", "'", "'plain", '']
    """
    return "'" + cell if isinstance(cell, str) and cell and _formula_like(cell) else cell


def unneutralise(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and len(cell) > 1 and _formula_like(cell[1:]) else cell


#: Derived fractions are written with 6 significant digits (0.7 rather than 0.7000000000000001); raw
#: similarities keep every digit, so a stored value can be given back as an exact threshold.
ROUNDED = ("cra", "vr", "vi", "crt", "mean_cra", "mean_vr", "mean_crt")


def to_csv(df) -> str:
    """``df.to_csv(index=False)`` with every text cell :func:`neutralise`-d and derived fractions rounded to
    6 significant digits (every CSV the tool writes for people to open goes through this)."""
    import numpy as np

    out = df.copy()
    for c in out.columns:
        if str(c) in ROUNDED and out[c].dtype.kind == "f":
            out[c] = out[c].map(lambda v: float(f"{v:.6g}") if v == v else np.nan)
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("string", "str"):
            out[c] = out[c].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out.to_csv(index=False)


class CSVError(IconicityError, ValueError):
    """A CSV file that cannot be used at all; the message names the file and says what to do."""


@dataclass
class Table:
    """Rows of a CSV file as dicts keyed by the normalised column names, with their line numbers."""

    path: Path
    columns: dict[str, str]                       # normalised name -> original header
    rows: list[tuple[int, dict[str, str]]]
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_text(path: Path) -> tuple[str, str | None]:
    """The file's text, and a problem message when it was not UTF-8 (read as Windows-1252 then)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        return data.decode("cp1252", errors="replace"), (
            f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); read as Windows-1252/Latin-1 — check "
            "accented titles, and save the file as UTF-8 to be sure")


def read_table(path: Path, core: tuple[str, ...]) -> Table:
    """Read a CSV with the header rules of this module (``core``: the file's own column names)."""
    path = Path(path)
    text, enc_problem = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CSVError(f"{path}: the file is empty — it needs a header line ({','.join(core)})") from None
    except csv.Error as e:
        raise CSVError(f"{path}: not a readable CSV file ({e})") from None
    problems = [(path.name, enc_problem)] if enc_problem else []
    names: list[str | None] = []
    columns: dict[str, str] = {}
    for h in header:
        key = h.strip().lower()
        if key in core and key not in columns:
            name = key
        elif not h.strip():
            names.append(None)
            problems.append((path.name, "a column has no header — its values are ignored (give it a name to use them)"))
            continue
        else:
            name = safe_column(h)
            if name in RESERVED or name in core:
                name = "cov_" + name
            base, k = name, 2
            while name in columns:
                name, k = f"{base[:59]}_{k}", k + 1
            if name != safe_column(h) or key in core:
                problems.append((path.name, f"column {h!r} is stored as covariate {name!r} "
                                            f"({'name already used' if key in core or safe_column(h) in columns else 'reserved name'})"))
        names.append(name)
        columns[name] = h
    rows = []
    line = 1
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(names):
                problems.append((f"{path.name}:{line}", f"{len(values) - len(names)} value(s) more than the header has "
                                                         "columns — the extra values are ignored (quote values that contain commas)"))
            row = {n: (values[i] if i < len(values) else "") for i, n in enumerate(names) if n is not None}
            rows.append((line, row))
    except csv.Error as e:
        problems.append((f"{path.name}:{line + 1}", f"unreadable CSV from here on ({e}) — fix the quoting; "
                                                    "the rows before were read"))
    return Table(path, columns, rows, problems)


def parse_number(text: str) -> Any:
    """A finite number, the text itself, or None for an empty cell.

    >>> [parse_number(v) for v in ("12", " 1.5 ", "", "inf", "high")]
    [12.0, 1.5, None, None, 'high']
    """
    t = (text or "").strip()
    if t == "":
        return None
    try:
        v = float(t)
    except ValueError:
        return t
    return v if math.isfinite(v) else None


def parse_seed(text: str) -> tuple[int | None, str | None]:
    """A seed as a 64-bit integer, or ``(None, why)``.

    >>> parse_seed("42"), parse_seed("7.0"), parse_seed("")
    ((42, None), (7, None), (None, None))
    >>> parse_seed("nan")[1]
    "seed 'nan' is not a whole number — stored empty"
    """
    t = (text or "").strip()
    if not t:
        return None, None
    try:
        v = int(t)
    except ValueError:
        try:
            f = float(t)
        except ValueError:
            f = math.nan
        if not math.isfinite(f) or f != int(f):
            return None, f"seed {t!r} is not a whole number — stored empty"
        v = int(f)
    if not -INT64 <= v < INT64:
        return None, f"seed {t!r} does not fit in 64 bits — stored empty"
    return v, None


@dataclass
class ReferenceRow:
    slug: str
    title: str
    kind: str
    extra: dict[str, Any]


def read_references(path: Path) -> tuple[list[ReferenceRow], dict[str, str], list[tuple[str, str]]]:
    """``references.csv`` -> references (first row per slug), covariate column -> header, problems."""
    t = read_table(path, CORE_COLUMNS)
    missing = [c for c in CORE_COLUMNS if c not in t.columns]
    if missing:
        raise CSVError(f"{path}: missing column(s) {', '.join(missing)} — the header must name slug,title,kind "
                       f"(kind is static or dynamic); found: {', '.join(repr(h) for h in t.columns.values())}")
    covs = {n: h for n, h in t.columns.items() if n not in CORE_COLUMNS}
    out: dict[str, ReferenceRow] = {}
    problems = list(t.problems)
    for line, row in t.rows:
        item = f"{path.name}:{line}"
        slug = norm_slug(row["slug"])
        kind = row["kind"].strip().lower()
        if not slug:
            problems.append((item, "empty slug — fill it in or delete the row"))
            continue
        if kind not in KINDS:
            problems.append((item, f"kind {row['kind']!r} for {slug!r} is not static/dynamic — row skipped"))
            continue
        if slug in out:
            problems.append((item, f"duplicate slug {slug!r} — only the first row is used"))
            continue
        out[slug] = ReferenceRow(slug, row["title"].strip() or slug, kind, {c: parse_number(row[c]) for c in covs})
    return list(out.values()), covs, problems


@dataclass
class GenerationRow:
    line: int
    path: str
    model: str
    slug: str
    variant: str | None
    prompt: str | None
    seed: int | None
    label: str | None


def read_generations(path: Path) -> tuple[list[GenerationRow], list[tuple[str, str]]]:
    """``generations.csv`` -> rows with path, model and slug filled in, and problems."""
    t = read_table(path, GEN_COLUMNS)
    if not {"path", "model", "slug"} <= set(t.columns):
        return [], [*t.problems, (path.name, "needs at least the columns path,model,slug — file ignored")]
    problems = list(t.problems)
    out = []
    for line, row in t.rows:
        item = f"{path.name}:{line}"
        missing = [c for c in ("path", "model", "slug") if not row[c].strip()]
        if missing:
            problems.append((item, f"empty {', '.join(missing)} — row skipped (fill it in or delete the row)"))
            continue
        seed, why = parse_seed(row.get("seed", ""))
        if why:
            problems.append((item, why))
        def get(c: str, row: dict = row) -> str | None:
            return (row.get(c) or "").strip() or None
        out.append(GenerationRow(line, row["path"].strip(), row["model"].strip(), norm_slug(row["slug"]),
                                 get("variant"), get("prompt"), seed, get("label")))
    return out, problems
