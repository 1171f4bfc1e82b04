"""Threshold sweeps agree with the kernel at every threshold, under both rules and in float32 and float64."""
import numpy as np
import pandas as pd
import pytest

from iconicity_core.core import metrics as K
from iconicity_core.core import sweeps


@pytest.mark.parametrize("rule", ["gt", "ge"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exceed_fraction_equals_the_kernel_at_every_threshold(rule, dtype):
    rng = np.random.default_rng(3)
    n = 400
    groups = rng.integers(0, 5, n)
    values = np.round(rng.random((n, 4)), 2).astype(dtype)      # many values sit exactly on a threshold
    taus = np.round(np.linspace(0, 1, 101), 2)
    frac = sweeps.exceed_fraction(groups, values, taus, rule)
    for j, t in enumerate(taus):
        hit = K.passes(values, t, rule)
        for g in range(5):
            assert frac[g, j] == pytest.approx(hit[groups == g].mean()), (t, g)


def test_ranking_stability_is_one_at_the_current_point_and_sees_a_flip():
    grid = pd.DataFrame({"clip_tau": [0.5] * 3 + [0.6] * 3, "patch_tau": [0.5] * 6, "model": list("abc") * 2,
                         "crt": [0.1, 0.2, 0.3, 0.3, 0.2, 0.1]})
    stab = sweeps.ranking_stability(grid, 0.5, 0.5).set_index("clip_tau")["kendall_tau"]
    assert stab[0.5] == pytest.approx(1.0) and stab[0.6] == pytest.approx(-1.0)
