"""The dashboard's live half: the project's one JavaScript engine (``web/js``) as a Streamlit Custom Component,
mounted as the sidebar's settings panel and as the live views of the Overview, Thresholds and Correlations
pages. The run's data goes to the browser once per (database version, run) and session; from then on a
threshold, pooling, matching or filter move is computed where the slider is, with no server round trip.
When a control is released, the browser tells Python the chosen values (:func:`settings_from_browser`), so the
address, ``st.session_state`` and the Python-drawn pages follow.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..config import MATCHES, POOLINGS, run_thresholds
from ..web import payload as wp
from ..web.bundle import bundle
from ..web.style import css
from ..web.text import texts
from . import cache, state

#: The keys of the settings the browser sends back (and Python sends down).
SETTINGS = ("clip_tau", "clip_tau_dynamic", "patch_tau", "pooling", "match", "models", "kinds", "variants")
REV = "_ix_rev"
SENT = "_ix_sent"


NAME = "iconicity_explorer"
_MOUNT: list = []


def _component():
    """The component's mount function, registered with the running app (once per runtime: an ``AppTest`` has its
    own)."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

    if not _MOUNT or get_bidi_component_manager().get(NAME) is None:
        _MOUNT[:] = [st.components.v2.component(NAME, js=bundle("dashboard_host.js", "esm"), css=css("component"))]
    return _MOUNT[0]


@st.cache_resource(max_entries=2, show_spinner="Preparing the scores for the browser (once per database version)…")
def payload(path: str, version: tuple, run_id: str) -> tuple[str, bytes]:
    """``(id, bytes)`` of a run's data for the browser (built once per database version, shared by sessions)."""
    from ..display import model_colours

    eng = cache.engine(path, version, run_id)
    choices, infos = cache.meta(path, version)
    info = {**infos[run_id], "run_id": run_id}
    covs, _ = cache.covariates(path, version)
    refs = cache.references(path, version).set_index("slug")
    covs = [c for c in covs if c in refs.columns]
    t = run_thresholds(info.get("config"))
    op = type(t)(round(t.clip_tau, 2), None if t.clip_tau_dynamic is None else round(t.clip_tau_dynamic, 2),
                 round(t.patch_tau, 2), t.pooling, t.rule, t.match)
    pid = wp.payload_id(path, version, run_id)
    built = wp.build(eng, refs, covs, info, op, texts(info, t.rule), model_colours(choices["models"]), {"pid": pid})
    return pid, built.container()


def too_big(size: int, limit_mb: int) -> str | None:
    """What to do when a run's data for the browser is larger than one Streamlit message may be, else None.

    >>> too_big(80_000_000, 200) is None
    True
    >>> "--server.maxMessageSize 300" in too_big(230_000_000, 200)
    True
    """
    if size <= limit_mb * 1_000_000 * 0.98:  # the rest of the message carries a little besides the data
        return None
    need = -(-size * 1.1 // 100_000_000) * 100  # the size, rounded up to whole hundreds of MB with room to spare
    return (f"This run's scores are {size / 1e6:,.0f} MB for the browser, more than one message of this dashboard may "
            f"carry ({limit_mb:,} MB). Start it with a larger limit: `.venv/bin/streamlit run app.py "
            f"--server.maxMessageSize {need:.0f} -- --db DATABASE` (the browser then holds about that much), "
            "or score the study in smaller runs.")


def bump() -> None:
    """Python changed the settings (a run's operating point, an applied suggestion): the browser takes them."""
    st.session_state[REV] = st.session_state.get(REV, 0) + 1


def settings_from_browser(values, choices: dict) -> dict:
    """The settings the browser sent, checked against allow-lists: thresholds on the 0.01 grid in [0, 1],
    pooling and matching by name, filters among the database's names (anything else is dropped).

    >>> settings_from_browser({"clip_tau": 0.333, "pooling": "all", "models": ["a", "<b>"], "x": 1},
    ...                       {"models": ["a"], "kinds": ["static"], "variants": []})
    {'clip_tau': 0.33, 'pooling': 'all', 'models': ['a']}
    """
    out: dict = {}
    if not isinstance(values, dict):
        return out
    for k in ("clip_tau", "clip_tau_dynamic", "patch_tau"):
        v = values.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0:
            out[k] = round(float(v), 2)
    if values.get("pooling") in POOLINGS:
        out["pooling"] = values["pooling"]
    if values.get("match") in MATCHES:
        out["match"] = values["match"]
    for k in ("models", "kinds", "variants"):
        v = values.get(k)
        if isinstance(v, list):
            out[k] = [x for x in v if isinstance(x, str) and x in choices.get(k, ())]
    return out


def _view_changed() -> None:
    """Callback: a control was released in the browser — its values become the session's (and the URL's)."""
    ss = st.session_state
    ss.update(settings_from_browser((ss.get("ix_controls") or {}).get("view"), ss.get("_ix_choices", {})))


def _page_changed(key: str, allowed: dict) -> None:
    """Callback: a live view's own choice (which kind and prompt variant a table shows)."""
    ss = st.session_state
    got = (ss.get(key) or {}).get("page") or {}
    for name, (session_key, ok) in allowed.items():
        v = got.get(name)
        if isinstance(v, str) and ok(v):
            ss[session_key] = v


def _missing() -> None:
    """Callback: the browser does not hold the run's data (a reloaded tab): send it again."""
    st.session_state.pop(SENT, None)


def sidebar(path: Path, run_id: str, choices: dict) -> None:
    """In the sidebar: the run's data (once per session) and the settings panel."""
    ss = st.session_state
    version = cache.file_version(path)
    pid, data = payload(str(path), version, run_id)
    if ss.get(SENT) != pid and (problem := too_big(len(data), st.get_option("server.maxMessageSize"))):
        st.error(problem)
        st.stop()
    comp = _component()
    comp(key="ix_payload", data=data if ss.get(SENT) != pid else {"role": "payload", "pid": pid},
         on_missing_change=_missing, height=0)
    ss[SENT] = pid
    ss["_ix_choices"] = {k: list(choices.get(k, ())) for k in ("models", "kinds", "variants")}
    now = {k: (list(ss[k]) if isinstance(ss.get(k), (list, tuple)) else ss.get(k)) for k in SETTINGS}
    comp(key="ix_controls", data={"role": "controls", "pid": pid, "rev": ss.get(REV, 0), "state": now,
                                  "waiting": "Loading the thresholds…"},
         on_view_change=_view_changed)


#: What each live view may send back about itself: name -> (session key, check).
PAGE_KEYS = {
    "overview": {"kind": ("ov_kind", lambda v: v in ("all", "static", "dynamic")),
                 "variant": ("ov_variant", lambda v: bool(state.NAME.match(v)))},
    "correlations": {"corr_variant": ("co_variant", lambda v: bool(state.NAME.match(v)))},
    "thresholds": {},
}


def view(ctx, role: str, page: dict | None = None):
    """A live view (``overview``, ``thresholds``, ``correlations``) of the current run; returns the component's
    result (``.open_ref``: a reference clicked in the plane)."""
    # the id the sidebar sent in this rerun (a writer may have committed since: the views follow the data shown)
    pid = st.session_state.get(SENT) or wp.payload_id(*ctx.key, ctx.run_id)
    key = f"ix_{role}"
    return _component()(key=key, data={"role": role, "pid": pid, "rev": st.session_state.get(REV, 0), "page": page or {},
                                       "waiting": "Computing in the browser…"},
                        on_page_change=lambda: _page_changed(key, PAGE_KEYS[role]), on_open_ref_change=lambda: None)
