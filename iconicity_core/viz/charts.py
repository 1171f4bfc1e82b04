"""Plotly charts the Python-drawn pages and the exports use (the live views draw their own, web/js/views): the
plane and per-model bars for a paper, lines, heat maps, box plots (drawn from statistics when large), the Map and
the comparison of two runs. Every string from the data goes through :func:`iconicity_core.display.esc`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import config
from ..core import metrics as kernel
from ..display import esc

QUADRANT_COLOURS = dict(zip(kernel.QUADRANTS, config.QUADRANT_COLOURS, strict=True))
METRIC_NAMES = {"cra": "CRA", "vr": "VR", "vi": "VI", "crt": "CRT"}


def _esc_array(values) -> np.ndarray:
    return np.array([esc(v) for v in values], dtype=object)


def _colours_for(names, colours: dict | None) -> dict:
    given = dict(colours or {})
    missing = [n for n in sorted(set(map(str, names))) if n not in given]
    extra = {n: config.PALETTE[(len(given) + i) % len(config.PALETTE)] for i, n in enumerate(missing)}
    return given | extra


def overview_bars(model_df: pd.DataFrame):
    """Per-model macro means, one group of bars per model and metric, one panel per prompt variant."""
    import plotly.graph_objects as go

    variants = sorted(model_df["variant"].unique()) or [""]
    n, gap = len(variants), 0.04
    width = (1 - gap * (n - 1)) / n
    colours = dict(zip(kernel.METRICS, (config.PALETTE[i] for i in (0, 1, 5, 2)), strict=True))
    traces: list = []
    layout: dict[str, Any] = dict(barmode="group", title=dict(text="Per-model macro means over references"),
                              annotations=[], legend=dict(orientation="h", y=-0.15))
    for i, v in enumerate(variants):
        ax = "" if i == 0 else str(i + 1)
        d = model_df[model_df["variant"] == v]
        for metric in kernel.METRICS:
            traces.append(dict(type="bar", x=_esc_array(d["model"]), y=d[metric].to_numpy(float),
                               name=METRIC_NAMES[metric], marker=dict(color=colours[metric]), legendgroup=metric,
                               showlegend=i == 0, xaxis=f"x{ax}", yaxis=f"y{ax}"))
        x0 = i * (width + gap)
        layout[f"xaxis{ax}"] = dict(domain=[x0, x0 + width], anchor=f"y{ax}")
        layout[f"yaxis{ax}"] = dict(range=[0, 1], anchor=f"x{ax}", **({} if i == 0 else {"matches": "y",
                                                                                          "showticklabels": False}))
        layout["annotations"].append(dict(text=f"prompt: {esc(v)}", x=x0 + width / 2, y=1.04, xref="paper",
                                          yref="paper", showarrow=False, xanchor="center"))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


#: Above this many points the scatter's hover shows the slug instead of the title (a lighter payload).
HOVER_TITLES_MAX = 20_000


def overview_scatter(ref_df: pd.DataFrame, colours: dict | None = None, title: str | None = None,
                     height: int | None = None):
    """Recognition x realization, one point per reference and model (WebGL: stays fluid with tens of
    thousands of points), with the four quadrants shaded and named; a point's ``customdata`` is its row
    position in ``ref_df`` (a number: lighter than repeating every slug).
    One trace per model and kind (dynamic references drawn as diamonds)."""
    import plotly.graph_objects as go

    traces = []
    colours = _colours_for(ref_df["model"], colours)
    named = "title" in ref_df and len(ref_df) <= HOVER_TITLES_MAX
    labels = ref_df["title"] if named else ref_df["slug"]
    seen = set()
    for (model, kind), d in ref_df.assign(_label=labels, _row=np.arange(len(ref_df))).groupby(["model", "kind"],
                                                                                               sort=True):
        traces.append(dict(
            type="scattergl", mode="markers", name=esc(model), legendgroup=esc(model), showlegend=model not in seen,
            x=d["cra"].to_numpy(np.float32), y=d["vr"].fillna(0.0).to_numpy(np.float32),
            marker=dict(color=colours[str(model)], size=8, opacity=0.8, line=dict(width=0.5, color="white"),
                        symbol="diamond" if kind == "dynamic" else "circle"),
            customdata=d["_row"].to_numpy(np.int32), text=_esc_array(d["_label"]),
            hovertemplate=f"%{{text}} ({kind})<br>CRA %{{x:.2f}} · VR %{{y:.2f}}<extra>{esc(model)}</extra>"))
        seen.add(model)
    c = kernel.QUADRANT_CUT
    shapes = [dict(type="rect", xref="x", yref="y", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(width=0), layer="below",
                   fillcolor=QUADRANT_COLOURS[q], opacity=0.07)
              for q, (x0, x1, y0, y1) in zip(kernel.QUADRANTS, ((c, 1.03, c, 1.03), (c, 1.03, -0.03, c),
                                                           (-0.03, c, c, 1.03), (-0.03, c, -0.03, c)), strict=True)]
    shapes += [dict(type="line", xref="x", yref="paper", x0=c, x1=c, y0=0, y1=1, line=dict(dash="dot", color="grey")),
               dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=c, y1=c, line=dict(dash="dot", color="grey"))]
    notes = [dict(x=x, y=y, text=f"<b>{q}</b>", showarrow=False, xanchor="right" if x > 0.5 else "left",
                  font=dict(color=QUADRANT_COLOURS[q], size=13))
             for q, (x, y) in zip(kernel.QUADRANTS, ((1.02, 1.02), (1.02, -0.02), (-0.02, 1.02), (-0.02, -0.02)), strict=True)]
    layout = dict(title=dict(text=title or "Recognition × realization  <sup>(● static, ◆ dynamic)</sup>"),
                  xaxis=dict(title=dict(text="recognition: CRA (share of generations recognised)"), range=[-0.03, 1.03]),
                  yaxis=dict(title=dict(text="realization: VR (share of cells reused)"), range=[-0.03, 1.03]),
                  shapes=shapes, annotations=notes,
                  legend=dict(itemsizing="constant", orientation="h", y=-0.18, x=0, yanchor="top"),
                  margin=dict(l=55, r=15, t=40, b=10), **({"height": height} if height else {}))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


def lines(df: pd.DataFrame, x: str, y: str, title: str, vline: float | None = None, color: str = "model",
          colours: dict | None = None, x_title: str | None = None, y_title: str | None = None):
    """One line per ``color`` group (threshold sweeps, ROC curves); ``title`` is code text (not escaped)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    cmap = _colours_for(df[color], colours) if color == "model" else {}
    for name, d in df.groupby(color, sort=True):
        fig.add_scatter(x=d[x], y=d[y], mode="lines", name=esc(name),
                        **({"line": dict(color=cmap[str(name)])} if str(name) in cmap else {}))
    fig.update_layout(title=title, xaxis_title=x_title or x, yaxis_title=y_title or y)
    if vline is not None:
        fig.add_vline(x=vline, line_dash="dot")
    return fig


def heatmap(pivot: pd.DataFrame, title: str, colour: str, scale: str = "viridis", zmin=None, zmax=None,
            x_title: str = "patch τ", y_title: str = "recognition τ"):
    """A labelled heat map of a pivot table (rows: recognition tau, columns: patch tau); empty cells are drawn
    blank (e.g. a Kendall τ that is undefined because every model ties)."""
    import plotly.express as px

    return px.imshow(pivot, text_auto=".2f", origin="lower", aspect="auto", color_continuous_scale=scale,
                     zmin=zmin, zmax=zmax, labels=dict(x=x_title, y=y_title, color=colour), title=esc(title))


#: Above this many values a box plot is drawn from statistics computed here, without its points (the
#: browser would otherwise receive and sort every value on each rerun).
BOX_POINTS_MAX = 5000


def box(long: pd.DataFrame, x: str, y: str, title: str, colours: dict | None = None):
    """Per-model box plots of ``y`` by ``x``: every point drawn when there are few (Plotly computes the
    boxes); above :data:`BOX_POINTS_MAX` values the boxes come from :func:`box_stats` and carry no points."""
    import plotly.graph_objects as go

    fig = go.Figure()
    cmap = _colours_for(long["model"], colours)
    few = len(long) <= BOX_POINTS_MAX
    for model, d in long.groupby("model", sort=True):
        style = dict(name=esc(model), marker=dict(color=cmap[str(model)]))
        if few:
            fig.add_box(x=_esc_array(d[x]), y=d[y], boxpoints="all", text=_esc_array(d.get("slug", d[x])), **style)
        else:
            b = box_stats(d, x, y)
            fig.add_box(x=_esc_array(b.index.to_series()), q1=b["q1"], median=b["median"], q3=b["q3"],
                        lowerfence=b["lowerfence"], upperfence=b["upperfence"], mean=b["mean"], boxpoints=False,
                        **style)
    fig.update_layout(title=title, boxmode="group", yaxis_title=y)
    if not few:
        fig.add_annotation(text=f"{len(long):,} values: boxes only (quartiles; whiskers to the furthest value "
                                "within 1.5 × IQR)", xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                           showarrow=False, font=dict(size=11, color="grey"))
    return fig


def box_stats(d: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per value of ``x``: quartiles of ``y`` (numpy's linear interpolation), mean, and Tukey's whiskers —
    the furthest values within 1.5 × IQR of the box (NaN values left out).

    >>> d = pd.DataFrame({"k": ["a"] * 5, "v": [1.0, 2.0, 3.0, 4.0, 100.0]})
    >>> box_stats(d, "k", "v").loc["a"].tolist()
    [2.0, 3.0, 4.0, 1.0, 4.0, 22.0]
    """
    rows = {}
    for key, g in d.groupby(x, sort=False):
        v = g[y].to_numpy(np.float64)
        v = v[~np.isnan(v)]
        if not len(v):
            continue
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        reach = 1.5 * (q3 - q1)
        rows[key] = (q1, med, q3, v[v >= q1 - reach].min(), v[v <= q3 + reach].max(), v.mean())
    return pd.DataFrame.from_dict(rows, orient="index", columns=["q1", "median", "q3", "lowerfence", "upperfence",
                                                                 "mean"])


def map_scatter(points: pd.DataFrame, colour: str = "model", title: str | None = None, colours: dict | None = None,
                embedder: str = "recognition"):
    """The 2-D map (WebGL): one trace per category of ``colour`` (model, quadrant, label) or a colour
    scale (clip_sim); references drawn as black-edged stars. A point's ``customdata`` is its index in
    ``points`` (a click comes back as that index)."""
    import plotly.graph_objects as go

    traces = []
    rows = points.index.to_numpy()
    refs = (points["role"] == "reference").to_numpy()
    gens = ~refs
    hover = "%{text}<extra></extra>"
    text = _esc_array(points["model"].fillna("reference").astype(str) + " · " + points["slug"].astype(str) + " · s="
                      + points["clip_sim"].map(lambda v: "" if v != v else f"{v:.2f}") + " · VR="
                      + points["vr"].map(lambda v: "" if v != v else f"{v:.2f}"))
    xs, ys = points["x"].to_numpy(np.float32), points["y"].to_numpy(np.float32)
    if colour == "clip_sim":
        traces.append(dict(type="scattergl", mode="markers", name="generated", x=xs[gens], y=ys[gens],
                           customdata=rows[gens], text=text[gens], hovertemplate=hover,
                           marker=dict(size=5, color=points["clip_sim"].to_numpy(np.float32)[gens],
                                       colorscale="Viridis", colorbar=dict(title=f"{esc(embedder)} s"), opacity=0.7)))
    else:
        cats = points[colour].fillna("unlabelled").astype(str)
        cmap = (QUADRANT_COLOURS if colour == "quadrant" else
                _colours_for(cats[gens].unique(), colours if colour == "model" else None))
        for cat in sorted(cats[gens].unique()):
            m = gens & (cats == cat).to_numpy()
            traces.append(dict(type="scattergl", mode="markers", name=esc(cat), x=xs[m], y=ys[m], customdata=rows[m],
                               text=text[m], hovertemplate=hover,
                               marker=dict(size=5, color=cmap.get(cat, "#888888"), opacity=0.7)))
    if refs.any():
        traces.append(dict(type="scattergl", mode="markers", name="reference", x=xs[refs], y=ys[refs],
                           customdata=rows[refs], text=text[refs], hovertemplate=hover,
                           marker=dict(size=12, symbol="star", color="gold", line=dict(color="black", width=1))))
    layout = dict(title=dict(text=title or f"{esc(embedder)} map of {int(gens.sum()):,} generated and {int(refs.sum())} "
                                            "reference images"),
                  dragmode="lasso", xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False),
                  height=620, legend=dict(itemsizing="constant"))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


def compare_scatter(both: pd.DataFrame, metric: str, run_a: str, run_b: str, colours: dict | None = None):
    """Per (model, reference, variant): a metric under run A against run B, with the identity line."""
    import plotly.graph_objects as go

    cmap = _colours_for(both["model"], colours)
    name = METRIC_NAMES.get(metric, metric)
    traces = [dict(type="scattergl", mode="markers", name=esc(m), x=d[f"{metric}_a"].to_numpy(float),
                   y=d[f"{metric}_b"].to_numpy(float), text=_esc_array(d["slug"]),
                   hovertemplate="%{text}<br>A %{x:.2f} · B %{y:.2f}<extra>" + esc(m) + "</extra>",
                   marker=dict(color=cmap[str(m)], size=6, opacity=0.7)) for m, d in both.groupby("model", sort=True)]
    traces.append(dict(type="scatter", mode="lines", x=[0, 1], y=[0, 1], name="A = B", line=dict(dash="dot", color="grey")))
    layout = dict(title=dict(text=f"{name} per reference and model: run {esc(run_a)} vs run {esc(run_b)}"),
                  xaxis=dict(title=dict(text=f"run A ({esc(run_a)})"), range=[-0.03, 1.03]),
                  yaxis=dict(title=dict(text=f"run B ({esc(run_b)})"), range=[-0.03, 1.03]), height=520)
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)
