"""What a page gets from :func:`page`: the chosen database and its version, the score run and its
record, the thresholds and filters, the allow-lists, and the in-memory metrics engine."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ..analysis.engine import Engine
from ..config import Filters, Thresholds
from . import cache, opening, sidebar, widgets


@dataclass
class Context:
    db: Path
    version: tuple
    run_id: str
    info: dict
    thresholds: Thresholds
    filters: Filters
    options: dict = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        """The run's metrics engine (loaded once per database version, shared by every session)."""
        return cache.engine(str(self.db), self.version, self.run_id)

    @property
    def recognition(self) -> str:
        """The recognition embedder's real name ("CLIP ViT-B-32", "appearance baseline")."""
        from ..display import embedder_name

        return embedder_name(self.info.get("clip_info"))

    @property
    def realization(self) -> str:
        from ..display import embedder_name

        return embedder_name(self.info.get("dino_info"))

    @property
    def colours(self) -> dict[str, str]:
        """One colour per model of the database, the same on every page and chart."""
        from ..display import model_colours

        return model_colours(self.options["models"])

    @property
    def key(self) -> tuple:
        """``(database path, version)``: the first arguments of every :mod:`.cache` read."""
        return str(self.db), self.version


@contextlib.contextmanager
def page(title: str) -> Iterator[Context]:
    """Set up one page run: the shared sidebar (drawn here when the page runs without ``app.py`` —
    a deep link to a fresh server, or ``AppTest.switch_page``), notices, the title and the provenance
    line; yields a :class:`Context`."""
    if not st.session_state.pop(opening.ENTRY_FLAG, False):
        st.set_page_config(page_title="Iconicity Explorer", layout="wide")
        opening.first_start()
        with st.sidebar:
            sidebar.sidebar()
    view = opening.current_view()
    if view is None:
        st.stop()
    path, choices, info = view
    opening.show_notices()
    ss = st.session_state
    if ss.get("run") is None:
        st.info("This database has no scores yet — run `iconicity score DATASET --db ...` first.")
        st.stop()
    ctx = Context(path, cache.file_version(path), ss["run"], info,
                  Thresholds(ss["clip_tau"], ss["clip_tau_dynamic"], ss["patch_tau"], ss["pooling"], ss.get("rule", "gt"),
                             ss.get("match", "any")),
                  Filters(tuple(ss["models"]), tuple(ss["kinds"]), tuple(ss["variants"])), choices)
    widgets.compact()
    st.title(title)
    widgets.provenance(ctx)
    if ctx.engine.n == 0:
        st.info("This run has no scored generated images (yet): add images under generations/<model>/<slug>/ "
                "and run `iconicity score` again — it scores only what is new.")
        st.stop()
    try:
        yield ctx
    finally:
        sidebar.sync_url()                       # what the page chose (an image, a toggle) goes into the link too
