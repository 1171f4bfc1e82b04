"""DINOv3 cell features via transformers (realization, ``g`` in docs/method.md).

Two patch modes:

* ``crop`` (paper-faithful, default): every grid cell is cropped from the image and embedded on its
  own; its feature is the mean of all output tokens (as in the authors' script). How a cell becomes
  the model's input (``cell_preprocess``): ``squash`` resizes it to the input size (bilinear,
  antialiased); ``center-crop`` is timm's evaluation transform, as the released scripts apply it —
  shorter side to ``cell_size`` (bicubic, antialiased), center crop ``cell_size`` x ``cell_size``.
* ``token``: one forward pass over the whole image resized to ``token_size``; the patch tokens
  are average-pooled into the grid cells (same split rule as the crop grid). ~16x cheaper.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..core.grid import cell_boxes, split_ranges
from .base import CellEmbedder, EmbedderInfo, ModelLoadError, dir_digest, fixed_shape_chunks, hf_token

PATCH_MODES = ("crop", "token")
CELL_PREPROCESS = ("squash", "center-crop")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Dinov3CellEmbedder(CellEmbedder):
    """Cell embedder over a DINOv3 ViT loaded from a Hub id or a ``save_pretrained`` directory."""

    def __init__(self, model: str = "facebook/dinov3-vits16-pretrain-lvd1689m", mode: str = "crop",
                 rows: int = 4, cols: int = 4, device: str = "cpu", batch_size: int = 64,
                 token_size: int = 224, cell_preprocess: str = "squash", cell_size: int | None = None) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel

        if mode not in PATCH_MODES:
            raise ValueError(f"patch mode must be one of {PATCH_MODES}, got {mode!r}")
        if cell_preprocess not in CELL_PREPROCESS:
            raise ValueError(f"cell preprocessing must be one of {CELL_PREPROCESS}, got {cell_preprocess!r}")
        self.mode, self.rows, self.cols = mode, rows, cols
        self.device, self.batch_size, self.token_size = device, batch_size, token_size
        local = Path(model).expanduser()
        source = str(local) if local.is_dir() else model
        try:
            net = AutoModel.from_pretrained(source, token=hf_token())
        except Exception as e:
            raise ModelLoadError(
                f"could not load DINOv3 model {model!r}: {type(e).__name__}: {e}\n"
                "What to do: DINOv3 weights on the Hugging Face Hub are gated — accept the licence "
                f"on https://huggingface.co/{model} , then log in (`hf auth login`) or set HF_TOKEN; "
                "offline, pass --dino-model /path/to/dir (a folder written by save_pretrained); "
                "or use --dino-model baseline for the weight-free appearance baseline (not semantic)."
            ) from None
        size, mean, std, proc_note = (224, 224), IMAGENET_MEAN, IMAGENET_STD, "DINOv3 defaults"
        try:
            proc = AutoImageProcessor.from_pretrained(source, token=hf_token())
            s = proc.size
            size = (s["height"], s["width"]) if "height" in s else (s["shortest_edge"],) * 2
            mean, std, proc_note = tuple(proc.image_mean), tuple(proc.image_std), "processor config"
        except Exception:
            pass  # no preprocessor_config.json: the DINOv3 defaults, recorded below
        self.input_size = (cell_size, cell_size) if cell_size else size
        self.cell_preprocess = cell_preprocess if mode == "crop" else "squash"
        self.cell_transform = (center_crop_transform(self.input_size[0], mean, std)
                               if self.cell_preprocess == "center-crop" else None)
        self.n_skip = 1 + int(getattr(net.config, "num_register_tokens", 0) or 0)
        self.patch = int(net.config.patch_size)
        self.dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.model = net.eval().to(device)
        self.mean = torch.tensor(mean).view(1, 3, 1, 1).to(device)
        self.std = torch.tensor(std).view(1, 3, 1, 1).to(device)
        weights = dir_digest(local) if local.is_dir() else str(
            getattr(net.config, "_commit_hash", None) or "hub"
        )
        geom = f"{mode}:{rows}x{cols}" + (f":{token_size}" if mode == "token" else "") + (
            f":cc{self.input_size[0]}" if self.cell_preprocess == "center-crop" else
            f":{self.input_size[0]}" if cell_size else "")
        self.info = EmbedderInfo(
            key=f"dinov3:{local.name if local.is_dir() else model}:{weights}:{geom}",
            family="dinov3",
            model=local.name if local.is_dir() else model,
            weights=weights,
            preprocessing=(
                f"{mode}: " + ((f"each cell: shorter side to {self.input_size[0]} (bicubic, antialias), center "
                                f"crop {self.input_size[0]}x{self.input_size[0]} (timm eval transform), mean of all tokens")
                               if self.cell_preprocess == "center-crop" else
                               f"each cell resized to {self.input_size[0]}x{self.input_size[1]}, mean of all tokens"
                               if mode == "crop" else
                               f"image resized to {token_size}x{token_size}, patch tokens pooled per cell")
                + f", normalise ({proc_note})"
            ),
            extra={"precision": str(self.dtype).replace("torch.", ""), "grid": f"{rows}x{cols}",
                   "cell_preprocess": self.cell_preprocess, "cell_size": self.input_size[0]},
        )

    # -- helpers ------------------------------------------------------------------------------
    def _forward(self, x, normalized: bool = False):
        import torch

        with torch.inference_mode(), torch.autocast(
            "cuda", dtype=torch.float16, enabled=self.dtype == torch.float16
        ):
            return self.model(pixel_values=x if normalized else (x - self.mean) / self.std).last_hidden_state.float()

    def _resize(self, t, size):
        import torch.nn.functional as F

        return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)

    # -- API ----------------------------------------------------------------------------------
    def prepare(self, image: Image.Image):
        """CPU side (runs in the pipeline's worker processes): crop mode, the ``(K, 3, S, S)`` normalised
        cells; token mode, the ``(1, 3, side, side)`` resized image."""
        import torch

        mean, std = self.mean.cpu(), self.std.cpu()
        if self.mode == "token":
            side = max(self.patch, self.token_size // self.patch * self.patch)
            return self._resize(_to_tensor(image), (side, side))
        boxes = cell_boxes(image.width, image.height, self.rows, self.cols)
        if self.cell_transform is not None:          # timm's transform on each PIL cell (normalised)
            return torch.stack([self.cell_transform(image.crop(box)) for box in boxes])
        t = _to_tensor(image)
        return torch.cat([(self._resize(t[:, :, top:b, l:r], self.input_size) - mean) / std
                          for (l, top, r, b) in boxes])

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """Model side: ``(N, K, D)`` unit vectors from :meth:`prepare` outputs."""
        import torch

        k = self.rows * self.cols
        if not prepared:
            return np.zeros((0, k, 0), np.float32)
        if self.mode == "token":
            return self._token(prepared)
        crops = torch.cat(prepared)
        feats = []
        for x, n in fixed_shape_chunks(crops, self.batch_size):          # the same shape every call
            h = self._forward(x.to(self.device, non_blocking=True), normalized=True)[:n]
            feats.append(torch.nn.functional.normalize(h.mean(dim=1), dim=-1).cpu())
        return torch.cat(feats).numpy().reshape(len(prepared), k, -1).astype(np.float32)

    def _token(self, prepared: list) -> np.ndarray:
        import torch

        side = prepared[0].shape[-1]
        n = side // self.patch
        rr, cr = split_ranges(n, self.rows), split_ranges(n, self.cols)
        out = []
        for x, k in fixed_shape_chunks(torch.cat(prepared), self.batch_size):      # the same shape every call
            x = x.to(self.device, non_blocking=True)
            tok = self._forward(x)[:k, self.n_skip :, :].reshape(k, n, n, -1)
            cells = [tok[:, a:b, c:d, :].mean(dim=(1, 2)) for (a, b) in rr for (c, d) in cr]
            out.append(torch.nn.functional.normalize(torch.stack(cells, 1), dim=-1).cpu())
        return torch.cat(out).numpy().astype(np.float32)


def _to_tensor(im: Image.Image):
    import torch

    a = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)


def center_crop_transform(size: int, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """timm's evaluation transform (``crop_pct`` 1): shorter side to ``size`` (bicubic, antialias),
    center crop ``size`` x ``size``, to tensor, normalise — what the released scripts apply to each cell."""
    from timm.data import create_transform

    return create_transform(input_size=(3, size, size), interpolation="bicubic", crop_pct=1.0, crop_mode="center",
                            mean=tuple(mean), std=tuple(std))
