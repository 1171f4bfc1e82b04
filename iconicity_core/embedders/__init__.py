"""Embedder registry: names on the command line -> loaded embedders.

``--clip-model baseline`` / ``--dino-model baseline`` select the weight-free appearance baseline;
any other ``--clip-model`` is an open_clip architecture, any other ``--dino-model`` a DINOv3 Hub id
or local directory. There is never a silent fallback from one to another.
"""
from __future__ import annotations

from typing import Callable

from .base import CellEmbedder, EmbedderInfo, GlobalEmbedder, ModelLoadError, resolve_device

BASELINE = "baseline"
DEFAULT_CLIP_MODEL = "ViT-B-32"
DEFAULT_CLIP_PRETRAINED = "openai"
DEFAULT_DINO_MODEL = "facebook/dinov3-vits16-pretrain-lvd1689m"

_GLOBAL: dict[str, Callable[..., GlobalEmbedder]] = {}
_CELL: dict[str, Callable[..., CellEmbedder]] = {}


def register_global(name: str):
    """Decorator: make a global-embedder factory available as ``--clip-model NAME``."""
    def deco(fn):
        _GLOBAL[name] = fn
        return fn
    return deco


def register_cell(name: str):
    """Decorator: make a cell-embedder factory available as ``--dino-model NAME``."""
    def deco(fn):
        _CELL[name] = fn
        return fn
    return deco


@register_global(BASELINE)
def _baseline_global(**_):
    from .baseline import BaselineGlobalEmbedder
    return BaselineGlobalEmbedder()


@register_cell(BASELINE)
def _baseline_cells(rows: int, cols: int, **_):
    from .baseline import BaselineCellEmbedder
    return BaselineCellEmbedder(rows, cols)


def load_global(model: str = DEFAULT_CLIP_MODEL, pretrained: str = DEFAULT_CLIP_PRETRAINED,
                device: str = "cpu", batch_size: int = 32) -> GlobalEmbedder:
    """Load the recognition embedder named on the command line."""
    if model in _GLOBAL:
        return _GLOBAL[model](device=device, batch_size=batch_size)
    from .clip import OpenClipEmbedder
    return OpenClipEmbedder(model, pretrained, device=device, batch_size=batch_size)


def load_cells(model: str = DEFAULT_DINO_MODEL, mode: str = "crop", rows: int = 4, cols: int = 4,
               device: str = "cpu", batch_size: int = 64, token_size: int = 224) -> CellEmbedder:
    """Load the realization (cell) embedder named on the command line."""
    if model in _CELL:
        if mode != "crop":
            raise ValueError(f"--dino-model {model} supports only --patch-mode crop")
        return _CELL[model](rows=rows, cols=cols, device=device)
    from .dino import Dinov3CellEmbedder
    return Dinov3CellEmbedder(model, mode, rows, cols, device=device, batch_size=batch_size,
                              token_size=token_size)


__all__ = ["BASELINE", "CellEmbedder", "EmbedderInfo", "GlobalEmbedder", "ModelLoadError",
           "load_cells", "load_global", "register_cell", "register_global", "resolve_device"]
