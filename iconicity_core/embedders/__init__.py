"""Embedder registry: names on the command line -> loaded embedders, one factory per role.

Every family is registered with :func:`register` (role ``recognition`` = the global embedder ``f``,
``realization`` = the cell embedder ``g``), a predicate saying which ``--clip-model`` /
``--dino-model`` names it takes, and its default operating point (the threshold its scores are
meant to be read at). :func:`list_embedders` lists them; :func:`load_global` and :func:`load_cells`
pick the first family whose predicate accepts the name. There is never a silent fallback from one
family to another: a model that cannot be loaded is an error that says what to do.

>>> [(e.role, e.name) for e in list_embedders()][:3]
[('recognition', 'baseline'), ('recognition', 'pixels'), ('recognition', 'open_clip')]
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .base import CellEmbedder, EmbedderInfo, GlobalEmbedder, ModelLoadError, resolve_device

BASELINE = "baseline"
PIXELS = "pixels"
DEFAULT_CLIP_MODEL = "ViT-B-32"
DEFAULT_CLIP_PRETRAINED = "openai"
DEFAULT_DINO_MODEL = "facebook/dinov3-vits16-pretrain-lvd1689m"
ROLES = ("recognition", "realization")


@dataclass(frozen=True)
class EmbedderSpec:
    role: str                                 # recognition (global) | realization (cells)
    name: str                                 # family name
    description: str
    matches: Callable[[str], bool]            # which model names this family takes
    factory: Callable[..., object]
    default_tau: float | None                 # operating point: CLIP tau / patch tau its scores are read at
                                              # (None: the paper's default)
    tau_source: str = ""                      # where that operating point comes from


_REGISTRY: list[EmbedderSpec] = []


def register(role: str, name: str, description: str, matches: Callable[[str], bool], default_tau: float | None,
             tau_source: str = ""):
    """Decorator: register a factory ``(model, **options) -> embedder`` for ``role``."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")

    def deco(fn):
        _REGISTRY.append(EmbedderSpec(role, name, description, matches, fn, default_tau, tau_source))
        return fn
    return deco


def list_embedders(role: str | None = None) -> list[EmbedderSpec]:
    """Every registered family (of one role), in the order names are matched."""
    return [e for e in _REGISTRY if role is None or e.role == role]


def spec_for(role: str, model: str) -> EmbedderSpec:
    """The family that takes ``model`` in ``role``."""
    for e in list_embedders(role):
        if e.matches(model):
            return e
    raise ModelLoadError(f"no {role} embedder takes {model!r}; see `iconicity embedders`")


# -- the families (the open_clip / DINOv3 catch-alls come last) ---------------------------------

@register("recognition", BASELINE, "weight-free appearance descriptor (colour layout + gradient orientations); "
          "low-level, not semantic", lambda m: m == BASELINE, 0.47,
          "calibrated on the demo's labels (iconicity calibrate, Youden's point)")
def _baseline_global(model: str, **_):
    from .baseline import BaselineGlobalEmbedder
    return BaselineGlobalEmbedder()


@register("recognition", PIXELS, "8x8 thumbnail — near-free, for tests and pipeline benchmarks only",
          lambda m: m == PIXELS, None)
def _pixels_global(model: str, **_):
    from .pixels import PixelGlobalEmbedder
    return PixelGlobalEmbedder()


@register("recognition", "open_clip", "any open_clip architecture (--clip-model ViT-B-32) with a weights tag or a "
          "local checkpoint (--clip-pretrained)", lambda m: True, 0.70, "the paper (docs/method.md)")
def _open_clip(model: str, pretrained: str = DEFAULT_CLIP_PRETRAINED, device: str = "cpu", batch_size: int = 32,
               preprocess: str = "open_clip", resize: str = "auto", **_):
    from .clip import OpenClipEmbedder
    return OpenClipEmbedder(model, pretrained, device=device, batch_size=batch_size, preprocess=preprocess,
                            resize=resize)


@register("realization", BASELINE, "the appearance descriptor per grid cell (crop mode only)",
          lambda m: m == BASELINE, 0.61, "calibrated on the demo's labels (iconicity calibrate, Youden's point)")
def _baseline_cells(model: str, mode: str = "crop", rows: int = 4, cols: int = 4, cell_preprocess: str = "squash",
                    **_):
    _squash_crops_only(model, mode, cell_preprocess)
    from .baseline import BaselineCellEmbedder
    return BaselineCellEmbedder(rows, cols)


@register("realization", PIXELS, "8x8 thumbnail per cell — near-free, for tests and pipeline benchmarks only",
          lambda m: m == PIXELS, None)
def _pixels_cells(model: str, mode: str = "crop", rows: int = 4, cols: int = 4, cell_preprocess: str = "squash",
                  **_):
    _squash_crops_only(model, mode, cell_preprocess)
    from .pixels import PixelCellEmbedder
    return PixelCellEmbedder(rows, cols)


@register("realization", "dinov3", "DINOv3 ViT from a Hub id or a save_pretrained folder (--dino-model), crop or "
          "token patch mode", lambda m: True, 0.60, "the paper (docs/method.md)")
def _dinov3(model: str, mode: str = "crop", rows: int = 4, cols: int = 4, device: str = "cpu", batch_size: int = 64,
            token_size: int = 224, cell_preprocess: str = "squash", cell_size: int | None = None, resize: str = "auto",
            **_):
    from .dino import Dinov3CellEmbedder
    return Dinov3CellEmbedder(model, mode, rows, cols, device=device, batch_size=batch_size, token_size=token_size,
                              cell_preprocess=cell_preprocess, cell_size=cell_size, resize=resize)


def _squash_crops_only(model: str, mode: str, cell_preprocess: str) -> None:
    if mode != "crop":
        raise ValueError(f"--dino-model {model} supports only --patch-mode crop")
    if cell_preprocess != "squash":
        raise ValueError(f"--dino-model {model} describes each cell at its own size: use --cell-preprocess squash")


def _decoded(embedder, decode: str):
    """Images decoded another way are other inputs: the decode mode becomes part of the embedder's key (so a
    careful and an authors-decoded run never share vectors) and of its record."""
    from ..io.images import DECODES

    if decode not in DECODES:
        raise ValueError(f"--decode must be one of {', '.join(DECODES)}, got {decode!r}")
    embedder.info.extra["decode"] = decode
    if decode != "careful":
        embedder.info.key += f":decode-{decode}"
    return embedder


def load_global(model: str = DEFAULT_CLIP_MODEL, pretrained: str = DEFAULT_CLIP_PRETRAINED,
                device: str = "cpu", batch_size: int = 32, preprocess: str = "open_clip",
                decode: str = "careful", resize: str = "auto") -> GlobalEmbedder:
    """Load the recognition embedder named on the command line (``preprocess``: ``open_clip`` or ``hf``, the
    released scripts' crop; ``decode``: ``careful`` or ``authors``)."""
    return _decoded(spec_for("recognition", model).factory(model, pretrained=pretrained, device=device,
                                                           batch_size=batch_size, preprocess=preprocess,
                                                           resize=resize), decode)


def load_cells(model: str = DEFAULT_DINO_MODEL, mode: str = "crop", rows: int = 4, cols: int = 4,
               device: str = "cpu", batch_size: int = 64, token_size: int = 224, cell_preprocess: str = "squash",
               cell_size: int | None = None, resize: str = "auto", decode: str = "careful") -> CellEmbedder:
    """Load the realization (cell) embedder named on the command line (``resize``: where cells are resized,
    see :mod:`.dino`)."""
    return _decoded(spec_for("realization", model).factory(model, mode=mode, rows=rows, cols=cols, device=device,
                                                           batch_size=batch_size, token_size=token_size,
                                                           cell_preprocess=cell_preprocess, cell_size=cell_size,
                                                           resize=resize), decode)


__all__ = [
    "BASELINE",
    "PIXELS",
    "CellEmbedder",
    "EmbedderInfo",
    "EmbedderSpec",
    "GlobalEmbedder",
    "ModelLoadError",
    "list_embedders",
    "load_cells",
    "load_global",
    "register",
    "resolve_device",
    "spec_for",
]
