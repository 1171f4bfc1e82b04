"""Threshold sweeps agree with the metric definitions at every threshold."""
import numpy as np
import pandas as pd
import pytest

from iconicity_core.core import metrics as M
from iconicity_core.core import sweeps


@pytest.fixture()
def data():
    rng = np.random.default_rng(3)
    n = 300
    images = pd.DataFrame({"model": rng.choice(["a", "b"], n), "slug": rng.choice(["x", "y", "z"], n),
                           "kind": "static", "variant": "title", "clip_sim": np.round(rng.random(n), 2)})
    return images, np.round(rng.random((n, 16)), 2)


def test_curves_match_direct_computation(data):
    images, cells = data
    taus = np.round(np.linspace(0, 1, 21), 2)       # includes values equal to data (strictness matters)
    cra = sweeps.cra_curve(images, taus).set_index(["model", "tau"])["cra"]
    vr = sweeps.vr_curve(images, cells, taus).set_index(["model", "tau"])["vr"]
    for t in taus:
        for model, g in images.groupby("model"):
            per_ref = [M.cra(gg["clip_sim"].to_numpy(), t) for _, gg in g.groupby("slug")]
            assert cra[(model, t)] == pytest.approx(np.mean(per_ref))
            per_ref = [M.visual_reuse(cells[gg.index], t).mean() for _, gg in g.groupby("slug")]
            assert vr[(model, t)] == pytest.approx(np.mean(per_ref))


def test_model_metrics_and_ranking(data):
    images, cells = data
    m = sweeps.model_metrics(images, cells, 0.5, 0.5).set_index("model")
    for model, g in images.groupby("model"):
        crts = [M.crt(gg["clip_sim"].to_numpy(), cells[gg.index], 0.5, 0.5) for _, gg in g.groupby("slug")]
        assert m.loc[model, "crt"] == pytest.approx(np.mean(crts))
    grid = sweeps.crt_grid(images, cells, np.array([0.4, 0.5]), np.array([0.4, 0.5]))
    stab = sweeps.ranking_stability(grid, 0.5, 0.5)
    assert stab.set_index(["clip_tau", "patch_tau"]).loc[(0.5, 0.5), "kendall_tau"] == pytest.approx(1.0)
