"""CLIP image embeddings via open_clip (recognition, ``f`` in docs/method.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .base import EmbedderInfo, GlobalEmbedder, ModelLoadError, file_digest, fixed_shape_chunks


class OpenClipEmbedder(GlobalEmbedder):
    """Global image embedder. ``pretrained`` is an open_clip tag (``openai``) or a checkpoint path.

    Example (needs weights)::

        emb = OpenClipEmbedder("ViT-B-32", "openai", device="cpu")
        vecs = emb.embed([Image.open("a.jpg").convert("RGB")])
    """

    def __init__(self, model: str = "ViT-B-32", pretrained: str = "openai", device: str = "cpu",
                 batch_size: int = 32) -> None:
        import open_clip
        import torch

        self.device, self.batch_size = device, batch_size
        local = Path(pretrained).expanduser()
        is_path = local.suffix in (".pt", ".pth", ".bin", ".safetensors") or local.exists()
        if is_path and not local.is_file():
            raise ModelLoadError(f"--clip-pretrained {pretrained}: no such checkpoint file")
        try:
            net, _, preprocess = open_clip.create_model_and_transforms(
                model, pretrained=str(local) if is_path else pretrained, device=device
            )
        except Exception as e:  # open_clip raises RuntimeError / HF errors / OSError
            raise ModelLoadError(
                f"could not load CLIP model {model!r} with weights {pretrained!r}: {e}\n"
                "What to do: check the model name (open_clip.list_models()) and tag "
                "(open_clip.list_pretrained()); if this machine is offline, download the weights "
                "once where there is network (they are cached under ~/.cache/huggingface) or pass "
                "--clip-pretrained /path/to/checkpoint.safetensors; or use --clip-model baseline "
                "for the weight-free appearance baseline (not semantic)."
            ) from None
        self.model = net.eval()
        self.preprocess = preprocess
        self.model_name = model
        self.dtype = torch.float16 if device.startswith("cuda") else torch.float32
        weights = file_digest(local) if is_path else pretrained
        self.info = EmbedderInfo(
            key=f"open_clip:{model}:{weights}",
            family="open_clip",
            model=model,
            weights=weights,
            preprocessing=_describe(preprocess),
            extra={"pretrained_arg": local.name if is_path else pretrained,
                   "precision": str(self.dtype).replace("torch.", "")},
        )

    def prepare(self, image: Image.Image):
        """CPU side (runs in the pipeline's worker processes): the model's input tensor."""
        return self.preprocess(image)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """Model side: ``(N, D)`` unit vectors from :meth:`prepare` outputs."""
        import torch

        out = []
        if not prepared:
            return np.zeros((0, 0), np.float32)
        for x, n in fixed_shape_chunks(torch.stack(prepared), self.batch_size):   # same shape every call
            with torch.inference_mode(), torch.autocast(
                "cuda", dtype=torch.float16, enabled=self.dtype == torch.float16
            ):
                f = self.model.encode_image(x.to(self.device, non_blocking=True))[:n]
            out.append(torch.nn.functional.normalize(f.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)

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
