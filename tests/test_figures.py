"""Figures that stay light at scale: what reaches the browser is what the chart needs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from iconicity_core.viz import figures


def _long(n_refs: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"model": m, "slug": f"ref{i}", "change": c, "value": rng.normal(0.1 * k, 0.2)}
            for k, m in enumerate(("<b>m1</b>", "m2")) for c in ("ΔCRA", "ΔVR") for i in range(n_refs)]
    long = pd.DataFrame(rows)
    long.loc[::97, "value"] = np.nan                               # references one prompt lacks
    return long


def test_a_large_box_plot_carries_the_statistics_not_the_points():
    long = _long(3000)                                             # 12,000 values, over the points limit
    fig = figures.box(long, "change", "value", "t")
    spec = pio.to_json(fig)
    assert len(spec) < 20_000, len(spec)                          # not every value, not every slug
    for trace in fig.data:
        model = "<b>m1</b>" if "m1" in trace.name else "m2"
        assert trace.name == figures.esc(model) and "<b>" not in trace.name        # labels from the data escaped
        assert trace.y is None and trace.boxpoints is False
        for i, change in enumerate(trace.x):
            v = long[(long["model"] == model) & (long["change"] == change)]["value"].dropna().to_numpy()
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            iqr = q3 - q1
            assert (trace.q1[i], trace.median[i], trace.q3[i]) == pytest.approx((q1, med, q3))
            assert trace.lowerfence[i] == v[v >= q1 - 1.5 * iqr].min() and trace.upperfence[i] == v[v <= q3 + 1.5 * iqr].max()
            assert trace.mean[i] == pytest.approx(v.mean())


def test_a_small_box_plot_draws_every_point():
    long = _long(50)
    fig = figures.box(long, "change", "value", "t")
    assert sum(len(t.y) for t in fig.data) == len(long) and all(t.boxpoints == "all" for t in fig.data)
