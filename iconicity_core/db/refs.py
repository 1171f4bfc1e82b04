"""The references table and its covariate columns (with provenance in ``covariate_sources``).

Column names reach SQL only after :func:`~iconicity_core.core.names.safe_column` (lowercase letters, digits, underscores);
values are always bound parameters.
"""
from __future__ import annotations

import json

import pandas as pd

from ..core.names import safe_column
from .connection import transaction
from .schema import REF_CORE

_NUMERIC_TYPES = ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "HUGEINT", "SMALLINT", "REAL")


def columns(con) -> dict[str, str]:
    """Columns of ``refs`` with their DuckDB types, in table order."""
    return {r[0]: r[1] for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'refs' ORDER BY ordinal_position"
    ).fetchall()}


def numeric_covariates(con) -> list[str]:
    """Numeric covariate columns of ``refs`` (what correlations can use)."""
    return [c for c, t in columns(con).items() if c not in REF_CORE and t in _NUMERIC_TYPES]


def ensure_column(con, col: str, numeric: bool) -> str:
    """Add covariate column ``col`` if missing, or change its type when the values changed type (a
    numeric column that must now hold text becomes VARCHAR, and the other way round)."""
    col = safe_column(col)
    have = columns(con)
    if col not in have:
        con.execute(f'ALTER TABLE refs ADD COLUMN "{col}" {"DOUBLE" if numeric else "VARCHAR"}')
    elif not numeric and have[col] != "VARCHAR":           # was numbers, now text: keep the values as text
        con.execute(f'ALTER TABLE refs ALTER COLUMN "{col}" TYPE VARCHAR')
    elif numeric and have[col] == "VARCHAR":                 # was text, now numbers: text that is no number -> NULL
        con.execute(f'ALTER TABLE refs ALTER COLUMN "{col}" TYPE DOUBLE USING TRY_CAST("{col}" AS DOUBLE)')
    return col


def upsert(con, rows: list[dict], numeric: dict[str, bool], source: dict[str, dict]) -> None:
    """Insert or replace references (``slug``, ``title``, ``kind`` and covariates named in ``numeric``),
    recording each covariate's provenance (``source``: column -> details)."""
    for col, num in numeric.items():
        ensure_column(con, col, num)
    for col, details in source.items():
        con.execute("INSERT OR REPLACE INTO covariate_sources (name, source, details, run_id) VALUES (?, ?, ?, NULL)",
                    [col, "references.csv", json.dumps(details)])
    names = [*REF_CORE, *numeric]
    quoted = ", ".join(f'"{n}"' for n in names)
    con.executemany(f"INSERT OR REPLACE INTO refs ({quoted}) VALUES ({', '.join('?' * len(names))})",
                    [[r.get(n) for n in names] for r in rows])


def write_covariate(con, name: str, values: dict[str, object], numeric: bool, source: str, details: dict,
                    run_id: str | None) -> str:
    """Write one covariate column (``values``: slug -> value; others become NULL) and its provenance,
    in one transaction. Returns the column name."""
    from ..io.csvfiles import RESERVED

    col = safe_column(name)
    if col in REF_CORE or col in RESERVED:
        raise ValueError(f"{name!r} is a name the tool uses for its own columns; choose another covariate name "
                         f"(e.g. cov_{col})")
    with transaction(con):
        col = ensure_column(con, col, numeric)
        con.execute(f'UPDATE refs SET "{col}" = NULL')
        con.executemany(f'UPDATE refs SET "{col}" = ? WHERE slug = ?', [(v, s) for s, v in values.items()])
        con.execute("INSERT OR REPLACE INTO covariate_sources (name, source, details, run_id) VALUES (?, ?, ?, ?)",
                    [col, source, json.dumps(details, default=str), run_id])
    return col


def drop_columns(con, cols: list[str]) -> None:
    """Remove covariate columns (and their provenance)."""
    have = columns(con)
    for c in cols:
        if c in have and c not in REF_CORE:
            con.execute(f'ALTER TABLE refs DROP COLUMN "{safe_column(c)}"')
    con.execute("DELETE FROM covariate_sources WHERE name IN (SELECT unnest(?))", [list(cols)])


def titles(con) -> dict[str, str]:
    return dict(con.execute("SELECT slug, title FROM refs ORDER BY slug").fetchall())


def column_values(con, column: str) -> dict[str, object]:
    """slug -> value of one column of ``refs`` (LookupError if there is no such column)."""
    col = safe_column(column)
    if col not in columns(con):
        raise LookupError(f"references have no column {column!r} (columns: {', '.join(columns(con))})")
    return dict(con.execute(f'SELECT slug, "{col}" FROM refs ORDER BY slug').fetchall())


def table(con) -> pd.DataFrame:
    """Every reference with all its columns."""
    return con.execute("SELECT * FROM refs ORDER BY slug").df()


def sources(con) -> pd.DataFrame:
    """Provenance of every covariate column (source, details, the run that wrote it)."""
    return con.execute("SELECT name, source, details, run_id FROM covariate_sources ORDER BY name").df()


def sources_dict(con) -> dict[str, dict]:
    return {r[0]: {"source": r[1], "details": json.loads(r[2]) if r[2] else {}, "run": r[3]}
            for r in con.execute("SELECT name, source, details, run_id FROM covariate_sources ORDER BY name").fetchall()}
