"""The dashboard's in-memory engine equals the SQL (the reference implementation) on every table,
both poolings, static/dynamic thresholds and filters — on the demo and on random databases."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iconicity_core import db
from iconicity_core.config import Filters, Thresholds
from iconicity_core.core import sweeps as S
from iconicity_core.dashboard.engine import Arrays, Engine
from iconicity_core.testing import build_synthetic_db


def _engine(path) -> tuple[Engine, object]:
    con = db.connect(path, read_only=True)
    run = db.runs.latest_score_run(con)
    return Engine(Arrays.from_columns(db.views.engine_arrays(con, run))), con


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("syn") / "s.duckdb"
    build_synthetic_db(path, scale=0.02, seed=3)
    eng, con = _engine(path)
    yield eng, con
    con.close()


@pytest.fixture(scope="module")
def demo(small_demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo_engine") / "d.duckdb"
    shutil.copy(small_demo_db, path)
    eng, con = _engine(path)
    yield eng, con
    con.close()


def assert_same(sql: pd.DataFrame, eng: pd.DataFrame, sort: list[str] | None = None):
    assert list(sql.columns) == list(eng.columns)
    if sort:
        sql, eng = sql.sort_values(sort).reset_index(drop=True), eng.sort_values(sort).reset_index(drop=True)
    assert len(sql) == len(eng)
    for c in sql.columns:
        a, b = sql[c].to_numpy(), eng[c].to_numpy()
        if sql[c].dtype.kind == "f" or eng[c].dtype.kind == "f":
            a, b = pd.to_numeric(sql[c]).to_numpy(float), pd.to_numeric(eng[c]).to_numpy(float)
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=c)
            assert (np.isnan(a) == np.isnan(b)).all(), c
        else:
            assert [None if pd.isna(x) else x for x in a] == [None if pd.isna(x) else x for x in b], c


thresholds = st.builds(Thresholds, clip_tau=st.sampled_from([-1.0, 0.0, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 1.0]),
                       clip_tau_dynamic=st.sampled_from([None, 0.5, 0.75, 0.9]),
                       patch_tau=st.sampled_from([0.0, 0.4, 0.55, 0.6, 0.7, 1.0]),
                       pooling=st.sampled_from(["recognised", "all"]))


def filters(names):
    return st.builds(Filters, models=st.lists(st.sampled_from(names["models"]), unique=True, max_size=2).map(tuple),
                     kinds=st.lists(st.sampled_from(["static", "dynamic"]), unique=True, max_size=1).map(tuple),
                     variants=st.lists(st.sampled_from(names["variants"]), unique=True, max_size=2).map(tuple))


SYN_NAMES = {"models": ["sd15", "sdxl", "flux-schnell"], "variants": ["title", "synonym", "description"]}
DEMO_NAMES = {"models": ["replicator-xl", "painter-2", "noisy-mini"], "variants": ["title", "description"]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=thresholds, f=filters(SYN_NAMES))
def test_engine_equals_sql_on_a_random_database(synthetic, t, f):
    eng, con = synthetic
    _check(eng, con, t, f)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=thresholds, f=filters(DEMO_NAMES))
def test_engine_equals_sql_on_the_demo(demo, t, f):
    eng, con = demo
    _check(eng, con, t, f)


def _check(eng, con, t, f):
    assert_same(db.metrics.metrics_table(con, "reference", t, f), eng.reference_table(t, f))
    assert_same(db.metrics.metrics_table(con, "model", t, f), eng.model_table(t, f))
    sql = db.metrics.metrics_table(con, "image", t, f).drop(columns=["image"])
    sql = sql[["model", "slug", "kind", "variant", "file_id", "clip_sim", "recognised", "vr", "vi", "label"]]
    assert_same(sql, eng.image_table(t, f), sort=["file_id"])


def test_sweeps_equal_the_pure_reference_functions(demo):
    eng, con = demo
    taus = np.round(np.linspace(0, 1, 21), 2)
    grid_taus = np.round(np.linspace(0.3, 0.9, 4), 2)
    images = db.metrics.metrics_table(con, "image").sort_values("file_id").reset_index(drop=True)
    cells = eng.a.cells.astype(np.float64)
    got = eng.sweeps(Filters(), "recognised", taus, grid_taus)
    want_cra = S.cra_curve(images, taus)
    want_vr = S.vr_curve(images, cells, taus)
    for want, name in ((want_cra, "cra"), (want_vr, "vr")):
        m = want.merge(got[name], on=["tau", "model"], suffixes=("_w", "_g"))
        assert len(m) == len(want)
        np.testing.assert_allclose(m[f"{name}_w"], m[f"{name}_g"], atol=1e-12)
    want_grid = S.crt_grid(images, cells, grid_taus, grid_taus, "recognised")
    m = want_grid.merge(got["grid"], on=["clip_tau", "patch_tau", "model"], suffixes=("_w", "_g"))
    assert len(m) == len(want_grid) == len(got["grid"])
    np.testing.assert_allclose(m["crt_w"], m["crt_g"], atol=1e-12)


def test_memory_per_image_is_compact(synthetic):
    eng, _ = synthetic
    assert eng.nbytes / eng.n < 130          # bytes per image with a 4x4 grid (≈ 106 + group codes)
