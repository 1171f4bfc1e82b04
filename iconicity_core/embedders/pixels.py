"""A near-free embedder: the image (or each grid cell) as an 8x8 RGB thumbnail, L2-normalised.

For tests and pipeline benchmarks only — it costs almost nothing, so a benchmark measures the
pipeline around the model, and it keeps the invariants exact (a copy scores 1, a tile-shuffled copy
has VR 1). It is not a similarity measure to draw conclusions from.

>>> import numpy as np
>>> from PIL import Image
>>> im = Image.fromarray((np.arange(32 * 32 * 3) % 251).astype(np.uint8).reshape(32, 32, 3))
>>> v = PixelCellEmbedder(2, 2).embed_cells([im])
>>> v.shape, round(float((v[0] ** 2).sum(axis=1)[0]), 5)
((1, 4, 192), 1.0)
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from ..core.grid import cell_boxes
from .base import CellEmbedder, EmbedderInfo, GlobalEmbedder

SIDE = 8


def _thumb(im: Image.Image) -> np.ndarray:
    """The uint8 thumbnail (what crosses the worker boundary)."""
    return np.asarray(im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BOX), np.uint8)


def _global_thumb(im: Image.Image) -> np.ndarray:
    """The whole image's thumbnail through a 32x32 one (box averages both): the same one full-size resize the
    cell embedder makes of an aligned image, so the pipeline's own cost is what a bench measures."""
    small = im.convert("RGB").resize((4 * SIDE, 4 * SIDE), Image.Resampling.BOX)
    return np.asarray(small.resize((SIDE, SIDE), Image.Resampling.BOX), np.uint8)


def _unit(thumb: np.ndarray) -> np.ndarray:
    a = np.asarray(thumb, np.float32).reshape(-1) / 255.0
    a = a - a.mean() + 1e-3
    return a / max(float(np.linalg.norm(a)), 1e-12)


def _info(kind: str, suffix: str = "") -> EmbedderInfo:
    return EmbedderInfo(key=f"pixels:{kind}:v1{suffix}", family="pixels", model=f"thumbnail-{kind}",
                        weights="none (weight-free)", preprocessing=f"resize to {SIDE}x{SIDE} (box), centred",
                        semantic=False)


class PixelGlobalEmbedder(GlobalEmbedder):
    def __init__(self) -> None:
        self.info = _info("global", ":b32")

    def prepare(self, image: Image.Image) -> np.ndarray:
        return _global_thumb(image)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        return np.stack([_unit(p) for p in prepared]) if prepared else np.zeros((0, 0), np.float32)


class PixelCellEmbedder(CellEmbedder):
    def __init__(self, rows: int = 4, cols: int = 4) -> None:
        self.rows, self.cols, self.mode = rows, cols, "crop"
        self.info = _info("cells", f":crop:{rows}x{cols}")
        self.info.extra["grid"] = f"{rows}x{cols}"

    def prepare(self, image: Image.Image) -> np.ndarray:
        r, c = self.rows, self.cols
        if image.width % (c * SIDE) == 0 and image.height % (r * SIDE) == 0:      # cells align with the boxes:
            small = np.asarray(image.convert("RGB").resize((c * SIDE, r * SIDE), Image.Resampling.BOX), np.uint8)
            return np.stack([small[i * SIDE:(i + 1) * SIDE, j * SIDE:(j + 1) * SIDE]   # one resize, the same
                             for i in range(r) for j in range(c)])                  # pixels as per cell
        return np.stack([_thumb(image.crop(b)) for b in cell_boxes(image.width, image.height, r, c)])

    def embed_prepared(self, prepared: list) -> np.ndarray:
        k = self.rows * self.cols
        return (np.stack([np.stack([_unit(c) for c in p]) for p in prepared]) if prepared
                else np.zeros((0, k, 0), np.float32))

