"""The shared sidebar, drawn on every page: database, scoring run, and the live settings panel (thresholds,
pooling, matching, filters: :mod:`.live`); the session's state mirrored in the URL as plain values, so a copied link
reproduces the view.
"""
from __future__ import annotations

import streamlit as st

from . import cache, live, state
from .opening import current_view, db_options, init_from_url


def _db_changed() -> None:
    """Callback (runs before the script): another database — its first run, at that run's operating point,
    applied by :func:`current_view` before any slider is drawn."""
    ss = st.session_state
    ss["db"], ss["run"], ss["ref"] = ss["w_db"], None, None
    for k in ("_op_run", "image", "similar_to", "w_run"):
        ss.pop(k, None)
    for k in state.LIST_KEYS:
        ss[k] = []
    live.bump()


def _run_changed() -> None:
    """Callback (runs before the script): another scoring run of the same database — at its operating
    point, applied before the sliders are drawn (applying it after raised StreamlitWidgetAlreadyInstantiated)."""
    ss = st.session_state
    ss["run"] = ss["w_run"]
    ss.pop("_op_run", None)


def sidebar() -> None:
    """The shared sidebar (drawn by ``app.py`` on every run, or by a page run on its own)."""
    opts = db_options()
    init_from_url(opts)
    ss = st.session_state
    names = list(opts)
    ss["db"] = st.selectbox("Database", names, index=names.index(ss["db"]) if ss["db"] in names else 0,
                            key="w_db", on_change=_db_changed,
                            help="$ICONICITY_DATA/*.duckdb, or `streamlit run app.py -- --db FILE`")
    view = current_view()
    if view is None:
        return
    _, choices, info = view
    if choices["runs"]:
        if ss.get("w_run") not in choices["runs"]:
            ss.pop("w_run", None)
        ss["run"] = st.selectbox("Scoring run", choices["runs"], index=choices["runs"].index(ss["run"]), key="w_run",
                                 on_change=_run_changed)
        info = cache.meta(str(view[0]), cache.file_version(view[0]))[1][ss["run"]]
        from ..display import embedder_name

        lit = state.literal
        st.caption(f"recognition: {lit(embedder_name(info['clip_info']))}  \n"
                   f"realization: {lit(embedder_name(info['dino_info']))} ({lit(info['patch_mode'])}, {lit(info['grid'])})")
    if info is not None:
        live.sidebar(view[0], ss["run"], choices)
    sync_url()


def sync_url() -> None:
    """Mirror the shared state into the URL (plain values only; rewritten only when it changed)."""
    ss = st.session_state
    view = state.ViewState(db=ss["db"], run=ss.get("run"), ref=ss.get("ref"), clip_tau=ss["clip_tau"],
                           clip_tau_dynamic=ss["clip_tau_dynamic"], patch_tau=ss["patch_tau"], pooling=ss["pooling"],
                           match=ss.get("match", "any"),
                           models=tuple(ss["models"]), kinds=tuple(ss["kinds"]), variants=tuple(ss["variants"]))
    params = state.to_params(view) | state.page_params(ss)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: (v if isinstance(v, list) else [v]) for k, v in params.items()}:
        st.query_params.from_dict(params)


def apply_thresholds(clip_tau: float, patch_tau: float) -> None:
    """Button callback: move the sidebar's threshold sliders (runs before the next script run)."""
    for k, v in (("clip_tau", clip_tau), ("clip_tau_dynamic", clip_tau), ("patch_tau", patch_tau)):
        st.session_state[k] = round(float(v), 2)
    live.bump()
