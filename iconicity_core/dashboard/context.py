"""What a page gets from :func:`page`: the chosen database (opened read-only on demand), the score
run and its record, the thresholds and filters, and the allow-lists of the database."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import streamlit as st

from .. import db as database
from ..config import Filters, Thresholds
from . import widgets


@dataclass
class Context:
    db: Path
    run_id: str
    info: dict
    thresholds: Thresholds
    filters: Filters
    options: dict = field(default_factory=dict)
    _con: object = None

    @property
    def con(self):
        """A read-only connection, opened on first use and closed when the page is done."""
        if self._con is None:
            self._con = database.connect(self.db, read_only=True)
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


@contextlib.contextmanager
def page(title: str) -> Iterator[Context]:
    """Set up one page run: the shared sidebar (drawn here when the page runs without ``app.py`` —
    a deep link to a fresh server, or ``AppTest.switch_page``), notices, the title and the provenance
    line; yields a :class:`Context` and closes the database at the end."""
    if not st.session_state.pop(widgets.ENTRY_FLAG, False):
        st.set_page_config(page_title="Iconicity Explorer", layout="wide")
        with st.sidebar:
            widgets.sidebar()
    view = widgets.current_view()
    if view is None:
        st.stop()
    path, choices, info = view
    widgets.show_notices()
    ss = st.session_state
    if ss.get("run") is None:
        st.info("This database has no scores yet — run `iconicity score DATASET --db ...` first.")
        st.stop()
    ctx = Context(path, ss["run"], info,
                  Thresholds(ss["clip_tau"], ss["clip_tau_dynamic"], ss["patch_tau"], ss["pooling"]),
                  Filters(tuple(ss["models"]), tuple(ss["kinds"]), tuple(ss["variants"])), choices)
    try:
        st.title(title)
        widgets.provenance(ctx)
        yield ctx
    finally:
        ctx.close()
