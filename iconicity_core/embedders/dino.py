"""DINOv3 cell features via transformers (realization, ``g`` in docs/method.md).

Two patch modes:

* ``crop`` (paper-faithful, default): every grid cell is cropped from the image and embedded on its
  own; its feature is the mean of all output tokens (as in the authors' script). How a cell becomes
  the model's input (``cell_preprocess``): ``squash`` resizes it to the input size (bilinear,
  antialiased); ``center-crop`` is timm's evaluation transform, as the released scripts apply it —
  shorter side to ``cell_size`` (bicubic, antialiased), center crop ``cell_size`` x ``cell_size``.
* ``token``: one forward pass over the whole image resized to ``token_size``; the patch tokens
  are average-pooled into the grid cells (same split rule as the crop grid). ~16x cheaper.

Where the resizing happens (``resize``, recorded in the embedder key and info):

* ``uint8`` — the worker processes resize with torch's uint8 antialiased bilinear kernels (one thread each)
  and hand the model stage the **uint8** pixels the model consumes: the cheapest path on a CPU, its default;
  within one grey level of the float path (rounding);
* ``torch`` — the worker cuts the cells as uint8 at their own size, and the model stage resizes them
  with ``torch`` (bilinear, antialiased, in float) in batches on the device — the arithmetic of
  versions before 0.2.0, which keeps their embedder key (the default with ``--device cuda``).
* ``center-crop`` cells (the authors' preset) always go through timm's transform up to its crop, in
  Pillow (uint8, exact), and are normalised in the model stage: bit-identical to timm's transform.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..core.grid import cell_boxes, split_ranges
from .base import CellEmbedder, EmbedderInfo, ModelLoadError, dir_digest, fixed_shape_chunks, hf_token

if TYPE_CHECKING:
    import torch

PATCH_MODES = ("crop", "token")
CELL_PREPROCESS = ("squash", "center-crop")
RESIZES = ("auto", "uint8", "torch")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Dinov3CellEmbedder(CellEmbedder):
    """Cell embedder over a DINOv3 ViT loaded from a Hub id or a ``save_pretrained`` directory."""

    def __init__(self, model: str = "facebook/dinov3-vits16-pretrain-lvd1689m", mode: str = "crop",
                 rows: int = 4, cols: int = 4, device: str = "cpu", batch_size: int = 64,
                 token_size: int = 224, cell_preprocess: str = "squash", cell_size: int | None = None,
                 resize: str = "auto") -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel

        if mode not in PATCH_MODES:
            raise ValueError(f"patch mode must be one of {PATCH_MODES}, got {mode!r}")
        if cell_preprocess not in CELL_PREPROCESS:
            raise ValueError(f"cell preprocessing must be one of {CELL_PREPROCESS}, got {cell_preprocess!r}")
        if resize not in RESIZES:
            raise ValueError(f"resize must be one of {', '.join(RESIZES)}, got {resize!r}")
        self.resize = ("torch" if device.startswith("cuda") else "uint8") if resize == "auto" else resize
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
        # timm's transform up to its crop (PIL, uint8); its ToTensor + Normalize run in the model stage
        self._timm_to_input = ([t for t in self.cell_transform.transforms
                                if type(t).__name__ in ("Resize", "CenterCrop", "ResizeKeepRatio")]
                               if self.cell_transform is not None else [])
        if self.cell_preprocess == "center-crop":
            self.resize = "timm"
        self.n_skip = 1 + int(getattr(net.config, "num_register_tokens", 0) or 0)
        self.patch = int(net.config.patch_size)
        self.dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.model = net.eval().to(device)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        weights = dir_digest(local) if local.is_dir() else str(
            getattr(net.config, "_commit_hash", None) or "hub"
        )
        geom = f"{mode}:{rows}x{cols}" + (f":{token_size}" if mode == "token" else "") + (
            f":cc{self.input_size[0]}" if self.cell_preprocess == "center-crop" else
            f":{self.input_size[0]}" if cell_size else "") + (":u8" if self.resize == "uint8" else "")
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
                + f", resized by {self.resize}, uint8 to the model stage, normalised there ({proc_note})"
            ),
            extra={"precision": str(self.dtype).replace("torch.", ""), "grid": f"{rows}x{cols}",
                   "cell_preprocess": self.cell_preprocess, "cell_size": self.input_size[0], "resize": self.resize},
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
    def _side(self) -> int:
        return max(self.patch, self.token_size // self.patch * self.patch)

    def prepare(self, image: Image.Image):
        """CPU side (the pipeline's worker processes), always uint8: crop mode, the ``(K, 3, S, S)`` cells at
        the model's input size (``uint8`` / ``timm``) or the K cells at their own size (``torch``, a list);
        token mode, the ``(3, side, side)`` image (``uint8``) or the image itself (``torch``)."""
        import torch
        import torch.nn.functional as F

        from .clip import to_uint8_tensor

        if self.mode == "token":
            if self.resize == "uint8":
                side = self._side()
                return F.interpolate(_hwc_view(image), size=(side, side), mode="bilinear", antialias=True)[0].contiguous()
            return to_uint8_tensor(image)
        boxes = cell_boxes(image.width, image.height, self.rows, self.cols)
        if self.resize == "timm":                    # timm's transform up to its crop, on each PIL cell
            out = []
            for box in boxes:
                cell = image.crop(box)
                for t in self._timm_to_input:
                    cell = t(cell)
                out.append(to_uint8_tensor(cell))
            return torch.stack(out)
        if self.resize == "uint8":                   # torch's uint8 AA kernels on channels-last views: no copy in
            full = _hwc_view(image)
            return torch.cat([F.interpolate(full[:, :, t:b, l:r], size=self.input_size, mode="bilinear", antialias=True)
                              for (l, t, r, b) in boxes]).contiguous()
        full = to_uint8_tensor(image)
        return [full[:, top:b, l:r].contiguous() for (l, top, r, b) in boxes]

    def _to_model_input(self, x):
        """uint8 ``(N, 3, H, W)`` on the device -> normalised float (``ToTensor`` then ``Normalize``)."""
        return x.float().div(255).sub(self.mean).div(self.std)

    def _torch_resized(self, cells: list) -> torch.Tensor:
        """``torch`` path: cells cut at their own size, resized on the device in float (bilinear, antialias)
        as before 0.2.0 — cells of one size together, in their order."""
        import torch

        dev = [c.to(self.device, non_blocking=True) for c in cells]
        out: list = [None] * len(dev)
        by_shape: dict = {}
        for i, c in enumerate(dev):
            by_shape.setdefault(tuple(c.shape), []).append(i)
        for idx in by_shape.values():
            t = torch.stack([dev[i] for i in idx]).float().div(255)
            r = self._resize(t, self.input_size).sub(self.mean).div(self.std)
            for j, i in enumerate(idx):
                out[i] = r[j]
        return torch.stack(out)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """Model side: ``(N, K, D)`` unit vectors from :meth:`prepare` outputs."""
        import torch

        k = self.rows * self.cols
        if not prepared:
            return np.zeros((0, k, 0), np.float32)
        if self.mode == "token":
            return self._token(prepared)
        if self.resize == "torch":
            crops = self._torch_resized([c for p in prepared for c in p])
        else:
            crops = self._to_model_input(torch.cat(prepared).to(self.device, non_blocking=True))
        feats = []
        for x, n in fixed_shape_chunks(crops, self.batch_size):          # the same shape every call
            h = self._forward(x, normalized=True)[:n]
            feats.append(torch.nn.functional.normalize(h.mean(dim=1), dim=-1).cpu())
        return torch.cat(feats).numpy().reshape(len(prepared), k, -1).astype(np.float32)

    def _token(self, prepared: list) -> np.ndarray:
        import torch

        side = self._side()
        n = side // self.patch
        rr, cr = split_ranges(n, self.rows), split_ranges(n, self.cols)
        if self.resize == "torch":
            x_all = torch.cat([self._resize(p.to(self.device, non_blocking=True).float().div(255)[None], (side, side))
                               for p in prepared]).sub(self.mean).div(self.std)
        else:
            x_all = self._to_model_input(torch.stack(prepared).to(self.device, non_blocking=True))
        out = []
        for x, k in fixed_shape_chunks(x_all, self.batch_size):      # the same shape every call
            tok = self._forward(x, normalized=True)[:k, self.n_skip :, :].reshape(k, n, n, -1)
            cells = [tok[:, a:b, c:d, :].mean(dim=(1, 2)) for (a, b) in rr for (c, d) in cr]
            out.append(torch.nn.functional.normalize(torch.stack(cells, 1), dim=-1).cpu())
        return torch.cat(out).numpy().astype(np.float32)


def _hwc_view(im: Image.Image):
    """``(1, 3, H, W)`` uint8 view of an RGB image's pixels in channels-last memory (no copy)."""
    import torch

    a = np.array(im.convert("RGB"), np.uint8)               # writable: torch shares its memory
    return torch.from_numpy(a).permute(2, 0, 1)[None]


def center_crop_transform(size: int, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """timm's evaluation transform (``crop_pct`` 1): shorter side to ``size`` (bicubic, antialias),
    center crop ``size`` x ``size``, to tensor, normalise — what the released scripts apply to each cell."""
    from timm.data import create_transform

    return create_transform(input_size=(3, size, size), interpolation="bicubic", crop_pct=1.0, crop_mode="center",
                            mean=tuple(mean), std=tuple(std))
