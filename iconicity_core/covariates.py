"""Covariates of references (DESIGN §1): title uniqueness, training-data frequency, popularity, date.

Each function adds (or overwrites) columns of the ``refs`` table and records its provenance in
``covariate_sources`` (source, version, parameters). Nothing here formats user text into SQL:
values are bound, column names pass :func:`store.safe_column`, Parquet files are opened through
DuckDB's relation API.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

from . import store

#: Same normalisation for titles and captions (one SQL expression, so both sides agree exactly):
#: accents stripped, lower case, every run of non-letters/digits -> one space, padded with spaces.
NORMALISE_SQL = "(' ' || trim(regexp_replace(lower(strip_accents(CAST({x} AS VARCHAR))), '[^\\pL\\pN]+', ' ', 'g')) || ' ')"
MATCH_RULE = ("case-insensitive whole-phrase match: accents stripped (strip_accents), lower-cased, every run of "
              "characters other than letters/digits replaced by one space, title matched between spaces")


def _record(con, column: str, source: str, details: dict) -> None:
    con.execute("INSERT OR REPLACE INTO covariate_sources VALUES (?, ?, ?)", [column, source, json.dumps(details)])


def _write_column(con, name: str, values: dict[str, float | None], numeric: bool = True) -> str:
    col = store.ensure_ref_column(con, name, numeric)
    con.executemany(f'UPDATE refs SET "{col}" = ? WHERE slug = ?', [(v, s) for s, v in values.items()])
    return col


def normalise_titles(con, titles: dict[str, str]) -> dict[str, str]:
    """Normalise titles with exactly the SQL used for captions (padded with spaces)."""
    rows = con.execute(f"SELECT s, {NORMALISE_SQL.format(x='t')} FROM (SELECT unnest(?) AS s, unnest(?) AS t)",
                       [list(titles), list(titles.values())]).fetchall()
    return dict(rows)


# -- title uniqueness ---------------------------------------------------------------------------

def title_uniqueness(con) -> list[str]:
    """Two measures of how common a title is as text:

    * ``title_zipf_mean`` — mean Zipf frequency (wordfreq, English) of the title's words: high = made
      of everyday words ("Up", "Her"), low = distinctive ("Guernica").
    * ``title_ambiguity_refs`` — how many *other* references share the same normalised title.
    """
    import importlib.metadata as md

    from wordfreq import tokenize, zipf_frequency

    titles = dict(con.execute("SELECT slug, title FROM refs").fetchall())
    zipf = {}
    for slug, title in titles.items():
        words = tokenize(title or "", "en")
        zipf[slug] = sum(zipf_frequency(w, "en") for w in words) / len(words) if words else None
    norm = normalise_titles(con, titles)
    counts: dict[str, int] = {}
    for n in norm.values():
        counts[n] = counts.get(n, 0) + 1
    amb = {s: float(counts[n] - 1) for s, n in norm.items()}
    con.begin()
    cols = [_write_column(con, "title_zipf_mean", zipf), _write_column(con, "title_ambiguity_refs", amb)]
    _record(con, cols[0], "wordfreq", {"version": md.version("wordfreq"), "lang": "en", "tokenizer": "wordfreq.tokenize",
                                       "aggregate": "mean over words"})
    _record(con, cols[1], "reference set", {"rule": "number of other references with the same normalised title",
                                            "normalisation": MATCH_RULE})
    con.commit()
    return cols


def common_phrases(n: int = 1000) -> list[str]:
    """The ``n`` most frequent English words (wordfreq) of 3+ letters: the 'common phrases' a distinctive
    title should not resemble."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", n * 2) if w.isalpha() and len(w) >= 3][:n]


def semantic_distinctiveness(con, text_embedder, n_phrases: int = 1000) -> str:
    """``title_distinctiveness`` = 1 - max cosine between the title's CLIP text embedding and those of
    the common phrases (0 = the title *is* an everyday word)."""
    import numpy as np

    titles = dict(con.execute("SELECT slug, title FROM refs").fetchall())
    phrases = common_phrases(n_phrases)
    t = text_embedder.embed_text(list(titles.values()))
    p = text_embedder.embed_text(phrases)
    best = (t @ p.T).max(axis=1)
    values = {s: float(np.clip(1.0 - b, 0.0, 2.0)) for s, b in zip(titles, best)}
    con.begin()
    col = _write_column(con, "title_distinctiveness", values)
    _record(con, col, "clip text tower", {"embedder": text_embedder.info.key, "phrases": f"wordfreq top {n_phrases} "
                                          "English words (3+ letters)", "rule": "1 - max cosine(title, phrase)"})
    con.commit()
    return col


def wikidata_ambiguity(con, client, endpoint: str = "https://query.wikidata.org/sparql",
                       name: str = "title_ambiguity_wikidata") -> tuple[str, dict[str, str]]:
    """How many *other* Wikidata items carry exactly the title as their English label (a reference with
    a ``qid`` column does not count itself). One cached, polite query per title; one write at the end."""
    import json as _json

    from .http import HTTPError

    cols = store.ref_columns(con)
    has_qid = "qid" in cols
    rows = con.execute(f"SELECT slug, title, {'qid' if has_qid else 'NULL'} FROM refs ORDER BY slug").fetchall()
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for slug, title, qid in rows:
        literal = _json.dumps(title or "", ensure_ascii=False)       # a valid SPARQL string literal
        query = f"SELECT (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item rdfs:label {literal}@en . }}"
        try:
            data = client.get_json(endpoint, params={"query": query, "format": "json"},
                                   headers={"Accept": "application/sparql-results+json"})
            n = int(data["results"]["bindings"][0]["n"]["value"])
            values[slug] = float(max(0, n - (1 if qid else 0)))
        except (HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            values[slug], errors[slug] = None, str(e) or type(e).__name__
    con.begin()
    col = _write_column(con, name, values)
    _record(con, col, "wikidata", {"endpoint": endpoint, "rule": "COUNT of items with rdfs:label == title @en, "
                                   "minus the reference's own item when its qid is known", "errors": errors})
    con.commit()
    return col, errors


# -- training-data frequency --------------------------------------------------------------------

def _files_digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.name}\0{st.st_size}\0".encode())
    return h.hexdigest()


def caption_frequency(con, files: list[Path], column: str = "caption", name: str = "train_freq",
                      corpus: str | None = None) -> str:
    """Count, for every reference title, the captions that contain it as a whole phrase.

    Streams any number of Parquet files with DuckDB: one regular-expression pass keeps the captions
    that contain *some* title, then each title is counted on those.
    """
    if not files:
        raise FileNotFoundError("no caption files matched — check the --captions pattern")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        raise ValueError(f"--column must be a plain column name, got {column!r}")
    titles = dict(con.execute("SELECT slug, title FROM refs").fetchall())
    pats = {s: p for s, p in normalise_titles(con, titles).items() if p.strip()}
    counts = dict.fromkeys(titles, 0.0)
    if pats:
        # Cheap pre-filter on the lower-cased, accent-stripped caption: it must contain the longest word
        # of some title (normalisation only rewrites separators, so this keeps a superset of the
        # matching captions). Only those few are normalised and counted title by title, exactly.
        alternation = "|".join(sorted({re.escape(max(p.split(), key=len)) for p in pats.values()}))
        src = con.read_parquet([str(f) for f in files])
        if column not in src.columns:
            raise ValueError(f"column {column!r} not in the caption files (columns: {', '.join(src.columns)})")
        src.create_view("_captions", replace=True)
        con.execute("CREATE OR REPLACE TEMP TABLE _title_pats(slug VARCHAR, pat VARCHAR)")
        con.executemany("INSERT INTO _title_pats VALUES (?, ?)", list(pats.items()))
        rows = con.execute(f"""
            WITH hits AS (SELECT {NORMALISE_SQL.format(x='c')} AS c
                          FROM (SELECT "{column}" AS c FROM _captions WHERE "{column}" IS NOT NULL)
                          WHERE regexp_matches(lower(strip_accents(CAST(c AS VARCHAR))), ?))
            SELECT t.slug, count(h.c) FROM _title_pats t LEFT JOIN hits h ON contains(h.c, t.pat) GROUP BY t.slug""",
            [alternation]).fetchall()
        counts.update({s: float(n) for s, n in rows})
        con.execute("DROP VIEW _captions")
    con.begin()
    col = _write_column(con, name, counts)
    _record(con, col, "captions", {"corpus": corpus or Path(files[0]).parent.name, "files": len(files),
                                   "files_sha256": _files_digest(files), "column": column, "rule": MATCH_RULE})
    con.commit()
    return col


def import_csv(con, path: Path, column: str, name: str | None = None, source: str = "csv") -> str:
    """Import a per-reference number from a CSV with columns ``slug`` and ``column``
    (published training-data counts, page views, ...)."""
    from .dataset import norm_slug

    values: dict[str, float | None] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if "slug" not in (reader.fieldnames or []) or column not in (reader.fieldnames or []):
            raise ValueError(f"{path} needs the columns slug and {column} (has: {reader.fieldnames})")
        for row in reader:
            try:
                values[norm_slug(row["slug"])] = float(row[column])
            except (TypeError, ValueError):
                values[norm_slug(row["slug"])] = None
    known = {r[0] for r in con.execute("SELECT slug FROM refs").fetchall()}
    con.begin()
    col = _write_column(con, name or column, {s: v for s, v in values.items() if s in known})
    _record(con, col, source, {"file": Path(path).name, "column": column, "rows": len(values),
                               "matched": len(known & set(values))})
    con.commit()
    return col


PAGEVIEWS_API = "https://wikimedia.org/api/rest_v1"


def fetch_pageviews(con, client, start: str = "20240101", end: str = "20241231", project: str = "en.wikipedia",
                    endpoint: str = PAGEVIEWS_API, title_column: str | None = None,
                    name: str = "pageviews") -> tuple[str, dict[str, str]]:
    """Monthly Wikipedia page views summed over ``start``..``end`` (YYYYMMDD) from the Wikimedia REST
    API, per reference (article = ``title_column`` if given, else the title). All requests first,
    then one transaction: an interrupted fetch writes nothing (the client's cache makes a re-run cheap).
    Returns the column and the per-reference errors."""
    from urllib.parse import quote

    from .http import HTTPError, NotFound

    col_src = store.safe_column(title_column) if title_column else "title"
    if col_src not in store.ref_columns(con):
        raise ValueError(f"references have no column {title_column!r}")
    rows = con.execute(f'SELECT slug, "{col_src}" FROM refs ORDER BY slug').fetchall()
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for slug, article in rows:
        if not article:
            values[slug], errors[slug] = None, "no article title"
            continue
        url = (f"{endpoint.rstrip('/')}/metrics/pageviews/per-article/{project}/all-access/user/"
               f"{quote(str(article).replace(' ', '_'), safe='')}/monthly/{start}00/{end}00")
        try:
            data = client.get_json(url)
            values[slug] = float(sum(int(i["views"]) for i in data.get("items", [])))
        except NotFound:
            values[slug], errors[slug] = None, f"no Wikipedia article {article!r} on {project}"
        except (HTTPError, KeyError, TypeError, ValueError) as e:
            values[slug], errors[slug] = None, str(e)
    con.begin()
    col = _write_column(con, name, values)
    _record(con, col, "wikimedia pageviews", {"endpoint": endpoint, "project": project, "start": start, "end": end,
                                              "agent": "user", "article_from": col_src, "errors": errors})
    con.commit()
    return col, errors


# -- dates --------------------------------------------------------------------------------------

_YEAR = re.compile(r"^[+-]?(\d{1,4})")


def parse_year(value) -> float | None:
    """Year from a number or an ISO-like date (Wikidata's ``+1889-06-01T00:00:00Z`` too).

    >>> [parse_year(v) for v in (1889, "1889-06-01", "+1503-01-01T00:00:00Z", "", None, "c. 1500")]
    [1889.0, 1889.0, 1503.0, None, None, None]
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(int(value)) if value == value else None
    m = _YEAR.match(str(value).strip())
    return float(int(m.group(1))) if m else None


def dates(con, column: str = "inception") -> list[str]:
    """``year`` and ``decade`` from a date-like column of ``refs``."""
    cols = store.ref_columns(con)
    src = store.safe_column(column)
    if src not in cols:
        raise ValueError(f"references have no column {column!r} (columns: {', '.join(cols)})")
    years = {s: parse_year(v) for s, v in con.execute(f'SELECT slug, "{src}" FROM refs').fetchall()}
    con.begin()
    out = [_write_column(con, "year", years),
           _write_column(con, "decade", {s: (y // 10 * 10 if y is not None else None) for s, y in years.items()})]
    for c in out:
        _record(con, c, "references", {"from_column": src, "rule": "leading (signed) year of the value"})
    con.commit()
    return out
