"""Images for people: a generated image with its grid tinted by each cell's best similarity and the reused cells
outlined (the outlines are the kernel's flags), the references with the cells that were matched, the tint's colour
scale, thumbnails and a readable placeholder for a missing file. Display only, never analysis.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..core.grid import cell_boxes


def _colour(v: float, cmap: str = "viridis") -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _ = colormaps[cmap](float(np.clip(v, 0, 1)))
    return int(r * 255), int(g * 255), int(b * 255)


def placeholder(text: str = "image not available", size: int = 224) -> Image.Image:
    im = Image.new("RGB", (size, size), (235, 235, 235))
    ImageDraw.Draw(im).text((10, size // 2 - 6), text, fill=(90, 90, 90))
    return im


def fit(img: Image.Image, side: int) -> Image.Image:
    """``img`` in RGB, scaled so its longer side is ``side`` pixels."""
    im = img.convert("RGB")
    scale = side / max(im.size)
    return im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))


def patch_overlay(img: Image.Image, sims: np.ndarray, reused: np.ndarray, rows: int, cols: int,
                  labels: list[str] | None = None, alpha: float = 0.45, side: int = 448) -> Image.Image:
    """The image with every grid cell tinted by its similarity (viridis, 0 → 1: :func:`colour_scale`) at
    opacity ``alpha``; reused cells (``reused``, from the metric kernel, so an outline is exactly a cell
    that VR counts) get a thick red outline; ``labels`` (e.g. the matched reference cell) are written in."""
    im = fit(img, side)
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
    im = fit(img, side)
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
    im = fit(img, side)
    out = Image.new("RGB", (side, side), (242, 242, 242))
    out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return out
