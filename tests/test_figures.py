"""Figures that stay light at scale: what reaches the browser is what the chart needs."""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from helpers import BASELINE, build_small_dataset, cli, fresh_app, save, texture

from iconicity_core import display
from iconicity_core.display import column_label
from iconicity_core.viz import charts


def _long(n_refs: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"model": m, "slug": f"ref{i}", "change": c, "value": rng.normal(0.1 * k, 0.2)}
            for k, m in enumerate(("<b>m1</b>", "m2")) for c in ("ΔCRA", "ΔVR") for i in range(n_refs)]
    long = pd.DataFrame(rows)
    long.loc[::97, "value"] = np.nan                               # references one prompt lacks
    return long


def test_a_large_box_plot_carries_the_statistics_not_the_points():
    long = _long(3000)                                             # 12,000 values, over the points limit
    fig = charts.box(long, "change", "value", "t")
    spec = pio.to_json(fig)
    assert len(spec) < 20_000, len(spec)                          # not every value, not every slug
    for trace in fig.data:
        model = "<b>m1</b>" if "m1" in trace.name else "m2"
        assert trace.name == display.esc(model)
        assert "<b>" not in trace.name
        assert trace.y is None
        assert trace.boxpoints is False
        for i, change in enumerate(trace.x):
            v = long[(long["model"] == model) & (long["change"] == change)]["value"].dropna().to_numpy()
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            iqr = q3 - q1
            assert (trace.q1[i], trace.median[i], trace.q3[i]) == pytest.approx((q1, med, q3))
            assert trace.lowerfence[i] == v[v >= q1 - 1.5 * iqr].min()
            assert trace.upperfence[i] == v[v <= q3 + 1.5 * iqr].max()
            assert trace.mean[i] == pytest.approx(v.mean())


def test_a_small_box_plot_draws_every_point():
    long = _long(50)
    fig = charts.box(long, "change", "value", "t")
    assert sum(len(t.y) for t in fig.data) == len(long)
    assert all(t.boxpoints == "all" for t in fig.data)


# -- 8. dataset text in charts is text ----------------------------------------------------------------------
def test_a_model_name_with_html_is_escaped_in_every_chart(tmp_path, monkeypatch):
    from iconicity_core.dashboard import context  # noqa: F401  (the page context the charts are made in)

    root = build_small_dataset(tmp_path / "ds")
    evil = '<a href="http://evil.invalid/">x</a><img src=x onerror=alert(1)>'
    rel = "generations/extra/mona/e.png"
    save(texture(77), root / rel)
    with open(root / "generations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "model", "slug", "variant", "prompt", "seed"])
        w.writerow([rel, evil, "mona", "title", "Mona", 1])
    database = tmp_path / "e.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all")
    at = fresh_app(database, monkeypatch)
    charts = []
    for page in ("pages/overview.py", "pages/thresholds.py", "pages/map.py", "pages/correlations.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        charts += [c.proto.spec for c in at.get("plotly_chart")]
    text = "\n".join(charts)
    assert "&lt;a href" in text
    assert "<a href" not in text.replace("\\u003c", "<").replace("&lt;", "")


def test_every_table_header_is_in_words():
    for raw, words in (("cra", "CRA"), ("clip_sim", "recognition similarity"), ("n_refs", "references")):
        assert column_label(raw) == words
    assert column_label("some_new_column") == "some new column"                 # nothing shows as snake_case
