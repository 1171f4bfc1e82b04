"""The browser's kernel (``iconicity_core/web/js``) run in Node on payloads Python wrote, held against the Python
kernel (the in-memory engine, which ``tests/test_engine.py`` holds against the SQL of ``iconicity metrics``):
every table, curve and grid to 1e-9 — both rules, both poolings, both matchings, every grid threshold, filters,
and the edge cases (nothing recognised, one model, a 16x16 grid, names with commas, a dynamic-only run). Fast
tier: no browser."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from iconicity_core.analysis.correlation import correlation_table
from iconicity_core.analysis.engine import Arrays, Engine
from iconicity_core.config import Filters, Thresholds
from iconicity_core.core.sweeps import TAU_GRID, pass_counts, ranking_stability
from iconicity_core.web import payload as wp
from iconicity_core.web.text import texts

NODE = shutil.which("node")
RUNNER = Path(__file__).parent / "js" / "run_kernel.mjs"
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get install nodejs)")
INFO = {"grid": "4x4", "clip_info": {"family": "open_clip", "model": "ViT-B-32"},
        "dino_info": {"family": "dinov3", "model": "facebook/dinov3-vits16-pretrain-lvd1689m"}, "run_id": "r1"}


def random_engine(seed: int, n: int = 3000, models=("m-a", "m-b", "m-c"), n_slugs: int = 12, variants=("title", "synonym"),
                  k: int = 16, dynamic_share: float = 0.5, same_differs: bool = True) -> Engine:
    """Random arrays of a run: similarities spread over [−0.1, 1.1] with many values on the grid and next to it
    (where the rules differ), every (model, reference, variant) group not always present."""
    rng = np.random.default_rng(seed)
    slugs = [f"s{i:02d}" for i in range(n_slugs)]
    grid32 = TAU_GRID.astype(np.float32)

    def sims(size):
        v = rng.uniform(-0.1, 1.1, size).astype(np.float32)
        on = rng.random(size) < 0.3
        v[on] = rng.choice(grid32, on.sum())                      # exactly on a threshold: > and >= differ
        return v
    cells = sims((n, k))
    same = sims((n, k)) if same_differs else cells
    clip = sims(n).astype(np.float64)                 # float32 values in float64: on the authors' static cut too
    on = rng.random(n) < 0.2
    clip[on] = rng.choice(TAU_GRID, on.sum())          # exactly on a threshold in float64
    order = np.argsort(rng.random(n))
    return Engine(Arrays(np.array([f"{i:016x}".encode() for i in range(n)], dtype="S16"),
                         rng.integers(0, len(models), n).astype(np.int16)[order],
                         rng.integers(0, n_slugs, n).astype(np.int32), rng.integers(0, len(variants), n).astype(np.int16),
                         np.full(n, -1, np.int8), clip, cells, same, rng.random(n_slugs) < dynamic_share,
                         sorted(models), slugs, sorted(variants), []))


def _refs(eng: Engine, seed: int) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    ns = len(eng.a.slugs)
    refs = pd.DataFrame({"slug": eng.a.slugs, "title": [f"Work, number {i}" for i in range(ns)],
                         "sitelinks": rng.integers(20, 400, ns).astype(float), "year": rng.integers(1500, 2020, ns).astype(float),
                         "ties": np.repeat([1.0, 2.0, 3.0], -(-ns // 3))[:ns]}).set_index("slug")
    refs.loc[refs.index[0], "year"] = np.nan
    return refs, ["sitelinks", "year", "ties"]


def run_node(eng: Engine, rule: str, cases: list[dict], tmp_path: Path, refs=None, covs=None) -> list[dict]:
    refs, covs = (refs, covs) if refs is not None else _refs(eng, 0)
    op = Thresholds(0.5, None, 0.6, rule=rule)
    p = wp.build(eng, refs, covs, INFO, op, texts(INFO, rule), {m: "#000" for m in eng.a.models}, bootstrap=9)
    (tmp_path / "p.bin").write_bytes(p.container())
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    r = subprocess.run([NODE, str(RUNNER), str(tmp_path / "p.bin"), str(tmp_path / "cases.json")], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _thresholds(p: dict, rule: str) -> Thresholds:
    return Thresholds(p.get("clip_tau", 0.5), p.get("clip_tau_dynamic"), p.get("patch_tau", 0.6), p.get("pooling", "recognised"),
                      rule, p.get("match", "any"))


def _filters(p: dict) -> Filters:
    return Filters(tuple(p.get("models", ())), tuple(p.get("kinds", ())), tuple(p.get("variants", ())))


def same_rows(got: list[dict], want: pd.DataFrame) -> None:
    want = json.loads(want.to_json(orient="records"))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert set(g) == set(w), (g, w)
        for k, v in w.items():
            if isinstance(v, float) or isinstance(g[k], float):
                assert (v is None) == (g[k] is None), (k, g, w)
                assert v is None or abs(g[k] - v) <= 1e-9, (k, g, w)
            else:
                assert g[k] == v, (k, g, w)


SETTINGS = [
    {},
    {"clip_tau": 0.3, "clip_tau_dynamic": 0.55, "patch_tau": 0.4, "pooling": "all"},
    {"clip_tau": 0.62, "patch_tau": 0.75, "match": "same-position"},
    {"clip_tau": 0.0, "clip_tau_dynamic": 1.0, "patch_tau": 0.0, "pooling": "recognised"},
    {"clip_tau": 1.0, "clip_tau_dynamic": 1.0, "patch_tau": 1.0},                       # nothing recognised
    {"clip_tau": 0.45, "patch_tau": 0.5, "models": ["m-a", "m-c"], "kinds": ["static"], "variants": ["title"]},
    {"clip_tau": 0.45, "patch_tau": 0.5, "kinds": ["dynamic"], "pooling": "all", "match": "same-position"},
]


@pytest.mark.parametrize("rule", ["gt", "ge", "authors"])
def test_tables_equal_the_python_kernel(rule, tmp_path):
    eng = random_engine(1)
    cases = [{"params": s, "model": True, "reference": True} for s in SETTINGS]
    for got, s in zip(run_node(eng, rule, cases, tmp_path), SETTINGS, strict=True):
        t, f = _thresholds(s, rule), _filters(s)
        same_rows(got["model"], eng.model_table(t, f))
        same_rows(got["reference"], eng.reference_table(t, f))


@pytest.mark.parametrize("rule", ["gt", "ge", "authors"])
def test_every_grid_threshold(rule, tmp_path):
    """Each of the 101 recognition τ (static and dynamic) and patch τ, under both matchings."""
    eng = random_engine(2, n=1500)
    settings = [{"clip_tau": float(t), "clip_tau_dynamic": float(TAU_GRID[-1 - j]), "patch_tau": float(t),
                 "match": "any" if j % 2 else "same-position", "pooling": "all" if j % 3 else "recognised"}
                for j, t in enumerate(TAU_GRID)]
    got = run_node(eng, rule, [{"params": s, "model": True} for s in settings], tmp_path)
    for g, s in zip(got, settings, strict=True):
        same_rows(g["model"], eng.model_table(_thresholds(s, rule), Filters()))


@pytest.mark.parametrize("match", ["any", "same-position"])
def test_curves_crt_grid_and_ranking_stability(match, tmp_path):
    eng = random_engine(3)
    taus = TAU_GRID[::5]
    s = {"clip_tau": 0.55, "patch_tau": 0.65, "match": match, "pooling": "all" if match == "any" else "recognised"}
    (got,) = run_node(eng, "ge", [{"params": s, "curves": True, "grid": taus.tolist()}], tmp_path)
    t = _thresholds(s, "ge")
    sw = eng.sweeps(Filters(), t, TAU_GRID, taus)
    for name in ("cra", "vr"):
        for m, d in sw[name].groupby("model"):
            np.testing.assert_allclose(got["curves"][name][m], d.sort_values("tau")[name].to_numpy(), atol=1e-9)
    grid = sw["grid"]
    for m in got["grid"]["models"]:
        want = grid[grid["model"] == m].pivot(index="clip_tau", columns="patch_tau", values="crt").to_numpy()
        np.testing.assert_allclose(np.array(got["grid"]["crt"][m], float), want, atol=1e-9)
    stab = ranking_stability(grid, t.clip_tau, t.patch_tau).pivot(index="clip_tau", columns="patch_tau",
                                                                    values="kendall_tau").to_numpy()
    np.testing.assert_allclose(np.array(got["stability"], float), stab, atol=1e-9)     # NaN where undefined, on both


@pytest.mark.parametrize("match", ["any", "same-position"])
def test_distributions_are_the_shares_of_each_byte(match, tmp_path):
    """The Thresholds page's spreads: per model, the share of images (cells) that pass exactly q grid thresholds."""
    eng = random_engine(11)
    s = {"match": match, "kinds": ["static"]}
    (got,) = run_node(eng, "gt", [{"params": s, "distributions": True}], tmp_path)
    a = eng.a
    keep = eng.mask(_filters(s))
    for m, name in enumerate(a.models):
        rows = keep & (a.model == m)
        clip = np.bincount(pass_counts(a.clip[rows], TAU_GRID, "gt"), minlength=102) / rows.sum()
        cells = np.bincount(pass_counts(eng.cells(match)[rows].ravel(), TAU_GRID, "gt").ravel(), minlength=102)
        np.testing.assert_allclose(got["distributions"]["clip"][name], clip, atol=1e-12)
        np.testing.assert_allclose(got["distributions"]["cells"][name], cells / cells.sum(), atol=1e-12)


def test_correlations_equal_the_analysis_module(tmp_path):
    eng = random_engine(4, n_slugs=30)
    refs, covs = _refs(eng, 4)
    settings = [{"clip_tau": 0.5, "patch_tau": 0.6}, {"clip_tau": 0.35, "patch_tau": 0.7, "pooling": "all"}]
    got = run_node(eng, "gt", [{"params": s, "correlations": "title"} for s in settings], tmp_path, refs, covs)
    for g, s in zip(got, settings, strict=True):
        table = eng.reference_table(_thresholds(s, "gt"))
        table = table[table["variant"] == "title"].merge(refs.reset_index(), on="slug")
        want = correlation_table(table, covs, n_resamples=9).set_index(["model", "metric", "covariate"])
        rows = {(r["model"], r["metric"], r["covariate"]): r for r in g["correlations"]}
        assert len(rows) == len(want) == (1 + 3) * 3 * len(covs)
        for key, w in want.iterrows():
            assert rows[key]["n_refs"] == w["n_refs"], key
            assert (rows[key]["rho"] is None) == bool(np.isnan(w["rho"])), key
            assert rows[key]["rho"] is None or abs(rows[key]["rho"] - w["rho"]) <= 1e-9, key


def test_edge_cases(tmp_path):
    """One model; a 16x16 grid (more reused cells than a byte holds); a 3x3 grid (cells not a multiple of four: the
    byte-by-byte count); names with commas; a dynamic-only run."""
    for eng in (random_engine(5, models=("only",)), random_engine(6, n=400, k=256), random_engine(10, n=500, k=9),
                random_engine(7, models=("a,b", "c, d", 'e"f')), random_engine(8, dynamic_share=1.0)):
        cases = [{"params": s, "model": True, "reference": True} for s in SETTINGS[:4]]
        for got, s in zip(run_node(eng, "gt", cases, tmp_path), SETTINGS[:4], strict=True):
            same_rows(got["model"], eng.model_table(_thresholds(s, "gt"), Filters()))
            same_rows(got["reference"], eng.reference_table(_thresholds(s, "gt"), Filters()))


def test_the_reading_names_what_the_table_shows(tmp_path):
    """Reinterprets most: the recognised model with the lowest VR; replicates most: the highest; one sentence when
    nothing or only one model is recognised."""
    eng = random_engine(9, models=("m-a", "m-b", "m-c", "m-d"))
    settings = [{"clip_tau": c, "clip_tau_dynamic": c, "patch_tau": p, "pooling": pool}
                for c in (0.2, 0.5, 0.8, 1.0) for p in (0.3, 0.7) for pool in ("recognised", "all")]
    cases = [{"params": s, "model": True, "reading": {"kind": "all", "variant": "title"}} for s in settings]
    for got, s in zip(run_node(eng, "gt", cases, tmp_path), settings, strict=True):
        rows = eng.model_table(_thresholds(s, "gt"))
        rows = rows[(rows["kind"] == "all") & (rows["variant"] == "title")]
        rec = rows[(rows["cra"] > 0) & rows["vr"].notna()]
        r = got["reading"]
        if rec.empty:
            assert r["case"] == "none"
            assert r["sentence"] == "Nothing is recognised with these settings."
        elif len(rec) == 1:
            assert r["case"] == "one"
            assert r["one"] == rec["model"].iloc[0]
            assert r["sentence"].startswith("Only ")
        else:
            assert r["reinterprets"] == rec.loc[rec["vr"].idxmin(), "model"]
            assert r["replicates"] == rec.loc[rec["vr"].idxmax(), "model"]
            assert r["sentence"].startswith(f"{r['reinterprets']} reinterprets most")
            assert f"{r['replicates']} replicates most" in r["sentence"]
