"""`iconicity references build`: cultural works from the Wikidata SPARQL endpoint -> references.csv.

Static kinds (paintings, music albums) have one canonical image; dynamic kinds (films, television
series) get several user-collected images later. Items are kept when they have more than
``min_sitelinks`` sitelinks (the paper: 20). Results are paged (LIMIT/OFFSET) so large classes do not
time out, every raw response is cached (a re-run does not hit the endpoint), and references.csv is
written atomically (a failed build leaves nothing half-written).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..io.atomic import write_csv
from ..io.dataset import norm_slug
from ..io.http import HTTPError, PoliteClient

log = logging.getLogger(__name__)

ENDPOINT = "https://query.wikidata.org/sparql"


@dataclass(frozen=True)
class WorkClass:
    name: str
    qid: str
    kind: str
    creator_property: str        # painter, performer, director, creator


CLASSES: dict[str, WorkClass] = {c.name: c for c in (
    WorkClass("painting", "Q3305213", "static", "P170"),
    WorkClass("album", "Q482994", "static", "P175"),
    WorkClass("film", "Q11424", "dynamic", "P57"),
    WorkClass("tv_series", "Q5398426", "dynamic", "P170"),
)}

COLUMNS = ["slug", "title", "kind", "qid", "wd_class", "sitelinks", "inception", "creator", "image", "description"]

QUERY = """SELECT ?item ?itemLabel ?itemDescription ?sitelinks ?date ?creatorLabel ?image WHERE {{
  ?item wdt:P31 wd:{cls} ;
        wikibase:sitelinks ?sitelinks .
  FILTER(?sitelinks > {min_sitelinks})
  OPTIONAL {{ ?item wdt:P571 ?inception . }}
  OPTIONAL {{ ?item wdt:P577 ?published . }}
  BIND(COALESCE(?inception, ?published) AS ?date)
  OPTIONAL {{ ?item wdt:{creator} ?creator . }}
  OPTIONAL {{ ?item wdt:P18 ?image . }}
  SERVICE wikibase:label {{ bd:serviceParam wikibase:language "en". }}
}}
ORDER BY DESC(?sitelinks) ?item
LIMIT {limit} OFFSET {offset}"""


def sparql_query(cls: WorkClass, min_sitelinks: int, limit: int, offset: int) -> str:
    """The query for one page of one class (every value is an int or a registry constant)."""
    return QUERY.format(cls=cls.qid, min_sitelinks=int(min_sitelinks), creator=cls.creator_property,
                        limit=int(limit), offset=int(offset))


def safe_slug(title: str) -> str:
    """A slug that is also a safe folder name.

    >>> safe_slug(" AC/DC: Back in Black ")
    'ac_dc_back_in_black'
    """
    s = norm_slug(title)
    s = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", s)
    return re.sub(r"_+", "_", s).strip("._") or "untitled"


def _value(b: dict, key: str) -> str:
    return (b.get(key) or {}).get("value", "")


def fetch_class(client: PoliteClient, cls: WorkClass, min_sitelinks: int, per_class: int | None,
                page_size: int, endpoint: str) -> list[dict]:
    """All items of one class (one dict per item; duplicates from multi-valued properties merged)."""
    items: dict[str, dict] = {}
    offset = 0
    while per_class is None or len(items) < per_class:
        q = sparql_query(cls, min_sitelinks, page_size, offset)
        data = client.get_json(endpoint, params={"query": q, "format": "json"},
                               headers={"Accept": "application/sparql-results+json"})
        try:
            rows = data["results"]["bindings"]
        except (KeyError, TypeError):
            raise HTTPError(f"{endpoint}: unexpected SPARQL response for {cls.name} at offset {offset} "
                            "(no results.bindings)") from None
        for b in rows:
            qid = _value(b, "item").rsplit("/", 1)[-1]
            if not re.fullmatch(r"Q\d+", qid):
                continue
            date = _value(b, "date")
            row = items.get(qid)
            if row is None:
                items[qid] = {"qid": qid, "title": _value(b, "itemLabel"), "kind": cls.kind, "wd_class": cls.name,
                              "sitelinks": int(float(_value(b, "sitelinks") or 0)), "inception": date,
                              "creator": _value(b, "creatorLabel"), "image": _value(b, "image"),
                              "description": _value(b, "itemDescription")}
            else:       # multi-valued properties: keep the earliest date, the first creator / image seen
                if date and (not row["inception"] or date < row["inception"]):
                    row["inception"] = date
                row["creator"] = row["creator"] or _value(b, "creatorLabel")
                row["image"] = row["image"] or _value(b, "image")
        log.debug("%s: offset %d: %d rows, %d items so far", cls.name, offset, len(rows), len(items))
        if len(rows) < page_size:
            break
        offset += page_size
    out = sorted(items.values(), key=lambda r: (-r["sitelinks"], int(r["qid"][1:])))
    return out[:per_class] if per_class is not None else out


def assign_slugs(rows: list[dict]) -> list[tuple[str, str]]:
    """Give every row a unique slug; collisions (same normalised title) are resolved deterministically:
    the item with most sitelinks (then lowest QID) keeps the plain slug, the others get ``_<qid>``.
    Returns the collisions as (slug, qid) pairs."""
    collisions = []
    taken: set[str] = set()
    for r in sorted(rows, key=lambda r: (-r["sitelinks"], int(r["qid"][1:]))):
        base = safe_slug(r["title"] or r["qid"])
        slug = base if base not in taken else f"{base}_{r['qid'].lower()}"
        if slug != base:
            collisions.append((base, r["qid"]))
        taken.add(slug)
        r["slug"] = slug
    return collisions


def build_references(out_dir: str | Path, classes: list[str] | None = None, min_sitelinks: int = 20,
                     per_class: int | None = None, page_size: int = 500, endpoint: str = ENDPOINT,
                     client: PoliteClient | None = None) -> Path:
    """Query every class, merge, assign slugs and write ``OUT_DIR/references.csv`` atomically."""
    out = Path(out_dir)
    names = classes or list(CLASSES)
    unknown = [c for c in names if c not in CLASSES]
    if unknown:
        raise ValueError(f"unknown class(es) {unknown}; choose from {', '.join(CLASSES)}")
    client = client or PoliteClient(out / ".cache" / "wikidata")
    rows: list[dict] = []
    seen: set[str] = set()
    for name in names:
        for r in fetch_class(client, CLASSES[name], min_sitelinks, per_class, page_size, endpoint):
            if r["qid"] not in seen:          # an item in two classes is kept once (first class wins)
                seen.add(r["qid"])
                rows.append(r)
    for base, qid in assign_slugs(rows):
        log.info("slug collision: %r is taken; %s gets %s_%s", base, qid, base, qid.lower())
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "references.csv", COLUMNS, sorted(rows, key=lambda r: r["slug"]), dicts=True)
    log.info("%d references -> %s", len(rows), out / "references.csv")
    return out / "references.csv"
