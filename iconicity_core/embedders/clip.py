"""CLIP image embeddings via open_clip (recognition, ``f`` in docs/method.md).

Two things make the numbers right with OpenAI's weights:

* **QuickGELU.** OpenAI trained CLIP with QuickGELU; open_clip builds ``ViT-B-32`` / ``ViT-B-16`` with the
  ``openai`` tag using ``nn.GELU`` unless told (it only warns). Every model/tag pair whose pretrained
  config says ``quick_gelu`` (27 pairs in open_clip 3.3: every ``openai`` tag, ``laion400m``, ``metaclip``,
  ``dfn`` ...) is built with QuickGELU, and the embedder key says ``:quickgelu``.
* **The crop.** ``preprocess="open_clip"`` (default) is open_clip's transform (shortest side to the input
  size, bicubic, centre crop at ``round((L - S) / 2)``); ``preprocess="hf"`` is Hugging Face's CLIP
  processor, as the released scripts use it (the same resize, crop at ``floor((L - S) / 2)``: one pixel
  apart on some sizes), part of ``--preset authors``.

The worker side (:meth:`OpenClipEmbedder.prepare`) resizes and crops to the model's input as **uint8**
(the bytes the model consumes); the model side converts, normalises and embeds in batches on the device —
bit-identical to the float transform (``ToTensor`` is ``uint8 / 255``, then ``(x - mean) / std``). The resize
itself (``resize``): ``pil`` is Pillow's bicubic, exactly open_clip's / Hugging Face's; ``uint8`` is torch's
uint8 antialiased bicubic on the pixels in place (about 4x cheaper on a CPU; within one grey level of Pillow on
~0.3 % of the pixels, in the key as ``:u8``); ``auto`` picks ``uint8``, and ``pil`` for ``preprocess="hf"``
(the authors' preset stays exact).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .base import EmbedderInfo, GlobalEmbedder, ModelLoadError, file_digest, fixed_shape_chunks

if TYPE_CHECKING:
    import torch

CLIP_PREPROCESS = ("open_clip", "hf")
CLIP_RESIZES = ("auto", "pil", "uint8")


def quick_gelu_for(model: str, pretrained: str) -> bool:
    """Whether ``model`` with the weights tag ``pretrained`` was trained with QuickGELU (open_clip's
    pretrained config says so); a ``-quickgelu`` model name has it built in. Local checkpoints: False
    (name a ``-quickgelu`` model for them).

    >>> quick_gelu_for("ViT-B-32", "openai"), quick_gelu_for("ViT-B-32", "laion2b_s34b_b79k")
    (True, False)
    """
    import open_clip

    if "quickgelu" in model.lower():
        return False                                  # already in the architecture: no forcing needed
    try:
        return bool(open_clip.get_pretrained_cfg(model, pretrained).get("quick_gelu", False))
    except Exception:
        return False


def hf_resize_crop(im: Image.Image, size: int = 224) -> Image.Image:
    """Hugging Face's CLIP image processor on a PIL image, up to the crop: the shortest side to ``size``
    (the other to ``int(size * long / short)``), bicubic, then a centre crop at ``floor((L - size) / 2)``.

    >>> hf_resize_crop(Image.new("RGB", (300, 460)), 224).size
    (224, 224)
    """
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    im = im.convert("RGB").resize((new_w, new_h), Image.Resampling.BICUBIC, reducing_gap=None)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return im.crop((left, top, left + size, top + size))


def shortest_side_size(w: int, h: int, size: int) -> tuple[int, int]:
    """``(new_w, new_h)`` with the shortest side ``size`` and the other ``int(size * long / short)`` (what both
    torchvision's Resize and Hugging Face's processor compute)."""
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def uint8_resize_crop(im: Image.Image, size: int, floor_crop: bool) -> torch.Tensor:
    """Shortest side to ``size`` with torch's uint8 antialiased bicubic kernel (channels-last, no copy of the
    input), then a centre crop at ``round`` (open_clip) or ``floor`` (Hugging Face): a ``(3, S, S)`` uint8 tensor."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.array(im.convert("RGB"), np.uint8)).permute(2, 0, 1)[None]
    w, h = shortest_side_size(im.width, im.height, size)
    y = F.interpolate(x, size=(h, w), mode="bicubic", antialias=True)
    top = (h - size) // 2 if floor_crop else round((h - size) / 2.0)
    left = (w - size) // 2 if floor_crop else round((w - size) / 2.0)
    return y[0, :, top : top + size, left : left + size].contiguous()


def to_uint8_tensor(im: Image.Image):
    """``(3, H, W)`` uint8 tensor of an RGB image (shared memory across the worker boundary, 1 byte a value)."""
    import torch

    return torch.from_numpy(np.asarray(im.convert("RGB"), np.uint8).copy()).permute(2, 0, 1).contiguous()


#: The last words of a failed CLIP load where an image embedder will do (not for a text tower).
BASELINE_HINT = "; or use --clip-model baseline for the weight-free appearance baseline (not semantic)."

class OpenClipEmbedder(GlobalEmbedder):
    """Global image embedder. ``pretrained`` is an open_clip tag (``openai``) or a checkpoint path.

    Example (needs weights)::

        emb = OpenClipEmbedder("ViT-B-32", "openai", device="cpu")
        vecs = emb.embed([Image.open("a.jpg").convert("RGB")])
    """

    def __init__(self, model: str = "ViT-B-32", pretrained: str = "openai", device: str = "cpu",
                 batch_size: int = 32, preprocess: str = "open_clip", resize: str = "auto") -> None:
        import open_clip
        import torch

        if preprocess not in CLIP_PREPROCESS:
            raise ValueError(f"CLIP preprocessing must be one of {', '.join(CLIP_PREPROCESS)}, got {preprocess!r}")
        if resize not in CLIP_RESIZES:
            raise ValueError(f"CLIP resize must be one of {', '.join(CLIP_RESIZES)}, got {resize!r}")
        self.device, self.batch_size, self.preprocess_mode = device, batch_size, preprocess
        self.resize = ("pil" if preprocess == "hf" else "uint8") if resize == "auto" else resize
        local = Path(pretrained).expanduser()
        is_path = local.suffix in (".pt", ".pth", ".bin", ".safetensors") or local.exists()
        if is_path and not local.is_file():
            raise ModelLoadError(f"--clip-pretrained {pretrained}: no such checkpoint file")
        quick = not is_path and quick_gelu_for(model, pretrained)
        try:
            net, _, transform = open_clip.create_model_and_transforms(
                model, pretrained=str(local) if is_path else pretrained, device=device, force_quick_gelu=quick
            )
        except Exception as e:  # open_clip raises RuntimeError / HF errors / OSError
            raise ModelLoadError(
                f"could not load CLIP model {model!r} with weights {pretrained!r}: {e}\n"
                "What to do: check the model name (open_clip.list_models()) and tag "
                "(open_clip.list_pretrained()); if this machine is offline, download the weights "
                "once where there is network (they are cached under ~/.cache/huggingface) or pass "
                "--clip-pretrained /path/to/checkpoint.safetensors", BASELINE_HINT
            ) from None
        self.model = net.eval()
        self.model_name = model
        steps = list(getattr(transform, "transforms", []))
        self._to_input = [t for t in steps if type(t).__name__ in ("Resize", "CenterCrop", "ResizeKeepRatio",
                                                                     "CenterCropOrPad")]
        names = [type(t).__name__ for t in self._to_input]
        if self.resize == "uint8" and preprocess == "open_clip" and not (
                names == ["Resize", "CenterCrop"] and isinstance(self._to_input[0].size, int)
                and "BICUBIC" in str(self._to_input[0].interpolation)):
            self.resize = "pil"                           # another transform shape: Pillow, exactly as open_clip
        norm = next((t for t in steps if type(t).__name__ == "Normalize"), None)
        mean = tuple(norm.mean) if norm is not None else (0.48145466, 0.4578275, 0.40821073)
        std = tuple(norm.std) if norm is not None else (0.26862954, 0.26130258, 0.27577711)
        size = getattr(net.visual, "image_size", 224)
        self.input_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        self.dtype = torch.float16 if device.startswith("cuda") else torch.float32
        activation = "quickgelu" if quick or "quickgelu" in model.lower() else "gelu"
        weights = file_digest(local) if is_path else pretrained
        self.info = EmbedderInfo(
            key=f"open_clip:{model}:{weights}" + (":quickgelu" if quick else "") + (":hf-crop" if preprocess == "hf" else "")
                + (":u8" if self.resize == "uint8" else ""),
            family="open_clip",
            model=model,
            weights=weights,
            preprocessing=(_describe(transform) if preprocess == "open_clip" else
                           f"HF CLIP processor: shortest side {self.input_size} (int), bicubic, centre crop at floor")
                          + f" | resized by {self.resize}, uint8 to the model stage, normalised there",
            extra={"pretrained_arg": local.name if is_path else pretrained,
                   "precision": str(self.dtype).replace("torch.", ""), "activation": activation,
                   "preprocess": preprocess, "resize": self.resize},
        )

    def prepare(self, image: Image.Image):
        """CPU side (the pipeline's worker processes): the model's input as a ``(3, S, S)`` uint8 tensor."""
        if self.resize == "uint8":
            return uint8_resize_crop(image, self.input_size, floor_crop=self.preprocess_mode == "hf")
        if self.preprocess_mode == "hf":
            return to_uint8_tensor(hf_resize_crop(image, self.input_size))
        im = image
        for t in self._to_input:
            im = t(im)
        return to_uint8_tensor(im)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """Model side: ``(N, D)`` unit vectors from :meth:`prepare` outputs (normalised on the device, in
        fixed-shape batches)."""
        import torch

        if not prepared:
            return np.zeros((0, 0), np.float32)
        out = []
        for x, n in fixed_shape_chunks(torch.stack(prepared), self.batch_size):   # same shape every call
            x = x.to(self.device, non_blocking=True).float().div(255).sub(self.mean).div(self.std)
            with torch.inference_mode(), torch.autocast(
                "cuda", dtype=torch.float16, enabled=self.dtype == torch.float16
            ):
                f = self.model.encode_image(x)[:n]
            out.append(torch.nn.functional.normalize(f.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """``(N, D)`` unit vectors from the CLIP text tower (the tokenizer ships with open_clip)."""
        import open_clip
        import torch

        tok = open_clip.get_tokenizer(self.model_name)
        out = []
        for i in range(0, len(texts), 256):
            with torch.inference_mode():
                f = self.model.encode_text(tok(texts[i : i + 256]).to(self.device))
            out.append(torch.nn.functional.normalize(f.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def _describe(preprocess) -> str:
    return " | ".join(type(t).__name__ + _arg(t) for t in getattr(preprocess, "transforms", []))


def _arg(t) -> str:
    size = getattr(t, "size", None)
    return f"({size})" if size is not None else ""
