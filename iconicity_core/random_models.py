"""Randomly initialised models of the real architectures, saved where the loaders can read them.

Used by the tests (no weights can be downloaded there) and by ``bench/`` (random weights cost the
same to run as trained ones). Never use them for real scores. Example::

    save_random_dinov3("/tmp/dino")      # then: iconicity score DATA --dino-model /tmp/dino
"""
from __future__ import annotations

from pathlib import Path

#: Real DINOv3 ViT-S/16 geometry (facebook/dinov3-vits16-pretrain-lvd1689m).
VITS16 = dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
              num_register_tokens=4, patch_size=16, layerscale_value=1.0)
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            num_register_tokens=4, patch_size=16)


def save_random_dinov3(out_dir: str | Path, tiny: bool = True, seed: int = 0) -> Path:
    """Write a random-init DINOv3 ViT (model + image processor) with ``save_pretrained``."""
    import torch
    from transformers import DINOv3ViTConfig, DINOv3ViTImageProcessor, DINOv3ViTModel

    torch.manual_seed(seed)
    out = Path(out_dir)
    model = DINOv3ViTModel(DINOv3ViTConfig(**(TINY if tiny else VITS16))).eval()
    model.save_pretrained(out)
    DINOv3ViTImageProcessor().save_pretrained(out)
    return out


def save_random_open_clip(path: str | Path, model: str = "ViT-S-32", seed: int = 0) -> Path:
    """Write a random-init open_clip model's state dict as ``.safetensors``."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    net = open_clip.create_model(model, pretrained=None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path
