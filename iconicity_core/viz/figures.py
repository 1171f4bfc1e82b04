"""Figures for the dashboard and exports: patch-match overlays (PIL) and Plotly charts.

Two rules hold for every chart here:

* **Text from the data is text.** Plotly renders a subset of HTML in trace names, hover text, titles and
  annotations (``<a href>``, ``<b>``, ``<br>``) and fills ``%{...}`` in hover templates, so every string that
  comes from a dataset (model names, titles, slugs, covariate names, run ids) goes through :func:`esc`.
* **One colour per model**, fixed for a database: :func:`model_colours` over the database's whole model
  list (not the filtered subset), from a colour-blind-safe palette (Okabe & Ito, then Tol's muted).
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from .. import config
from ..core import metrics as K
from ..core.display import PALETTE, esc, model_colours  # noqa: F401  (the one escaping helper and palette)
from ..core.grid import cell_boxes

#: Colours of the quadrants of the recognition x realization plane.
QUADRANT_COLOURS = dict(zip(K.QUADRANTS, config.QUADRANT_COLOURS, strict=True))
METRIC_NAMES = {"cra": "CRA", "vr": "VR", "vi": "VI", "crt": "CRT"}


def _esc_array(values) -> np.ndarray:
    return np.array([esc(v) for v in values], dtype=object)


def _colours_for(names, colours: dict | None) -> dict:
    given = dict(colours or {})
    missing = [n for n in sorted(set(map(str, names))) if n not in given]
    extra = {n: PALETTE[(len(given) + i) % len(PALETTE)] for i, n in enumerate(missing)}
    return given | extra


def _colour(v: float, cmap: str = "viridis") -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _ = colormaps[cmap](float(np.clip(v, 0, 1)))
    return int(r * 255), int(g * 255), int(b * 255)


def placeholder(text: str = "image not available", size: int = 224) -> Image.Image:
    im = Image.new("RGB", (size, size), (235, 235, 235))
    ImageDraw.Draw(im).text((10, size // 2 - 6), text, fill=(90, 90, 90))
    return im


def _fit(img: Image.Image, side: int) -> Image.Image:
    im = img.convert("RGB")
    scale = side / max(im.size)
    return im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))


def patch_overlay(img: Image.Image, sims: np.ndarray, reused: np.ndarray, rows: int, cols: int,
                  labels: list[str] | None = None, alpha: float = 0.45, side: int = 448) -> Image.Image:
    """The image with every grid cell tinted by its similarity (viridis, 0 → 1: :func:`colour_scale`) at
    opacity ``alpha``; reused cells (``reused``, from the metric kernel, so an outline is exactly a cell
    that VR counts) get a thick red outline; ``labels`` (e.g. the matched reference cell) are written in."""
    im = _fit(img, side)
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


def colour_scale(width: int = 448, height: int = 48, label: str = "cell similarity") -> Image.Image:
    """The legend of :func:`patch_overlay`'s tint: viridis from 0 to 1 with ticks, its label on a line of its own
    (never over a tick)."""
    im = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(im)
    bar_w = width - 20
    for x in range(bar_w):
        d.line((10 + x, 2, 10 + x, 16), fill=_colour(x / max(1, bar_w - 1)))
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = 10 + round(v * (bar_w - 1))
        d.line((x, 16, x, 20), fill=(0, 0, 0))
        d.text((min(max(0, x - 8), width - 24), 21), f"{v:g}", fill=(0, 0, 0))
    w = d.textlength(label)
    d.text(((width - w) / 2, 34), label, fill=(60, 60, 60))
    return im


def reference_overlay(img: Image.Image, matched: dict[int, list[int]], rows: int, cols: int,
                      side: int = 448) -> Image.Image:
    """A reference image with the cells matched by generated cells outlined and numbered
    (``matched``: reference cell -> generated cells that matched it)."""
    im = _fit(img, side)
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


def overview_bars(model_df: pd.DataFrame):
    """Per-model macro means, one group of bars per model and metric, one panel per prompt variant."""
    import plotly.graph_objects as go

    variants = sorted(model_df["variant"].unique()) or [""]
    n, gap = len(variants), 0.04
    width = (1 - gap * (n - 1)) / n
    colours = dict(zip(K.METRICS, (config.PALETTE[i] for i in (0, 1, 5, 2)), strict=True))
    traces, layout = [], dict(barmode="group", title=dict(text="Per-model macro means over references"),
                              annotations=[], legend=dict(orientation="h", y=-0.15))
    for i, v in enumerate(variants):
        ax = "" if i == 0 else str(i + 1)
        d = model_df[model_df["variant"] == v]
        for metric in K.METRICS:
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
    c = K.QUADRANT_CUT
    shapes = [dict(type="rect", xref="x", yref="y", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(width=0), layer="below",
                   fillcolor=QUADRANT_COLOURS[q], opacity=0.07)
              for q, (x0, x1, y0, y1) in zip(K.QUADRANTS, ((c, 1.03, c, 1.03), (c, 1.03, -0.03, c),
                                                           (-0.03, c, c, 1.03), (-0.03, c, -0.03, c)))]
    shapes += [dict(type="line", xref="x", yref="paper", x0=c, x1=c, y0=0, y1=1, line=dict(dash="dot", color="grey")),
               dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=c, y1=c, line=dict(dash="dot", color="grey"))]
    notes = [dict(x=x, y=y, text=f"<b>{q}</b>", showarrow=False, xanchor="right" if x > 0.5 else "left",
                  font=dict(color=QUADRANT_COLOURS[q], size=13))
             for q, (x, y) in zip(K.QUADRANTS, ((1.02, 1.02), (1.02, -0.02), (-0.02, 1.02), (-0.02, -0.02)))]
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


def finding_card(gen: Image.Image, overlay: Image.Image, refs: list[Image.Image], row: dict, scores: dict,
                 thresholds: dict, provenance: dict, scale: Image.Image | None = None,
                 cells: list[dict] | None = None) -> str:
    """A standalone HTML file (images inlined, every text escaped) to share one finding: the generated
    image and its heatmap large, the references with the reused cells outlined, the scores, the matched
    cells, the thresholds and the embedders."""
    e = lambda v: html.escape(str(v))  # noqa: E731
    refs_html = "".join(f'<img src="{png_data_uri(r)}" style="width:440px;margin:4px">' for r in refs)
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in
                    {**{k: row.get(k) for k in ("title", "slug", "kind", "model", "variant", "prompt", "seed",
                                                 "relpath")}, **scores}.items())
    th = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in thresholds.items())
    pv = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in provenance.items())
    cell_rows = "".join(
        f"<tr{' class=reused' if c['reused'] else ''}><td>{e(c['cell'])}</td><td>{c['sim']:.3f}</td>"
        f"<td>{e(c['matched'])}</td><td>{c['same_pos_sim']:.3f}</td><td>{'yes' if c['reused'] else ''}</td></tr>"
        for c in cells or [])
    cells_html = ("<h2>Cells</h2><table class=cells><tr><th>cell</th><th>best similarity</th><th>matched "
                  "reference cell</th><th>same position</th><th>reused</th></tr>" + cell_rows + "</table>") if cells else ""
    scale_html = f'<br><img src="{png_data_uri(scale)}" style="width:440px;border:0">' if scale is not None else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Finding: {e(row.get('title'))}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}th{{text-align:left;padding-right:1em}}
img{{border:1px solid #ccc}} .pair{{display:flex;gap:12px;flex-wrap:wrap}} table.cells td{{padding:0 .8em}}
tr.reused td{{background:#fde7e7}}</style></head><body>
<h1>{e(row.get('title'))} — {e(row.get('model'))}</h1>
<h2>Generated image and its patch matches</h2>
<div class=pair><img src="{png_data_uri(_fit(gen, 440))}" style="width:440px"><div><img src="{png_data_uri(overlay)}"
 style="width:440px">{scale_html}</div></div>
<h2>Reference image(s) — outlined: the cells the generated image reused</h2>{refs_html}
<h2>Scores</h2><table>{table}</table>{cells_html}<h2>Thresholds</h2><table>{th}</table>
<h2>Embedders (provenance)</h2><table>{pv}</table>
<p style="color:grey">Made with Iconicity Explorer. Red outlines: cells reused (best similarity passes patch τ);
in each cell: its index, its best similarity and the reference image (R#) and cell (c#) it matched; yellow
outlines on a reference: its cells that generated cells matched.</p></body></html>"""


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


def tile(img: Image.Image, side: int = 192) -> Image.Image:
    """An image letterboxed into a ``side`` x ``side`` square (light grey bars): gallery tiles line up."""
    im = _fit(img, side)
    out = Image.new("RGB", (side, side), (242, 242, 242))
    out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return out


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
