"""Known answers for the correlation analysis."""
import numpy as np
import pandas as pd
import pytest

from iconicity_core.analysis.correlation import (
    adjust_pvalues,
    correlation_table,
    is_count_like,
    multivariable,
    partial_spearman,
    spearman_ci,
)


def test_monotone_gives_rho_one():
    x = np.linspace(1, 50, 40)
    rho, lo, _hi, n = spearman_ci(x, np.exp(x / 10), 199)
    assert rho == pytest.approx(1.0)
    assert lo == pytest.approx(1.0)
    assert n == 40
    assert spearman_ci(x, -x, 199)[0] == pytest.approx(-1.0)


def test_independent_data_ci_covers_zero():
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        _, lo, hi, _ = spearman_ci(rng.normal(size=40), rng.normal(size=40), n_resamples=199, seed=seed)
        covered += lo <= 0 <= hi
    assert covered >= 180


def test_partial_removes_planted_confounder():
    rng = np.random.default_rng(1)
    popularity = rng.normal(size=400)                       # drives both
    cra = popularity + 0.3 * rng.normal(size=400)
    year = popularity + 0.3 * rng.normal(size=400)
    assert spearman_ci(cra, year, 99)[0] > 0.8
    assert abs(partial_spearman(cra, year, popularity[:, None])) < 0.1
    direct = rng.normal(size=400)                           # a real effect survives the control
    assert partial_spearman(cra + 2 * direct, direct, popularity[:, None]) > 0.5


def test_holm_and_bh_by_hand():
    p = np.array([0.01, 0.02, 0.03, 0.04, 0.20])
    # Holm: sorted p * (m - i), running max: .05, .08, .09, .09 (0.04*2=.08 < .09), .20
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.05, 0.08, 0.09, 0.09, 0.20])
    # BH: p * m / rank, running min from the top: .05, .05, .05, .05, .20
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), [0.05, 0.05, 0.05, 0.05, 0.20])
    assert np.isnan(adjust_pvalues(np.array([np.nan, 0.5]), "holm")[0])


def test_tables_and_models():
    rng = np.random.default_rng(2)
    n = 60
    sitelinks = np.round(np.exp(rng.uniform(np.log(21), np.log(5000), n)))
    sitelinks[:2] = 21, 4000
    year = rng.integers(1900, 2020, n).astype(float)
    logit = 0.8 * (np.log(sitelinks) - np.log(sitelinks).mean())
    cra = 1 / (1 + np.exp(-logit))
    refs = pd.DataFrame({"slug": [f"r{i}" for i in range(n)] * 2, "model": ["a"] * n + ["b"] * n,
                         "sitelinks": np.tile(sitelinks, 2), "year": np.tile(year, 2),
                         "n": 50, "cra": np.tile(np.round(cra * 50) / 50, 2), "vr": rng.random(2 * n),
                         "crt": rng.random(2 * n)})
    t = correlation_table(refs, ["sitelinks", "year"], n_resamples=99)
    assert set(t["model"]) == {"pooled", "a", "b"}
    assert "p_holm" in t
    assert "partial_rho" in t
    row = t[(t.model == "pooled") & (t.metric == "cra") & (t.covariate == "sitelinks")].iloc[0]
    assert row.rho > 0.9
    assert row.p_holm < 0.01
    m = multivariable(refs[refs.model == "a"], ["sitelinks", "year"], "cra").set_index("term")
    assert m.loc["sitelinks", "ci_low"] > 0
    assert m.loc["year", "ci_low"] < 0 < m.loc["year", "ci_high"]
    assert "binomial" in m["model"].iloc[0]
    assert is_count_like(sitelinks)
    assert not is_count_like(year)
