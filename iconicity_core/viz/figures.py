"""Figures for the dashboard and exports: patch-match overlays (PIL) and Plotly charts."""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from ..core.grid import cell_boxes


def _colour(v: float) -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _ = colormaps["viridis"](float(np.clip(v, 0, 1)))
    return int(r * 255), int(g * 255), int(b * 255)


def placeholder(text: str = "image not available", size: int = 224) -> Image.Image:
    im = Image.new("RGB", (size, size), (235, 235, 235))
    ImageDraw.Draw(im).text((10, size // 2 - 6), text, fill=(90, 90, 90))
    return im


def patch_overlay(img: Image.Image, sims: np.ndarray, reused: np.ndarray, rows: int, cols: int,
                  labels: list[str] | None = None, alpha: float = 0.45) -> Image.Image:
    """The image with every grid cell tinted by its similarity; reused cells (``reused``, from the metric
    kernel, so an outline is exactly a cell that VR counts) get a thick outline; ``labels`` (e.g. the
    matched reference cell) are written in the cells."""
    im = img.convert("RGB")
    scale = 448 / max(im.size)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
    over = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    boxes = cell_boxes(im.width, im.height, rows, cols)
    for k, (l, t, r, b) in enumerate(boxes):
        d.rectangle((l, t, r - 1, b - 1), fill=(*_colour(sims[k]), int(255 * alpha)))
    out = Image.alpha_composite(im.convert("RGBA"), over)
    d = ImageDraw.Draw(out)
    for k, (l, t, r, b) in enumerate(boxes):
        hit = bool(reused[k])
        d.rectangle((l, t, r - 1, b - 1), outline=(255, 40, 40) if hit else (255, 255, 255),
                    width=4 if hit else 1)
        text = f"{k}: {sims[k]:.2f}" + (f"\n> {labels[k]}" if labels else "")
        d.multiline_text((l + 4, t + 3), text, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    return out.convert("RGB")


def reference_overlay(img: Image.Image, matched: dict[int, list[int]], rows: int, cols: int) -> Image.Image:
    """A reference image with the cells matched by generated cells outlined and numbered
    (``matched``: reference cell -> generated cells that matched it)."""
    im = img.convert("RGB")
    scale = 448 / max(im.size)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
    d = ImageDraw.Draw(im)
    for k, (l, t, r, b) in enumerate(cell_boxes(im.width, im.height, rows, cols)):
        if k in matched:
            d.rectangle((l, t, r - 1, b - 1), outline=(255, 200, 0), width=4)
            d.text((l + 4, t + 3), f"c{k} <- " + ",".join(map(str, matched[k])), fill=(255, 255, 255),
                   stroke_width=2, stroke_fill=(0, 0, 0))
        else:
            d.rectangle((l, t, r - 1, b - 1), outline=(255, 255, 255), width=1)
    return im


def png_data_uri(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
           "#fecb52")


def _colours(names) -> dict:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(set(names)))}


def overview_bars(model_df: pd.DataFrame):
    """Per-model macro means, one group of bars per model and metric, one panel per prompt variant."""
    import plotly.graph_objects as go

    variants = sorted(model_df["variant"].unique()) or [""]
    n, gap = len(variants), 0.04
    width = (1 - gap * (n - 1)) / n
    colours = _colours(["cra", "vr", "vi", "crt"])
    traces, layout = [], dict(barmode="group", title=dict(text="Per-model macro means"), annotations=[])
    for i, v in enumerate(variants):
        ax = "" if i == 0 else str(i + 1)
        d = model_df[model_df["variant"] == v]
        for metric in ("cra", "vr", "vi", "crt"):
            traces.append(dict(type="bar", x=d["model"].astype(str).to_numpy(object), y=d[metric].to_numpy(float),
                               name=metric, marker=dict(color=colours[metric]), legendgroup=metric,
                               showlegend=i == 0, xaxis=f"x{ax}", yaxis=f"y{ax}"))
        x0 = i * (width + gap)
        layout[f"xaxis{ax}"] = dict(domain=[x0, x0 + width], anchor=f"y{ax}")
        layout[f"yaxis{ax}"] = dict(range=[0, 1], anchor=f"x{ax}", **({} if i == 0 else {"matches": "y",
                                                                                          "showticklabels": False}))
        layout["annotations"].append(dict(text=f"variant={v}", x=x0 + width / 2, y=1.04, xref="paper", yref="paper",
                                          showarrow=False, xanchor="center"))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


#: Above this many points the scatter's hover shows the slug instead of the title (a lighter payload).
HOVER_TITLES_MAX = 20_000


def overview_scatter(ref_df: pd.DataFrame, cra_cut: float = 0.5, vr_cut: float = 0.5):
    """Recognition x realization, one point per reference and model (WebGL: stays fluid with tens of
    thousands of points); a point's ``customdata`` is its slug. One trace per model and kind (dynamic
    references drawn as diamonds)."""
    import plotly.graph_objects as go

    traces = []
    colours = _colours(ref_df["model"])
    named = "title" in ref_df and len(ref_df) <= HOVER_TITLES_MAX
    labels = ref_df["title"] if named else ref_df["slug"]
    for (model, kind), d in ref_df.assign(_label=labels).groupby(["model", "kind"], sort=True):
        traces.append(dict(
            type="scattergl", mode="markers", name=f"{model} ({kind})", legendgroup=model,
            x=d["cra"].to_numpy(np.float32), y=d["vr"].fillna(0.0).to_numpy(np.float32),
            marker=dict(color=colours[model], size=7, opacity=0.75,
                        symbol="diamond" if kind == "dynamic" else "circle"),
            customdata=d["slug"].to_numpy(object), **({"text": d["_label"].astype(str).to_numpy(object)} if named else {}),
            hovertemplate=f"%{{{'text' if named else 'customdata'}}}<br>CRA %{{x:.2f}} · VR %{{y:.2f}}"
                          f"<extra>{model}</extra>"))
    shapes = [dict(type="line", xref="x", yref="paper", x0=cra_cut, x1=cra_cut, y0=0, y1=1, line=dict(dash="dot")),
              dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=vr_cut, y1=vr_cut, line=dict(dash="dot"))]
    notes = [dict(x=x, y=y, text=text, showarrow=False, xanchor="right" if x > 0.5 else "left", font=dict(color="grey"))
             for x, y, text in ((0.98, 0.98, "replicated"), (0.98, 0.02, "reinterpreted"),
                                (0.02, 0.98, "reused unrecognised"), (0.02, 0.02, "missed"))]
    layout = dict(title=dict(text="Recognition × realization (one point per reference and model; ◆ dynamic)"),
                  xaxis=dict(title=dict(text="recognition (CRA)"), range=[-0.03, 1.03]),
                  yaxis=dict(title=dict(text="realization: reuse (VR)"), range=[-0.03, 1.03]),
                  shapes=shapes, annotations=notes)
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


def lines(df: pd.DataFrame, x: str, y: str, title: str, vline: float | None = None, color: str = "model"):
    """One line per ``color`` group (threshold sweeps, ROC curves)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, d in df.groupby(color, sort=True):
        fig.add_scatter(x=d[x], y=d[y], mode="lines", name=str(name))
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y)
    if vline is not None:
        fig.add_vline(x=vline, line_dash="dot")
    return fig


def count_histogram(hist: pd.DataFrame, title: str, vline: float | None = None):
    """Overlaid per-model histograms from precomputed counts (``model, value, count``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for model, d in hist.groupby("model", sort=True):
        fig.add_bar(x=d["value"], y=d["count"], name=model, opacity=0.6)
    fig.update_layout(title=title, barmode="overlay", bargap=0)
    if vline is not None:
        fig.add_vline(x=vline, line_dash="dot")
    return fig


def heatmap(pivot: pd.DataFrame, title: str, colour: str, scale: str = "viridis", zmin=None, zmax=None):
    """A labelled heat map of a pivot table (rows: CLIP tau, columns: patch tau)."""
    import plotly.express as px

    return px.imshow(pivot, text_auto=".2f", origin="lower", aspect="auto", color_continuous_scale=scale,
                     zmin=zmin, zmax=zmax, labels=dict(x="patch τ", y="CLIP τ", color=colour), title=title)


def finding_card(gen: Image.Image, overlay: Image.Image, refs: list[Image.Image], row: dict, scores: dict,
                 thresholds: dict, provenance: dict) -> str:
    """A standalone HTML file (images inlined) to share one finding."""
    e = html.escape
    refs_html = "".join(f'<img src="{png_data_uri(r)}" style="max-width:300px;margin:4px">' for r in refs)
    table = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in
                    {**{k: row.get(k) for k in ("title", "slug", "kind", "model", "variant", "prompt", "seed",
                                                 "relpath")}, **scores}.items())
    th = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in thresholds.items())
    pv = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in provenance.items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Finding: {e(str(row.get('title')))}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}th{{text-align:left;padding-right:1em}}
img{{border:1px solid #ccc}}</style></head><body>
<h1>{e(str(row.get('title')))} — {e(str(row.get('model')))}</h1>
<h2>Generated image and patch matches</h2>
<img src="{png_data_uri(gen)}" style="max-width:340px"> <img src="{png_data_uri(overlay)}" style="max-width:448px">
<h2>Reference image(s)</h2>{refs_html}
<h2>Scores</h2><table>{table}</table><h2>Thresholds</h2><table>{th}</table>
<h2>Embedders (provenance)</h2><table>{pv}</table>
<p style="color:grey">Made with Iconicity Explorer. Red outlines: cells reused (best similarity &gt; patch τ);
numbers: cell index, best similarity and the matched reference cell.</p></body></html>"""


def display_image(path: Path | None) -> Image.Image:
    """An image to *show*: the file decoded safely, or a grey placeholder that says why not.

    For display only — analyses must load with :func:`iconicity_core.io.images.read_and_load` and
    report a missing file, never score a placeholder."""
    if path is None:
        return placeholder()
    try:
        from ..io.images import load_rgb

        return load_rgb(path.read_bytes(), str(path))
    except Exception:
        return placeholder("could not read image")


def correlation_scatter(refs: pd.DataFrame, cov: str, metric: str):
    """One point per reference and model (WebGL), a least-squares trend per model (on log10 of the
    covariate when it is count-like, drawn on a log axis)."""
    import plotly.graph_objects as go

    from ..analysis.correlation import is_count_like

    log_x = is_count_like(refs[cov].to_numpy(float))
    named = "title" in refs and len(refs) <= HOVER_TITLES_MAX
    traces = []
    colours = _colours(refs["model"])
    for model, g in refs.groupby("model", sort=True):
        g = g.dropna(subset=[cov, metric])
        x, y = g[cov].to_numpy(float), g[metric].to_numpy(float)
        traces.append(dict(type="scattergl", mode="markers", name=model, x=x, y=y, marker=dict(color=colours[model]),
                           customdata=g["slug"].to_numpy(object),
                           **({"text": g["title"].astype(str).to_numpy(object)} if named else {}),
                           hovertemplate=f"%{{{'text' if named else 'customdata'}}}<br>{cov} %{{x}} · {metric} %{{y:.2f}}"
                                         f"<extra>{model}</extra>"))
        if len(g) > 2 and np.ptp(x) > 0 and (not log_x or (x > 0).all()):
            xt = np.log10(x) if log_x else x
            a, b = np.polyfit(xt, y, 1)
            xs = np.linspace(xt.min(), xt.max(), 20)
            traces.append(dict(type="scatter", mode="lines", name=f"{model} trend", x=10 ** xs if log_x else xs,
                               y=a * xs + b, line=dict(dash="dot", color=colours[model])))
    layout = dict(title=dict(text=f"{metric.upper()} vs {cov}"), xaxis=dict(title=dict(text=cov),
                  **({"type": "log"} if log_x else {})), yaxis=dict(title=dict(text=metric)))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


def map_scatter(points: pd.DataFrame, colour: str = "model", title: str | None = None):
    """The 2-D map (WebGL): one trace per category of ``colour`` (model, quadrant, label) or a colour
    scale (clip_sim); references drawn as black-edged stars. A point's ``customdata`` is its index in
    ``points`` (a click comes back as that index)."""
    import plotly.graph_objects as go

    traces = []
    rows = points.index.to_numpy()
    refs = (points["role"] == "reference").to_numpy()
    gens = ~refs
    hover = ("%{text}<extra></extra>")
    text = (points["model"].fillna("reference").astype(str) + " · " + points["slug"].astype(str) + " · s="
            + points["clip_sim"].map(lambda v: "" if v != v else f"{v:.2f}") + " · VR="
            + points["vr"].map(lambda v: "" if v != v else f"{v:.2f}")).to_numpy(object)
    if colour == "clip_sim":
        traces.append(dict(type="scattergl", mode="markers", name="generated", x=points["x"].to_numpy(np.float32)[gens],
                           y=points["y"].to_numpy(np.float32)[gens], customdata=rows[gens], text=text[gens],
                           hovertemplate=hover, marker=dict(size=5, color=points["clip_sim"].to_numpy(np.float32)[gens],
                                                            colorscale="Viridis", colorbar=dict(title="CLIP s"),
                                                            opacity=0.7)))
    else:
        cats = points[colour].fillna("unlabelled").astype(str)
        colours = _colours(cats[gens].unique())
        for cat in sorted(cats[gens].unique()):
            m = gens & (cats == cat).to_numpy()
            traces.append(dict(type="scattergl", mode="markers", name=cat, x=points["x"].to_numpy(np.float32)[m],
                               y=points["y"].to_numpy(np.float32)[m], customdata=rows[m], text=text[m],
                               hovertemplate=hover, marker=dict(size=5, color=colours[cat], opacity=0.7)))
    if refs.any():
        traces.append(dict(type="scattergl", mode="markers", name="reference", x=points["x"].to_numpy(np.float32)[refs],
                           y=points["y"].to_numpy(np.float32)[refs], customdata=rows[refs], text=text[refs],
                           hovertemplate=hover, marker=dict(size=12, symbol="star", color="gold",
                                                            line=dict(color="black", width=1))))
    layout = dict(title=dict(text=title or f"CLIP map of {int(gens.sum()):,} generated and {int(refs.sum())} "
                                            "reference images"),
                  dragmode="lasso", xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False),
                  height=620, legend=dict(itemsizing="constant"))
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)


def compare_scatter(both: pd.DataFrame, metric: str, run_a: str, run_b: str):
    """Per (model, reference, variant): a metric under run A against run B, with the identity line."""
    import plotly.graph_objects as go

    colours = _colours(both["model"])
    traces = [dict(type="scattergl", mode="markers", name=m, x=d[f"{metric}_a"].to_numpy(float),
                   y=d[f"{metric}_b"].to_numpy(float), text=d["slug"].to_numpy(object),
                   hovertemplate="%{text}<br>A %{x:.2f} · B %{y:.2f}<extra>" + str(m) + "</extra>",
                   marker=dict(color=colours[m], size=6, opacity=0.7)) for m, d in both.groupby("model", sort=True)]
    traces.append(dict(type="scatter", mode="lines", x=[0, 1], y=[0, 1], name="A = B", line=dict(dash="dot", color="grey")))
    layout = dict(title=dict(text=f"{metric.upper()} per reference and model: run {run_a} vs run {run_b}"),
                  xaxis=dict(title=dict(text=f"run A ({run_a})"), range=[-0.03, 1.03]),
                  yaxis=dict(title=dict(text=f"run B ({run_b})"), range=[-0.03, 1.03]), height=520)
    return go.Figure(dict(data=traces, layout=layout), skip_invalid=True)
