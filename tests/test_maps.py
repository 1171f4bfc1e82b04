"""The Map's stored projections (``DB.maps/``): a sidecar that is broken, reordered or replaced by something else
is recomputed or ignored, never trusted."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import APP, BASELINE, cli, invoke
from streamlit.testing.v1 import AppTest

from iconicity_core import db
from iconicity_core.analysis import maps


def _load_map(database):
    """The stored PCA map of the database's default run, as the dashboard loads it: (frame or None, why not)."""
    con = db.connect(database, read_only=True)
    run = db.runs.resolve(con, None)
    ids = set(db.views.map_files(con, run)["image_id"].dropna())
    con.close()
    return maps.load(database, run, "pca", ids)


# -- 5. a structurally wrong map sidecar is recomputed, never trusted -------------------------------------
@pytest.fixture
def mapped(small_dataset, tmp_path):
    database = tmp_path / "m.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    cli("map", "--db", database)
    return database, next((tmp_path / "m.duckdb.maps").glob("*.parquet"))


BREAKS = {
    "renamed column": lambda df: df.rename(columns={"x": "px"}),
    "missing column": lambda df: df.drop(columns=["y"]),
    "strings": lambda df: df.assign(x=df["x"].astype(str)),
    "lists": lambda df: df.assign(y=[[v] for v in df["y"]]),
    "duplicated": lambda df: pd.concat([df, df, df], ignore_index=True),
    "foreign ids": lambda df: df.assign(image_id="img-" + df["image_id"]),
    "not finite": lambda df: df.assign(x=np.inf),
}


@pytest.mark.parametrize("how", list(BREAKS))
def test_a_broken_map_sidecar_is_recomputed(mapped, how):
    database, parquet = mapped
    good = pd.read_parquet(parquet)
    BREAKS[how](good).to_parquet(parquet)
    stored, why = _load_map(database)
    assert stored is None
    assert why
    at = _map_page(database)
    assert any("computed again" in w.value for w in at.warning), [w.value for w in at.warning]
    fixed = pd.read_parquet(parquet)
    pd.testing.assert_frame_equal(fixed.sort_values("image_id").reset_index(drop=True),
                                  good.sort_values("image_id").reset_index(drop=True), check_exact=False)
    cli("map", "--db", database)                                   # `iconicity map` over it works too


def test_a_reordered_map_sidecar_still_places_each_image_where_it_was(mapped):
    database, parquet = mapped
    good = pd.read_parquet(parquet)
    good.iloc[::-1].to_parquet(parquet)
    stored, why = _load_map(database)
    assert why is None
    assert stored.set_index("image_id").loc[good["image_id"]].reset_index().equals(good)


def test_a_folder_or_file_in_the_maps_place_does_not_break_the_map(mapped):
    database, parquet = mapped
    parquet.unlink()
    parquet.mkdir()                                              # a directory where the map file goes
    at = _map_page(database)
    assert not at.exception
    assert any("is not a file" in w.value or "could not be stored" in w.value for w in at.warning)
    shutil.rmtree(parquet.parent)
    parquet.parent.write_text("not a folder")                   # <db>.maps is a file
    at = _map_page(database)
    assert not at.exception
    assert any("could not be stored" in w.value for w in at.warning)
    r = invoke("map", "--db", database)
    assert r.exit_code == 2
    assert "could not be stored" in r.output


def _map_page(database) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    os.environ["ICONICITY_DB"] = str(database)
    try:
        at = AppTest.from_file(APP, default_timeout=180).run()
        at.switch_page("pages/map.py").run()
    finally:
        os.environ.pop("ICONICITY_DB", None)
    assert not at.exception, [e.value for e in at.exception]
    return at
