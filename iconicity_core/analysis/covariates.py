"""Covariates of references (docs/method.md): title uniqueness, training-data frequency, popularity, date.

Each function computes one or more columns of the references and writes them as a recorded run
(kind ``covariate``) with their provenance (source, version, parameters, input hashes), so
`iconicity runs` lists them and `iconicity runs delete` removes them again.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .. import db
from ..core.names import norm_slug
from ..db.captions import MATCH_RULE
from ..errors import NoResults
from ..io.csvfiles import read_table


def _write(con, columns: dict[str, tuple[dict, str, dict]], config: dict, inputs: dict | None = None) -> list[str]:
    """Write ``columns`` (name -> (values by slug, source, details)) as one recorded covariate run (nothing is
    recorded when the database has no references: :class:`~iconicity_core.errors.NoResults`)."""
    if not db.refs.titles(con):
        raise NoResults("the database has no references yet — score a dataset into it first (`iconicity score`)")
    with db.runs.recorded(con, "covariate", config, inputs) as rec:
        out = [db.refs.write_covariate(con, name, values, True, source, details, rec.run_id)
               for name, (values, source, details) in columns.items()]
        rec.outputs["columns"] = out
    return out


# -- title uniqueness ---------------------------------------------------------------------------

def title_uniqueness(con) -> list[str]:
    """Two measures of how common a title is as text:

    * ``title_zipf_mean`` — mean Zipf frequency (wordfreq, English) of the title's words: high = made
      of everyday words ("Up", "Her"), low = distinctive ("Guernica").
    * ``title_ambiguity_refs`` — how many *other* references share the same normalised title.
    """
    import importlib.metadata as md

    from wordfreq import tokenize, zipf_frequency

    titles = db.refs.titles(con)
    zipf = {}
    for slug, title in titles.items():
        words = tokenize(title or "", "en")
        zipf[slug] = sum(zipf_frequency(w, "en") for w in words) / len(words) if words else None
    norm = db.captions.normalise(con, titles)
    counts: dict[str, int] = {}
    for n in norm.values():
        counts[n] = counts.get(n, 0) + 1
    amb = {s: float(counts[n] - 1) for s, n in norm.items()}
    return _write(con, {
        "title_zipf_mean": (zipf, "wordfreq", {"version": md.version("wordfreq"), "lang": "en",
                                               "tokenizer": "wordfreq.tokenize", "aggregate": "mean over words"}),
        "title_ambiguity_refs": (amb, "reference set", {"rule": "number of other references with the same "
                                                                "normalised title", "normalisation": MATCH_RULE}),
    }, {"command": "uniqueness"})


def common_phrases(n: int = 1000) -> list[str]:
    """The ``n`` most frequent English words (wordfreq) of 3+ letters: the 'common phrases' a distinctive
    title should not resemble."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", n * 2) if w.isalpha() and len(w) >= 3][:n]


def semantic_distinctiveness(con, text_embedder, n_phrases: int = 1000) -> str:
    """``title_distinctiveness`` = 1 - max cosine between the title's CLIP text embedding and those of
    the common phrases (0 = the title *is* an everyday word)."""
    import numpy as np

    titles = db.refs.titles(con)
    phrases = common_phrases(n_phrases)
    t = text_embedder.embed_text([v or "" for v in titles.values()])
    p = text_embedder.embed_text(phrases)
    best = (t @ p.T).max(axis=1)
    values = {s: float(np.clip(1.0 - b, 0.0, 2.0)) for s, b in zip(titles, best, strict=True)}
    details = {"embedder": text_embedder.info.key, "phrases": f"wordfreq top {n_phrases} English words (3+ letters)",
               "rule": "1 - max cosine(title, phrase)"}
    return _write(con, {"title_distinctiveness": (values, "clip text tower", details)},
                  {"command": "distinctiveness", "embedder": text_embedder.info.key, "n_phrases": n_phrases})[0]


def wikidata_ambiguity(con, client, endpoint: str = "https://query.wikidata.org/sparql",
                       name: str = "title_ambiguity_wikidata") -> tuple[str, dict[str, str]]:
    """How many *other* Wikidata items carry exactly the title as their English label (a reference with
    a ``qid`` column does not count itself). One cached, polite query per title; one write at the end."""
    import json as _json

    from ..io.http import HTTPError

    titles = db.refs.titles(con)
    qids = db.refs.column_values(con, "qid") if "qid" in db.refs.columns(con) else {}
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for slug, title in titles.items():
        literal = _json.dumps(title or "", ensure_ascii=False)       # a valid SPARQL string literal
        query = f"SELECT (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item rdfs:label {literal}@en . }}"
        try:
            data = client.get_json(endpoint, params={"query": query, "format": "json"},
                                   headers={"Accept": "application/sparql-results+json"})
            n = int(data["results"]["bindings"][0]["n"]["value"])
            values[slug] = float(max(0, n - (1 if qids.get(slug) else 0)))
        except (HTTPError, KeyError, IndexError, TypeError, ValueError) as e:
            values[slug], errors[slug] = None, str(e) or type(e).__name__
    details = {"endpoint": endpoint, "rule": "COUNT of items with rdfs:label == title @en, minus the reference's "
               "own item when its qid is known", "errors": errors}
    col = _write(con, {name: (values, "wikidata", details)}, {"command": "ambiguity", "endpoint": endpoint})[0]
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

    Streams any number of Parquet files with DuckDB (see :mod:`iconicity_core.db.captions`)."""
    if not files:
        raise FileNotFoundError("no caption files matched — check the --captions pattern")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        raise ValueError(f"--column must be a plain column name, got {column!r}")
    pats = db.captions.normalise(con, db.refs.titles(con))
    counts = db.captions.count_phrases(con, files, column, pats)
    details = {"corpus": corpus or Path(files[0]).parent.name, "files": len(files),
               "files_sha256": _files_digest(files), "column": column, "rule": MATCH_RULE}
    return _write(con, {name: (counts, "captions", details)}, {"command": "frequency", "column": column,
                                                                 "corpus": details["corpus"]},
                  {"files": len(files), "files_digest": details["files_sha256"]})[0]


def import_csv(con, path: Path, column: str, name: str | None = None, source: str = "csv") -> str:
    """Import a per-reference number from a CSV with columns ``slug`` and ``column``
    (published training-data counts, page views, ...). Cells that are not numbers become empty."""
    from ..core.names import safe_column
    from ..io.csvfiles import parse_number
    from ..io.provenance import sha256_file

    t = read_table(Path(path), ("slug",))
    col = safe_column(column)
    key = col if col in t.columns else "cov_" + col if "cov_" + col in t.columns else None
    if "slug" not in t.columns or key is None:
        raise ValueError(f"{path} needs the columns slug and {column} (has: {', '.join(t.columns.values())})")
    values: dict[str, float | None] = {}
    for _line, row in t.rows:
        v = parse_number(row[key])
        values[norm_slug(row["slug"])] = v if isinstance(v, float) else None
    known = set(db.refs.titles(con))
    details = {"file": Path(path).name, "column": column, "rows": len(values), "matched": len(known & set(values))}
    if known and not details["matched"]:
        raise NoResults(f"none of the {len(values)} slug(s) in {Path(path).name} is a reference of the database (it has "
                        f"{len(known)}, e.g. {sorted(known)[0]!r}) — check the slug column")
    return _write(con, {name or column: ({s: v for s, v in values.items() if s in known}, source, details)},
                  {"command": "import", "column": column, "source": source}, {"file_sha256": sha256_file(path)})[0]


PAGEVIEWS_API = "https://wikimedia.org/api/rest_v1"


def fetch_pageviews(con, client, start: str = "20240101", end: str = "20241231", project: str = "en.wikipedia",
                    endpoint: str = PAGEVIEWS_API, title_column: str | None = None,
                    name: str = "pageviews") -> tuple[str, dict[str, str]]:
    """Monthly Wikipedia page views summed over ``start``..``end`` (YYYYMMDD) from the Wikimedia REST
    API, per reference (article = ``title_column`` if given, else the title). All requests first,
    then one transaction: an interrupted fetch writes nothing (the client's cache makes a re-run cheap).
    Returns the column and the per-reference errors."""
    from urllib.parse import quote

    from ..io.http import HTTPError, NotFound

    try:
        articles = db.refs.column_values(con, title_column or "title")
    except LookupError as e:
        raise ValueError(str(e)) from None
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for slug, article in articles.items():
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
    details = {"endpoint": endpoint, "project": project, "start": start, "end": end, "agent": "user",
               "article_from": title_column or "title", "errors": errors}
    col = _write(con, {name: (values, "wikimedia pageviews", details)},
                 {"command": "popularity", "project": project, "start": start, "end": end})[0]
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
    try:
        raw = db.refs.column_values(con, column)
    except LookupError as e:
        raise ValueError(str(e)) from None
    years = {s: parse_year(v) for s, v in raw.items()}
    details = {"from_column": column, "rule": "leading (signed) year of the value"}
    return _write(con, {"year": (years, "references", details),
                        "decade": ({s: (y // 10 * 10 if y is not None else None) for s, y in years.items()},
                                   "references", details)}, {"command": "dates", "column": column})
