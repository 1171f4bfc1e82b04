"""Plain similarity measures to compare CLIP similarity and VR against (`iconicity evaluate`).

Pure pair measures (higher = more similar): pHash similarity, SSIM, tiled pixel L2 (negated max over
a 4x4 tiling, as in the training-data extraction literature), the weight-free appearance descriptor,
and SSCD when the user supplies its TorchScript file. :func:`evaluate` scores every labelled generated
image against the kept reference images of its slug (max over references) and reports ROC-AUC with
bootstrap CIs next to the stored CLIP similarity and VR.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
import pandas as pd
from PIL import Image

from ..config import N_RESAMPLES
from .roc import auc_ci, labelled_scores, threshold_at_precision

SIDE = 256


@dataclass(frozen=True)
class Measure:
    """A similarity measure as two steps, so each image is prepared once (references once per slug):
    ``featurize`` an image, then ``compare`` two features (higher = more similar)."""

    featurize: Callable[[Image.Image], Any]
    compare: Callable[[Any, Any], float]

    def __call__(self, a: Image.Image, b: Image.Image) -> float:
        return self.compare(self.featurize(a), self.featurize(b))


def _arr(im: Image.Image, gray: bool = False) -> np.ndarray:
    im = im.convert("L" if gray else "RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    return np.asarray(im, np.float64) / 255.0


def _ssim(x: np.ndarray, y: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(x, y, data_range=1.0))


def _tiled_l2(x: np.ndarray, y: np.ndarray, tiles: int = 4) -> float:
    s = SIDE // tiles
    return -float((((x - y) ** 2).reshape(tiles, s, tiles, s, 3).mean(axis=(1, 3, 4)) ** 0.5).max())


def _cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(np.dot(u, v))


def _appearance(im: Image.Image) -> np.ndarray:
    from ..embedders.baseline import BaselineGlobalEmbedder

    return BaselineGlobalEmbedder().embed([im])[0]


#: 1 - Hamming distance / 64 between 64-bit pHashes.
phash_similarity = Measure(imagehash.phash, lambda a, b: 1.0 - (a - b) / 64.0)
#: Structural similarity of the grayscale images resized to 256x256.
ssim = Measure(lambda im: _arr(im, gray=True), _ssim)
#: Minus the largest RMS pixel distance over a 4x4 tiling of the 256x256 images (0 = identical).
tiled_l2_similarity = Measure(_arr, _tiled_l2)
#: Cosine of the weight-free appearance descriptor.
appearance_similarity = Measure(_appearance, _cosine)


class SSCD:
    """SSCD copy-detection descriptor from a user-supplied TorchScript file (never bundled: its licence
    is non-commercial). Input: 288 px (shorter side), ImageNet normalisation."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        import torch

        self.torch, self.device = torch, device
        self.model = torch.jit.load(str(path), map_location=device).eval()

    def embed(self, im: Image.Image) -> np.ndarray:
        t = self.torch
        x = np.asarray(im.convert("RGB").resize((288, 288), Image.Resampling.BILINEAR), np.float32) / 255.0
        x = (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        with t.inference_mode():
            v = self.model(t.from_numpy(x.astype(np.float32)).permute(2, 0, 1)[None].to(self.device))
        v = v.float().cpu().numpy()[0]
        return v / max(np.linalg.norm(v), 1e-12)


PAIR_MEASURES: dict[str, Measure] = {
    "phash": phash_similarity, "ssim": ssim, "tiled_l2": tiled_l2_similarity, "appearance": appearance_similarity,
}


def cosine_measure(embed: Callable[[Image.Image], np.ndarray]) -> Measure:
    """A measure from any unit-vector image embedding (SSCD, global DINOv3, ...)."""
    return Measure(embed, _cosine)


def evaluation_table(scores: pd.DataFrame, measures: list[str], precision: float = 0.9,
                     n_resamples: int = N_RESAMPLES) -> pd.DataFrame:
    """AUCs with CIs and thresholds for every measure column of ``scores`` (which has a ``label``)."""
    rows = []
    for sep, m, y, s in labelled_scores(scores, measures):
        auc, lo, hi = auc_ci(y, s, n_resamples)
        thr, rec = threshold_at_precision(y, s, precision)
        rows.append({"separation": sep, "measure": m, "roc_auc": auc, "ci_low": lo, "ci_high": hi,
                     f"threshold_at_precision_{precision:g}": thr, "recall_there": rec,
                     "n_pos": int(y.sum()), "n_neg": int((~y).sum())})
    return pd.DataFrame(rows)
