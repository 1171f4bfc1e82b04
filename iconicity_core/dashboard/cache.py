"""Cached data behind the heavier pages (keyed by the database file's version, so a re-scored
database is read again)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from .. import db as database
from ..config import Filters
from ..core import sweeps
from .widgets import file_version


@st.cache_data(max_entries=4, show_spinner="Loading raw similarities…")
def _sweep_data(path: str, version: tuple, run_id: str, filters: tuple, pooling: str) -> dict:
    con = database.connect(path, read_only=True)
    try:
        images, cells = database.views.raw_images(con, run_id, Filters(*filters))
    finally:
        con.close()
    taus = np.round(np.linspace(0, 1, 101), 2)
    grid_taus = np.round(np.linspace(0.3, 0.9, 7), 2)
    empty = images.empty
    return {"images": images, "cells": cells,
            "cra": None if empty else sweeps.cra_curve(images, taus),
            "vr": None if empty else sweeps.vr_curve(images, cells, taus),
            "grid": None if empty else sweeps.crt_grid(images, cells, grid_taus, grid_taus, pooling)}


def sweep_data(ctx) -> dict:
    """Raw per-image numbers and the threshold sweeps for the Thresholds page, cached per database
    file version, run, filters and pooling (the sweeps do not depend on the current thresholds)."""
    f = ctx.filters
    return _sweep_data(str(ctx.db), file_version(ctx.db), ctx.run_id, (f.models, f.kinds, f.variants, f.slugs),
                       ctx.thresholds.pooling)
