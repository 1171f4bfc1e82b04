"""What a session opens: the database and run a URL names (checked against allow-lists, ignored values noted as
text), the run's operating point, and the first start's demo build — or one message saying why a database
cannot be opened. The database is read only when what it holds may have changed (see :mod:`.cache`), so a CLI
writer is never locked out between interactions.
"""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from ..config import run_thresholds
from . import cache, databases, live, state

NOTICES = "_notices"
ENTRY_FLAG = "_entry_ran"
INIT_FLAG = "_initialised"


def _notice(msg: str) -> None:
    st.session_state.setdefault(NOTICES, []).append(msg)


def show_notices() -> None:
    """Show (once) the notices about ignored URL values. They repeat text from the URL, so they are
    shown as plain text (``st.text``: no Markdown, no links, no images), under one warning."""
    notes = st.session_state.pop(NOTICES, [])
    if notes:
        st.warning("Some values in the link were ignored (shown as plain text below).", icon="⚠️")
        for msg in notes:
            st.text(msg)


def db_options() -> dict[str, Path]:
    return databases.options(sys.argv[1:])


def init_from_url(opts: dict[str, Path]) -> None:
    """Copy validated URL parameters into session state (once per session)."""
    ss = st.session_state
    if ss.get(INIT_FLAG):
        return
    qp = st.query_params
    view, notes = state.parse({k: qp.get_all(k) for k in qp}, list(opts))
    for n in notes:
        _notice(n)
    for k, v in asdict(view).items():
        if k != "given":
            ss[k] = list(v) if isinstance(v, tuple) else v
    ss["_given"] = set(view.given)                # thresholds from the URL win over the run's defaults
    page, more = state.parse_page({k: qp.get_all(k) for k in qp})
    for k, v in page.items():
        ss[k] = v
    for n in more:
        _notice(n)
    ss["_url_checked"] = False
    ss[INIT_FLAG] = True


def current_view():
    """Open the chosen database's metadata (building the demo on first start); returns
    ``(path, choices, run_info)`` or None after showing why it cannot be opened."""
    opts = db_options()
    init_from_url(opts)
    ss = st.session_state
    path = opts.get(ss["db"], next(iter(opts.values())))
    failed = ss.get(DEMO_FAILED)
    if failed and failed[0] == str(path):           # this run's first start could not build it: say why, once a page
        st.error(failed[1])
        return None
    try:
        if databases.needs_demo(path):
            _build_demo(path)
        choices, infos = cache.meta(str(path), cache.file_version(path))
    except Exception as e:
        msg = opening_error(e, path)
        if msg is None:
            raise
        st.error(msg)
        return None
    current = state.ViewState(db=ss["db"], run=ss.get("run"), ref=ss.get("ref"),
                              models=tuple(ss.get("models", ())), kinds=tuple(ss.get("kinds", ())),
                              variants=tuple(ss.get("variants", ())))
    checked, notes = state.restrict(current, choices)
    if not ss.get("_url_checked"):
        for n in notes:
            _notice(n)
        ss["_url_checked"] = True
    for k in ("run", "ref", *state.LIST_KEYS):
        v = getattr(checked, k)
        ss[k] = list(v) if isinstance(v, tuple) else v
    info = infos.get(ss["run"]) if ss["run"] else None
    if info is not None and ss.get("_op_run") != ss["run"]:
        _apply_operating_point(info)
    return path, choices, info


DEMO_FAILED = "_demo_failed"


def opening_error(e: BaseException, path: Path) -> str | None:
    """The one line the page shows when the chosen database cannot be opened (or the demo cannot be built):
    the project's own errors and OS errors say what to do; a DuckDB error on a damaged file says so. None for
    anything else (a bug: re-raised)."""
    import duckdb

    from ..errors import DatabaseBusy, IconicityError

    if isinstance(e, DatabaseBusy):
        return f"{e} (the page opens it as soon as it is free: reload in a moment)"
    if isinstance(e, IconicityError):
        return str(e)
    if isinstance(e, OSError):
        where = e.filename or path
        return (f"cannot use {where} ({e.strerror or e}) — check that the data folder ($ICONICITY_DATA, "
                f"{path.parent}) is a folder you can write to, or open another database with --db")
    if isinstance(e, duckdb.Error):
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return f"{path} cannot be read ({first}) — is it damaged or truncated? Open a backup copy"
    return None


def first_start() -> None:
    """Build the demo database in the main area when it is the chosen database and it is missing (or was built
    by another version). Call before the sidebar is drawn. When it cannot be built (or another process is
    writing it), the pages say why (:func:`current_view`) instead of failing."""
    opts = db_options()
    init_from_url(opts)
    path = opts.get(st.session_state["db"], next(iter(opts.values())))
    st.session_state.pop(DEMO_FAILED, None)
    try:
        if databases.needs_demo(path):
            _build_demo(path)
    except Exception as e:
        msg = opening_error(e, path)
        if msg is None:
            raise
        st.session_state[DEMO_FAILED] = (str(path), msg)


def _build_demo(path: Path) -> None:
    """First start: build the demo in the main area, with what it is and a progress bar."""
    from ..demo.build import what_it_is  # the scorer's imports, only on a first start

    box = st.empty()
    try:
        with box.container():
            st.title("Iconicity Explorer")
            st.markdown(f"**First start: building the demo database** (under a minute, offline). {what_it_is()} "
                        "Every page has something to show.")
            bar = st.progress(0.0, "starting…")
            databases.ensure_demo(path, lambda f, m: bar.progress(min(1.0, f), m))
    finally:
        box.empty()


def _apply_operating_point(info: dict) -> None:
    """Start at the run's thresholds (its embedders' defaults, recorded with the run) — except those
    the URL set — and take its threshold rule. Called before the sliders are drawn."""
    ss = st.session_state
    t = run_thresholds(info.get("config"))
    given = ss.pop("_given", set())
    for k, v in (("clip_tau", t.clip_tau), ("clip_tau_dynamic", t.dynamic_tau), ("patch_tau", t.patch_tau)):
        if k not in given:
            ss[k] = round(float(v), 2)
    ss["rule"] = t.rule
    ss["_op_run"] = ss["run"]
    live.bump()
