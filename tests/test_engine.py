"""The in-memory engine equals the SQL of `iconicity metrics` on every table, every rule, both poolings,
both matching modes, static/dynamic thresholds and filters — on the demo and on random databases; and its
other paths (map-selection means, sweeps) equal the same computation from SQL."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iconicity_core import db
from iconicity_core.analysis.engine import Arrays, Engine
from iconicity_core.config import Filters, Thresholds
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
                       pooling=st.sampled_from(["recognised", "all"]), rule=st.sampled_from(["gt", "ge", "authors"]),
                       match=st.sampled_from(["any", "same-position"]))


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
    refs = db.metrics_sql.metrics_table(con, "reference", t, f)
    assert_same(refs, eng.reference_table(t, f))
    assert_same(db.metrics_sql.metrics_table(con, "model", t, f), eng.model_table(t, f))
    sql = db.metrics_sql.metrics_table(con, "image", t, f).drop(columns=["image"])
    sql = sql[["model", "slug", "kind", "variant", "file_id", "clip_sim", "recognised", "vr", "vi", "label"]]
    assert_same(sql, eng.image_table(t, f), sort=["file_id"])
    # the Map selection's scores: macro means over the (model, reference, variant) groups of the subset
    got = eng.subset_means(t, eng.mask(f))
    assert got["images"] == len(sql)
    assert got["groups"] == len(refs)
    for m in ("cra", "vr", "vi", "crt"):
        want = refs[m].mean()             # pandas leaves NaN out, as the macro mean does
        assert (np.isnan(got[m]) and pd.isna(want)) or got[m] == pytest.approx(want, rel=1e-12, abs=1e-15), m


@pytest.mark.parametrize("rule", ["gt", "ge", "authors"])
def test_sweeps_equal_the_sql_metrics_at_every_grid_point(demo, rule):
    """The curves and the CRT grid (variants pooled, one CLIP τ for both kinds) equal `metrics --by model`
    at those thresholds on one prompt variant, where pooling variants changes nothing."""
    eng, con = demo
    f = Filters(variants=("title",))
    taus = np.round(np.linspace(0, 1, 11), 2)
    grid_taus = np.round(np.linspace(0.3, 0.9, 4), 2)
    for match in ("any", "same-position"):
        got = eng.sweeps(f, Thresholds(rule=rule, match=match, pooling="recognised"), taus, grid_taus)
        for tau in taus:
            sql = db.metrics_sql.metrics_table(con, "model", Thresholds(tau, None, tau, "all", rule, match), f)
            sql = sql[sql["kind"] == "all"].set_index("model")
            for name in ("cra", "vr"):
                curve = got[name][got[name]["tau"] == tau].set_index("model")[name]
                np.testing.assert_allclose(curve.sort_index(), sql[name].sort_index(), atol=1e-12, err_msg=(name, tau))
        for (ct, pt), g in got["grid"].groupby(["clip_tau", "patch_tau"]):
            sql = db.metrics_sql.metrics_table(con, "model", Thresholds(ct, None, pt, "recognised", rule, match), f)
            sql = sql[sql["kind"] == "all"].set_index("model")["crt"]
            np.testing.assert_allclose(g.set_index("model")["crt"].sort_index(), sql.sort_index(), atol=1e-12)


def test_memory_per_image_is_compact(synthetic):
    eng, _ = synthetic
    assert eng.nbytes / eng.n < 200          # bytes per image with a 4x4 grid, both matching modes (≈ 170)


@pytest.fixture(scope="module")
def on_the_cut(tmp_path_factory):
    """A random database whose CLIP similarities sit on and around τ = 0.70 (and 0.55 for dynamic works):
    float32(τ), τ, the float64 and float32 neighbours, and the float32 rounding midpoint."""
    path = tmp_path_factory.mktemp("cut") / "c.duckdb"
    build_synthetic_db(path, scale=0.01, seed=5)
    values = []
    for tau in (0.70, 0.55):
        t32 = np.float32(tau)
        lo = np.nextafter(t32, np.float32(0))
        mid = (float(lo) + float(t32)) / 2
        values += [float(t32), tau, np.nextafter(tau, 0), np.nextafter(tau, 1), float(lo), mid,
                   np.nextafter(mid, 0), np.nextafter(mid, 1)]
    con = db.connect(path)
    ids = [r[0] for r in con.execute("SELECT file_id FROM clip_sims ORDER BY file_id").fetchall()]
    con.executemany("UPDATE clip_sims SET sim = ? WHERE file_id = ?",
                    [(values[i % len(values)], fid) for i, fid in enumerate(ids)])
    con.close()
    eng, con = _engine(path)
    yield eng, con
    con.close()


@pytest.mark.parametrize("rule", ["gt", "ge", "authors"])
def test_engine_sql_and_sweeps_agree_on_similarities_sitting_on_the_cut(on_the_cut, rule):
    """Every path decides a similarity on τ as the kernel's cut for its kind does; under the authors' rule
    float32(0.70) = 0.699999988 is recognised for a static work and not for a dynamic one."""
    from iconicity_core.core import metrics as kernel
    from iconicity_core.core.sweeps import pass_counts

    eng, con = on_the_cut
    t = Thresholds(0.70, 0.55, 0.6, "all", rule)
    _check(eng, con, t, Filters())
    img = db.metrics_sql.metrics_table(con, "image", t)
    dyn = (img["kind"] == "dynamic").to_numpy()
    want = kernel.passes(img["clip_sim"].to_numpy(), np.where(dyn, 0.55, 0.70), rule, dyn if rule == "authors" else None)
    np.testing.assert_array_equal(img["recognised"].to_numpy(bool), want)
    static, dynamic = img[~dyn], img[dyn]
    on32 = static[static["clip_sim"] == float(np.float32(0.70))]       # float32(0.70) < 0.70
    just_below = dynamic[dynamic["clip_sim"] == np.nextafter(0.55, 0)]  # rounds to float32(0.55) > 0.55
    assert len(on32)
    assert len(just_below)
    assert on32["recognised"].tolist() == [rule == "authors"] * len(on32)  # passes for a static work under authors
    assert not just_below["recognised"].any()                           # a dynamic work compares in float64
    # the one-byte grid counts (what the shareable page embeds) decide as the tables do, per kind
    grid = np.round(np.linspace(0, 1, 101), 2)
    counts = pass_counts(eng.a.clip, grid, rule, eng.a.dynamic[eng.a.slug])
    eng_t = Thresholds(0.70, 0.70, 0.6, "all", rule)
    np.testing.assert_array_equal(counts > 70, eng.recognised(eng_t))
    # the curves at τ = 0.70 (one τ for both kinds; one prompt variant, which the curves pool) equal the SQL there
    f = Filters(variants=("title",))
    got = eng.sweeps(f, Thresholds(rule=rule, pooling="recognised"), np.array([0.69, 0.70, 0.71]), np.array([0.7]))
    sql = db.metrics_sql.metrics_table(con, "model", Thresholds(0.70, None, 0.7, "all", rule), f).query("kind == 'all'")
    curve = got["cra"][got["cra"]["tau"] == 0.70].set_index("model")["cra"].sort_index()
    np.testing.assert_allclose(curve, sql.set_index("model")["cra"].sort_index(), atol=1e-12)
