"""The dashboard's shared view state and its URL form — pure, no Streamlit.

A copied URL reproduces the view: database, run, thresholds, pooling, filters and the current
reference. URL values are only ever *checked* against allow-lists (numbers in range, names the
database holds); anything else falls back to the default with a notice. Notices repeat user text,
so it is escaped before display (:func:`literal`): a URL can never inject a link or an image.

>>> s, notes = parse({"clip_tau": ["0.55"], "pooling": ["all"], "models": ["a", "zz"]}, ["demo.duckdb"])
>>> s.clip_tau, s.pooling, s.clip_tau_dynamic, notes
(0.55, 'all', 0.55, [])
>>> s, notes = restrict(s, {"models": ["a", "b"], "kinds": [], "variants": [], "slugs": [], "runs": ["r1"]})
>>> s.models, s.run, notes
(('a',), 'r1', ["ignored unknown models ['zz'] from the URL"])
>>> to_params(s)["clip_tau"], to_params(s)["models"]
('0.55', ['a'])
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..config import CLIP_TAU, MATCHES, PATCH_TAU, POOLINGS

FLOAT_KEYS = ("clip_tau", "clip_tau_dynamic", "patch_tau")
LIST_KEYS = ("models", "kinds", "variants")
KEYS = ("db", "run", "ref", "pooling", "match", *FLOAT_KEYS, *LIST_KEYS)


@dataclass(frozen=True)
class ViewState:
    db: str
    run: str | None = None
    ref: str | None = None
    clip_tau: float = CLIP_TAU
    clip_tau_dynamic: float = CLIP_TAU
    patch_tau: float = PATCH_TAU
    pooling: str = "recognised"
    match: str = "any"
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    given: frozenset = frozenset()       # keys the URL set explicitly (they win over run defaults)


def literal(text: str) -> str:
    """Text from a dataset made safe to show through Streamlit's Markdown (labels, captions): every
    Markdown/HTML control character is backslash-escaped, and a word joiner (U+2060, invisible) is put
    into ``://``, ``www.`` and ``@`` so nothing is turned into a link either. (Values from a URL are
    shown with ``st.text`` instead: no Markdown at all.)

    >>> print(literal("[log in](http://evil/) ![x](http://e/p.png) <b>").replace("\u2060", "|"))
    \\[log in\\]\\(http\\:|//evil/\\) \\!\\[x\\]\\(http\\:|//e/p\\.png\\) \\<b\\>
    """
    out = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'])", r"\\\1", str(text))
    return out.replace("\\://", "\\:\u2060//").replace("www\\.", "www\u2060\\.").replace("@", "@\u2060")


def _first(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    v = params.get(key)
    return v[-1] if v else None


def parse(params: Mapping[str, Sequence[str]], db_names: Sequence[str]) -> tuple[ViewState, list[str]]:
    """Read URL parameters (every key -> its list of values); returns the state and notices for every
    value that was ignored. List filters, the run and the reference are checked later against the
    database (:func:`restrict`)."""
    notes: list[str] = []
    name = _first(params, "db")
    if name is not None and name not in db_names:
        notes.append(f"unknown database {name!r} in the URL — showing {db_names[0]}")
        name = None
    values: dict = {"db": name or db_names[0]}
    given = set()
    for k in FLOAT_KEYS:
        raw = _first(params, k)
        if raw is None:
            continue
        try:
            v = round(float(raw), 2)
            if not 0.0 <= v <= 1.0:
                raise ValueError
            values[k] = v
            given.add(k)
        except ValueError:
            notes.append(f"ignored {k}={raw!r} from the URL (must be a number in [0, 1])")
    if "clip_tau_dynamic" not in values and "clip_tau" in values:
        values["clip_tau_dynamic"] = values["clip_tau"]
    pooling = _first(params, "pooling")
    if pooling is not None:
        if pooling in POOLINGS:
            values["pooling"] = pooling
            given.add("pooling")
        else:
            notes.append(f"ignored pooling={pooling!r} from the URL (recognised or all)")
    match = _first(params, "match")
    if match is not None:
        if match in MATCHES:
            values["match"] = match
        else:
            notes.append(f"ignored match={match!r} from the URL ({' or '.join(MATCHES)})")
    for k in LIST_KEYS:
        if params.get(k):
            values[k] = tuple(dict.fromkeys(params[k]))
    for k in ("run", "ref"):
        if _first(params, k) is not None:
            values[k] = _first(params, k)
    return ViewState(**values, given=frozenset(given)), notes


_FILE_ID = re.compile(r"^[0-9a-f]{16}$")
NAME = re.compile(r"^[\w .:/'()\-]{1,200}$", re.UNICODE)
MAP_COLOURS = ("model", "quadrant", "label", "clip_sim")
#: What a page shows, in the URL too: URL name -> (session key, check). Names the database must hold
#: (a prompt variant, a run) are checked by the page before use.
PAGE_PARAMS = {
    "image": ("image", lambda v: bool(_FILE_ID.match(v))),
    "similar": ("similar_to", lambda v: bool(_FILE_ID.match(v))),
    "kind": ("ov_kind", lambda v: v in ("all", "static", "dynamic")),
    "variant": ("ov_variant", lambda v: bool(NAME.match(v))),
    "colour": ("map_colour", lambda v: v in MAP_COLOURS),
    "run_b": ("cmp_run", lambda v: bool(NAME.match(v))),
}


def parse_page(params: Mapping[str, Sequence[str]]) -> tuple[dict[str, str], list[str]]:
    """Page selections from the URL: ``{session key: value}`` for the values that pass their check, and a
    notice for each that does not.

    >>> parse_page({"image": ["0123456789abcdef"], "kind": ["static"], "colour": ["<b>"]})
    ({'image': '0123456789abcdef', 'ov_kind': 'static'}, ["ignored colour='<b>' from the URL"])
    """
    out, notes = {}, []
    for name, (key, ok) in PAGE_PARAMS.items():
        v = _first(params, name)
        if v is None:
            continue
        if ok(v):
            out[key] = v
        else:
            notes.append(f"ignored {name}={v!r} from the URL")
    return out, notes


def page_params(session: Mapping) -> dict[str, str]:
    """The URL form of the page selections held in ``session``."""
    return {name: str(session[key]) for name, (key, ok) in PAGE_PARAMS.items()
            if session.get(key) is not None and ok(str(session[key]))}


def restrict(state: ViewState, choices: Mapping[str, Sequence[str]]) -> tuple[ViewState, list[str]]:
    """Keep only values the database holds (``choices``: models, kinds, variants, slugs, runs)."""
    notes: list[str] = []
    changes: dict = {}
    for k in LIST_KEYS:
        vals = getattr(state, k)
        bad = [v for v in vals if v not in choices[k]]
        if bad:
            notes.append(f"ignored unknown {k} {bad} from the URL")
            changes[k] = tuple(v for v in vals if v in choices[k])
    runs = list(choices["runs"])
    if state.run is not None and state.run not in runs:
        notes.append(f"ignored unknown run {state.run!r} from the URL")
        changes["run"] = None
    if (changes.get("run", state.run)) is None:
        changes["run"] = runs[0] if runs else None
    if state.ref is not None and state.ref not in choices["slugs"]:
        notes.append(f"ignored unknown reference {state.ref!r} from the URL")
        changes["ref"] = None
    return replace(state, **changes), notes


def to_params(state: ViewState) -> dict[str, str | list[str]]:
    """The URL form of a state (plain strings; lists for multi-valued filters)."""
    params: dict[str, str | list[str]] = {"db": state.db, "pooling": state.pooling, "match": state.match}
    for k in FLOAT_KEYS:
        params[k] = f"{getattr(state, k):.2f}"
    for k in LIST_KEYS:
        if getattr(state, k):
            params[k] = list(getattr(state, k))
    for k in ("run", "ref"):
        if getattr(state, k):
            params[k] = getattr(state, k)
    return params
