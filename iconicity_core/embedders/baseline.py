"""Weight-free appearance baseline: colour layout + gradient-orientation descriptor.

Works with no network and no weights (the offline demo uses it). It measures *low-level
appearance* — colour arrangement and edge directions — not semantic recognition: treat its
"recognition" scores as an existing similarity measure, not as CLIP.

Descriptor of an image (or of a grid cell): resize to 32x32; (a) colour layout = 4x4 block means
of an opponent colour space (luminance, red-green, yellow-blue); (b) 8-bin unsigned gradient
orientation histograms, magnitude-weighted, over 4x4 blocks, centred. Both parts are L2-normalised,
weighted equally, concatenated and L2-normalised again.

>>> import numpy as np
>>> from PIL import Image
>>> im = Image.fromarray((np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3))
>>> v = BaselineGlobalEmbedder().embed([im, im])
>>> v.shape, round(float(v[0] @ v[1]), 6)
((2, 176), 1.0)
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from ..core.grid import cell_boxes
from .base import CellEmbedder, EmbedderInfo, GlobalEmbedder

SIDE = 32
BLOCKS = 4
BINS = 8
VERSION = "1"


def descriptors(arr: np.ndarray) -> np.ndarray:
    """Descriptors for a batch ``(N, SIDE, SIDE, 3)`` of float RGB in [0, 1] -> ``(N, 176)``."""
    n = arr.shape[0]
    r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
    opp = np.stack([(r + g + b) / 3 - 0.5, (r - g) / 2, (r + g - 2 * b) / 4], axis=-1)
    s = SIDE // BLOCKS
    colour = opp.reshape(n, BLOCKS, s, BLOCKS, s, 3).mean(axis=(2, 4)).reshape(n, -1)
    gray = opp[..., 0]
    gy, gx = np.gradient(gray, axis=(1, 2))
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((ang / np.pi * BINS).astype(int), BINS - 1)
    onehot = np.zeros((n, SIDE, SIDE, BINS), np.float64)
    np.put_along_axis(onehot, bins[..., None], mag[..., None], axis=-1)
    hist = onehot.reshape(n, BLOCKS, s, BLOCKS, s, BINS).sum(axis=(2, 4)).reshape(n, BLOCKS * BLOCKS, BINS)
    hist = hist / np.maximum(np.linalg.norm(hist, axis=-1, keepdims=True), 1e-6)
    hist = (hist - hist.mean(axis=-1, keepdims=True)).reshape(n, -1)
    parts = [colour, hist]
    parts = [p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-6) for p in parts]
    v = np.concatenate(parts, axis=1)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _small(im: Image.Image) -> np.ndarray:
    """The uint8 thumbnail the descriptor is computed from (what crosses the worker boundary)."""
    return np.asarray(im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BOX), np.uint8)


def _unit_range(thumbs) -> np.ndarray:
    return np.asarray(thumbs, np.float64) / 255.0


def _info(kind: str, key_suffix: str = "") -> EmbedderInfo:
    return EmbedderInfo(
        key=f"baseline:{kind}:v{VERSION}{key_suffix}",
        family="baseline",
        model=f"appearance-{kind}",
        weights="none (weight-free)",
        preprocessing=f"resize to {SIDE}x{SIDE} (box); colour layout + gradient orientation",
        semantic=False,
    )


class BaselineGlobalEmbedder(GlobalEmbedder):
    """Global weight-free descriptor (stands in for CLIP when no weights are available)."""

    def __init__(self) -> None:
        self.info = _info("global")

    def prepare(self, image: Image.Image) -> np.ndarray:
        return _small(image)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        return descriptors(_unit_range(np.stack(prepared))) if prepared else np.zeros((0, 0), np.float32)


class BaselineCellEmbedder(CellEmbedder):
    """The same descriptor per grid cell (stands in for DINOv3 crops)."""

    def __init__(self, rows: int = 4, cols: int = 4) -> None:
        self.rows, self.cols = rows, cols
        self.info = _info("cells", f":crop:{rows}x{cols}")
        self.info.extra["grid"] = f"{rows}x{cols}"

    def prepare(self, image: Image.Image) -> np.ndarray:
        return np.stack([_small(image.crop(box)) for box in cell_boxes(image.width, image.height, self.rows, self.cols)])

    def embed_prepared(self, prepared: list) -> np.ndarray:
        k = self.rows * self.cols
        if not prepared:
            return np.zeros((0, k, 0), np.float32)
        return descriptors(_unit_range(np.concatenate(prepared))).reshape(len(prepared), k, -1)

