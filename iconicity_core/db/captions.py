"""Caption counting with DuckDB as the engine: how many captions contain each title as a whole phrase.

Titles and captions go through one normalisation expression, so both sides agree exactly: accents
stripped, lower case, every run of non-letters/digits -> one space, padded with spaces.
"""
from __future__ import annotations

import re
from pathlib import Path

NORMALISE_SQL = "(' ' || trim(regexp_replace(lower(strip_accents(CAST({x} AS VARCHAR))), '[^\\pL\\pN]+', ' ', 'g')) || ' ')"
MATCH_RULE = ("case-insensitive whole-phrase match: accents stripped (strip_accents), lower-cased, every run of "
              "characters other than letters/digits replaced by one space, title matched between spaces")


def normalise(con, texts: dict[str, str]) -> dict[str, str]:
    """Normalise texts (key -> text) with exactly the SQL used for captions."""
    if not texts:
        return {}
    rows = con.execute(f"SELECT s, {NORMALISE_SQL.format(x='t')} FROM (SELECT unnest(?) AS s, unnest(?) AS t)",
                       [list(texts), [t or "" for t in texts.values()]]).fetchall()
    return dict(rows)


def count_phrases(con, files: list[Path], column: str, patterns: dict[str, str]) -> dict[str, float]:
    """For every (already normalised) pattern, the number of captions in the Parquet ``files`` that
    contain it. Streams the files: a cheap pre-filter on each pattern's longest word keeps a superset
    of the matching captions; only those are normalised and counted pattern by pattern, exactly."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        raise ValueError(f"--column must be a plain column name, got {column!r}")
    pats = {k: p for k, p in patterns.items() if p.strip()}
    counts = dict.fromkeys(patterns, 0.0)
    if not pats:
        return counts
    alternation = "|".join(sorted({re.escape(max(p.split(), key=len)) for p in pats.values()}))
    src = con.read_parquet([str(f) for f in files])
    if column not in src.columns:
        raise ValueError(f"column {column!r} not in the caption files (columns: {', '.join(src.columns)})")
    src.create_view("_captions", replace=True)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _title_pats(slug VARCHAR, pat VARCHAR)")
        con.executemany("INSERT INTO _title_pats VALUES (?, ?)", list(pats.items()))
        rows = con.execute(f"""
            WITH hits AS (SELECT {NORMALISE_SQL.format(x='c')} AS c
                          FROM (SELECT "{column}" AS c FROM _captions WHERE "{column}" IS NOT NULL)
                          WHERE regexp_matches(lower(strip_accents(CAST(c AS VARCHAR))), ?))
            SELECT t.slug, count(h.c) FROM _title_pats t LEFT JOIN hits h ON contains(h.c, t.pat) GROUP BY t.slug""",
            [alternation]).fetchall()
    finally:
        con.execute("DROP VIEW IF EXISTS _captions")
        con.execute("DROP TABLE IF EXISTS _title_pats")
    counts.update({s: float(n) for s, n in rows})
    return counts
