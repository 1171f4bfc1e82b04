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


# -- a tiny Stable Diffusion pipeline (real diffusers classes, small configs) -----------------------
def _tiny_clip_tokenizer():
    """A character-level CLIP tokenizer (byte-level alphabet, no merges)."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in bytes_to_unicode().values():
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77), len(vocab)


def save_tiny_stable_diffusion(out_dir: str | Path, seed: int = 0) -> Path:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    out = Path(out_dir)
    tokenizer, vocab_size = _tiny_clip_tokenizer()
    text = CLIPTextModel(CLIPTextConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37,
                                        num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    unet = UNet2DConditionModel(sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
                                block_out_channels=(32, 64), norm_num_groups=32, cross_attention_dim=32,
                                attention_head_dim=8,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"))
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64),
                        norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                   scheduler=DDIMScheduler(clip_sample=False), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(out)
    return out
