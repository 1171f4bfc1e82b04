"""What an embedder is: a recorded identity plus a batch function.

Two kinds (docs/method.md): a *global* embedder ``f`` (recognition, CLIP) maps images to vectors;
a *cell* embedder ``g`` (realization, DINOv3) maps each image to one vector per grid cell.
Every output is L2-normalised float32.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from ..errors import IconicityError


class ModelLoadError(IconicityError, RuntimeError):
    """Weights could not be loaded; the message says what the user can do about it. A ``hint`` that only some
    callers can follow (another embedder) ends the message; ``without_hint`` is the message without it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message + hint)
        self.without_hint = message


@dataclass
class EmbedderInfo:
    """Provenance recorded with every score: enough to tell two runs apart."""

    key: str                      # stable identity, part of the run id (e.g. "open_clip:ViT-B-32:openai")
    family: str                   # "open_clip", "dinov3", "baseline"
    model: str                    # architecture / Hub id / directory name
    weights: str                  # tag, Hub revision, or "sha256:<hash>" of local weights
    preprocessing: str            # human-readable summary
    semantic: bool = True         # False for low-level appearance baselines
    extra: dict[str, Any] = field(default_factory=dict)


class GlobalEmbedder(Protocol):
    """``embed(images) == embed_prepared([prepare(im) for im in images])``: ``prepare`` is the CPU side
    (run in the pipeline's worker processes), ``embed_prepared`` the model side (batched)."""

    info: EmbedderInfo

    def prepare(self, image: Image.Image): ...

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """``(N, D)`` unit vectors."""

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        """``(N, D)`` unit vectors (the families inherit this)."""
        return self.embed_prepared([self.prepare(im) for im in images])


class CellEmbedder(Protocol):
    """As :class:`GlobalEmbedder`, one vector per grid cell."""

    info: EmbedderInfo
    rows: int
    cols: int

    def prepare(self, image: Image.Image): ...

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """``(N, rows*cols, D)`` unit vectors, cells row-major."""

    def embed_cells(self, images: list[Image.Image]) -> np.ndarray:
        """``(N, rows*cols, D)`` unit vectors, cells row-major (the families inherit this)."""
        return self.embed_prepared([self.prepare(im) for im in images])


def fixed_shape_chunks(x, size: int):
    """``(chunk, n)`` over the rows of tensor ``x``, every chunk padded with zeros to exactly ``size`` rows
    (``n``: how many are real). A model then always sees the same input shape, so an image's features do
    not depend on which other images share its batch or on the leftover size of the last batch (a lone
    image takes a different matrix-vector path whose float32 results differ in the last bits)."""
    import torch

    for i in range(0, len(x), size):
        chunk = x[i : i + size]
        n = len(chunk)
        if n < size:
            chunk = torch.cat([chunk, chunk.new_zeros((size - n, *chunk.shape[1:]))])
        yield chunk, n


def resolve_device(device: str = "auto") -> str:
    """``auto`` picks cuda, then mps, then cpu; other values are checked and returned."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("--device cuda was asked for but no CUDA device is visible; use --device cpu")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise ModelLoadError(f"unknown --device {device!r}: use auto, cpu, cuda, cuda:N or mps")
    return device


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """``sha256:<hex>`` of a file (weights provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return "sha256:" + h.hexdigest()


def dir_digest(path: Path) -> str:
    """``sha256:<hex>`` over the weight and config files of a local model directory."""
    h = hashlib.sha256()
    for p in sorted(path.iterdir()):
        if p.is_file() and p.suffix in (".safetensors", ".bin", ".json", ".pt", ".pth"):
            h.update(p.name.encode())
            h.update(file_digest(p).encode())
    return "sha256:" + h.hexdigest()


def hf_token() -> str | None:
    """The Hub token from the usual environment variables (``HF_TOKEN``), if any."""
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None
