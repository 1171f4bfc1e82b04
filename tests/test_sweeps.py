"""Threshold sweeps agree with the kernel at every threshold, under every rule (the authors' rule per kind) and
in float32 and float64."""
import numpy as np
import pandas as pd
import pytest

from iconicity_core.core import metrics as kernel
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
        hit = kernel.passes(values, t, rule)
        for g in range(5):
            assert frac[g, j] == pytest.approx(hit[groups == g].mean()), (t, g)


@pytest.mark.parametrize("rule", ["gt", "ge"])
def test_group_stats_at_many_thresholds_equal_the_kernel_at_each(rule):
    """One pass gives, at every recognition τ, the kernel's own sufficient statistics (similarities sitting
    exactly on a τ decide by the rule; an empty group stays empty)."""
    rng = np.random.default_rng(4)
    n, n_groups = 600, 7                                        # group 6 has no image
    groups = rng.integers(0, 6, n)
    sims = np.round(rng.random(n), 2)
    sims[:5] = np.nan                                           # NaN is never recognised
    vr = rng.random(n)
    taus = np.round(np.linspace(0.3, 0.9, 7), 2)
    at = sweeps.group_stats_at(groups, sweeps.pass_counts(sims, taus, rule), len(taus), vr, n_groups)
    for j, tau in enumerate(taus):
        want = kernel.group_stats(groups, kernel.passes(sims, tau, rule), vr, n_groups)
        np.testing.assert_array_equal(at[j].n, want.n)
        np.testing.assert_array_equal(at[j].n_rec, want.n_rec)
        np.testing.assert_allclose(at[j].vr_sum, want.vr_sum, rtol=1e-12)
        np.testing.assert_allclose(at[j].vr_rec_sum, want.vr_rec_sum, rtol=1e-12, atol=1e-12)
        for pooling in ("recognised", "all"):
            for k, v in kernel.finish(at[j], pooling).items():
                np.testing.assert_allclose(v, kernel.finish(want, pooling)[k], rtol=1e-12, atol=1e-12, err_msg=(tau, k))


def test_ranking_stability_is_one_at_the_current_point_and_sees_a_flip():
    grid = pd.DataFrame({"clip_tau": [0.5] * 3 + [0.6] * 3, "patch_tau": [0.5] * 6, "model": list("abc") * 2,
                         "crt": [0.1, 0.2, 0.3, 0.3, 0.2, 0.1]})
    stab = sweeps.ranking_stability(grid, 0.5, 0.5).set_index("clip_tau")["kendall_tau"]
    assert stab[0.5] == pytest.approx(1.0)
    assert stab[0.6] == pytest.approx(-1.0)


@pytest.mark.parametrize("rule", ["gt", "ge", "authors"])
def test_sweeps_by_kind_equal_the_kernel_on_float32_similarities_sitting_on_each_threshold(rule):
    """Similarities that are float32 values of the grid's thresholds (0.699999988 for 0.70): under the authors'
    rule they pass for a static work and fail for a dynamic one; the one-pass counts say the same per kind."""
    rng = np.random.default_rng(6)
    n, n_groups = 800, 5
    groups = rng.integers(0, n_groups, n)
    taus = np.round(np.linspace(0, 1, 101), 2)
    sims = np.where(rng.random(n) < 0.5, np.round(rng.random(n), 2).astype(np.float32).astype(np.float64),
                    np.round(rng.random(n), 2))
    dynamic = rng.random(n) < 0.5
    vr = rng.random(n)
    counts = sweeps.pass_counts(sims, taus, rule, dynamic)
    frac = sweeps.exceed_fraction(groups, sims, taus, rule, dynamic)
    at = sweeps.group_stats_at(groups, counts, len(taus), vr, n_groups)
    differ = 0
    for j, tau in enumerate(taus):
        hit = kernel.passes(sims, tau, rule, dynamic)
        np.testing.assert_array_equal(counts > j, hit, err_msg=str(tau))
        np.testing.assert_array_equal(at[j].n_rec, kernel.group_stats(groups, hit, vr, n_groups).n_rec)
        for g in range(n_groups):
            assert frac[g, j] == pytest.approx(hit[groups == g].mean()), (tau, g)
        differ += int((hit != kernel.passes(sims, tau, rule)).sum())          # the same values, kind not said
    assert (differ > 0) == (rule == "authors")       # the per-kind comparison is exercised, and only there
    static = np.full(2, float(np.float32(0.7)))
    assert sweeps.pass_counts(static, taus, "authors", np.array([False, True])).tolist() == [71, 70]
