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

QUADRANTS = ("replicated", "reinterpreted", "reused unrecognised", "missed")


def _colour(v: float) -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _ = colormaps["viridis"](float(np.clip(v, 0, 1)))
    return int(r * 255), int(g * 255), int(b * 255)


def placeholder(text: str = "image not available", size: int = 224) -> Image.Image:
    im = Image.new("RGB", (size, size), (235, 235, 235))
    ImageDraw.Draw(im).text((10, size // 2 - 6), text, fill=(90, 90, 90))
    return im


def patch_overlay(img: Image.Image, sims: np.ndarray, patch_tau: float, rows: int, cols: int,
                  labels: list[str] | None = None, alpha: float = 0.45) -> Image.Image:
    """The image with every grid cell tinted by its similarity; reused cells (> tau) get a thick
    outline; ``labels`` (e.g. the matched reference cell) are written in the cells."""
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
        reused = sims[k] > patch_tau
        d.rectangle((l, t, r - 1, b - 1), outline=(255, 40, 40) if reused else (255, 255, 255),
                    width=4 if reused else 1)
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


def quadrant(cra: float, vr: float, cra_cut: float = 0.5, vr_cut: float = 0.5) -> str:
    """Quadrant of a reference in the recognition x realization plane."""
    rec = cra > cra_cut
    reuse = (vr if vr == vr else 0.0) > vr_cut
    return QUADRANTS[0 if rec and reuse else 1 if rec else 2 if reuse else 3]


def overview_bars(model_df: pd.DataFrame):
    import plotly.express as px

    long = model_df.melt(id_vars=["model", "kind", "variant"], value_vars=["cra", "vr", "vi", "crt"],
                         var_name="metric", value_name="value")
    return px.bar(long, x="model", y="value", color="metric", barmode="group", facet_col="variant",
                  range_y=[0, 1], title="Per-model macro means")


def overview_scatter(ref_df: pd.DataFrame, cra_cut: float = 0.5, vr_cut: float = 0.5):
    import plotly.express as px

    df = ref_df.assign(vr_plot=ref_df["vr"].fillna(0.0))
    fig = px.scatter(df, x="cra", y="vr_plot", color="model", symbol="kind", hover_name="title",
                     custom_data=["slug", "model"], range_x=[-0.03, 1.03], range_y=[-0.03, 1.03],
                     labels={"cra": "recognition (CRA)", "vr_plot": "realization: reuse (VR)"},
                     title="Recognition × realization (one point per reference and model)")
    fig.add_vline(x=cra_cut, line_dash="dot")
    fig.add_hline(y=vr_cut, line_dash="dot")
    for x, y, text in ((0.98, 0.98, "replicated"), (0.98, 0.02, "reinterpreted"),
                       (0.02, 0.98, "reused unrecognised"), (0.02, 0.02, "missed")):
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, xanchor="right" if x > 0.5 else "left",
                           font=dict(color="grey"))
    return fig


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
    """One point per reference and model, a least-squares trend per model (on log10 of the covariate
    when it is count-like, drawn on a log axis)."""
    import plotly.graph_objects as go

    from ..analysis.correlation import is_count_like

    log_x = is_count_like(refs[cov].to_numpy(float))
    fig = go.Figure()
    for model, g in refs.groupby("model"):
        g = g.dropna(subset=[cov, metric])
        fig.add_scatter(x=g[cov], y=g[metric], mode="markers", name=model, text=g["title"])
        if len(g) > 2 and np.ptp(g[cov].to_numpy(float)) > 0:
            x = np.log10(g[cov].to_numpy(float)) if log_x else g[cov].to_numpy(float)
            a, b = np.polyfit(x, g[metric].to_numpy(float), 1)
            xs = np.linspace(x.min(), x.max(), 20)
            fig.add_scatter(x=10 ** xs if log_x else xs, y=a * xs + b, mode="lines", name=f"{model} trend",
                            line=dict(dash="dot"))
    fig.update_layout(title=f"{metric.upper()} vs {cov}", xaxis_title=cov, yaxis_title=metric)
    if log_x:
        fig.update_xaxes(type="log")
    return fig
