"""Parity with the released scripts, checked offline: `iconicity score --preset authors` against an independent
re-implementation of `compute_CRA.py` / `compute_VR.py` (De Rosa Palmini & Cetinic) written from the scripts'
text, rule by rule — each rule below cites the line of the scripts it follows, and nothing here imports the
project's file selection or metric code — both loading the *same* random-init weights of the real geometries
through their normal model names from an offline Hugging Face Hub cache that this script lays out:

* ours:    open_clip `ViT-B-16` + tag `openai` (QuickGELU)      | HF `facebook/dinov3-vits16-pretrain-lvd1689m`
* scripts: HF `openai/clip-vit-base-patch16` (CLIPModel, the processor's PIL path; their ST-CLIP first choice is
           not in the cache, so they fall back to it as they would) | timm `vit_small_patch16_dinov3.lvd1689m`

with the weights mapped between the two codebases (open_clip -> HF CLIP; timm -> HF DINOv3). The dataset is in
the authors' layout: non-square generations, static and dynamic works, a static folder with two images
(`poster.png` / `still.jpg`: the first by name) and one whose first file is hidden, TIFF references and
generations (`.tiff` listed, `.tif` not), near-duplicate references at pHash distance 0 / 18 / 20, a k-gen window
with a TIFF and an undecodable file inside it, every decode edge case (alpha, EXIF, 16-bit, palette, LA, CMYK,
BMP, WEBP, upper-case suffix, hidden file, sub-folder, .gif/.tif/.jfif), and a third model pointing at the first
one's generation folder; scored in two calls (static, then dynamic).

Decisions are checked *on the cut*: besides the scripts' τ (0.70 static, 0.75 dynamic), at τ equal to observed
similarities — exactly, and one float64 step above (then float32(τ) is the similarity: a static work passes
under the scripts' float32 comparison, a dynamic one fails under their float64 one) — our `cra_pass` is compared
with the scripts' comparison applied to the same similarity, and end to end with the scripts' own decision
wherever both sides' similarities are farther from τ than the largest |Δ| (closer, the embedders' last bits
decide, on either side). (The released CRA script itself needs transformers
4.57: under 5.x `get_image_features` returns an output object and its `F.normalize` fails; the re-implementation
takes that object's `pooler_output`, which is what 4.57 returns.)

    python bench/parity_authors.py [--workdir DIR] [--small]

Prints, per quantity, the max |Δ| over the generations both sides score (CLIP similarity, VR max / mean / p90),
which files each side scored and kept, and the decisions that differ; exits 1 when a target is missed
(CLIP |Δ| <= 1e-4, VR |Δ| <= 5e-5, the same files but the documented shared-folder skip, no decision differing).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC_TAU, DYNAMIC_TAU = 0.70, 0.75              # compute_CRA.py: IC_TAU_STATIC_DEFAULT / IC_TAU_DYNAMIC_DEFAULT
GRID = 4                                           # compute_VR.py: GRID_ROWS_DEFAULT = GRID_COLS_DEFAULT = 4
SHARED = ("sdC", "sdA")                            # model sdC reads model sdA's generation folder


# -- the offline Hub cache -------------------------------------------------------------------------------------
def build_weights(hf_home: Path) -> None:
    import open_clip
    import timm
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPConfig, CLIPModel, DINOv3ViTConfig, DINOv3ViTImageProcessor, DINOv3ViTModel

    from iconicity_core.testing import VITS16, hub_cache_put

    tmp = Path(tempfile.mkdtemp())
    # CLIP ViT-B/16: open_clip random init (QuickGELU), then the same vision weights in HF's layout
    torch.manual_seed(0)
    oc = open_clip.create_model("ViT-B-16", pretrained=None, force_quick_gelu=True).eval()
    save_file({k: v.contiguous() for k, v in oc.state_dict().items()}, str(tmp / "open_clip_model.safetensors"))
    hub_cache_put(hf_home, "timm/vit_base_patch16_clip_224.openai", {"open_clip_model.safetensors": tmp / "open_clip_model.safetensors"})
    cfg = CLIPConfig(vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                        num_attention_heads=12, image_size=224, patch_size=16, hidden_act="quick_gelu",
                                        projection_dim=512),
                     text_config=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                                      num_attention_heads=8, hidden_act="quick_gelu", projection_dim=512),
                     projection_dim=512)
    hf = CLIPModel(cfg).eval()
    v, sd = oc.visual, {}
    sd["vision_model.embeddings.patch_embedding.weight"] = v.conv1.weight
    sd["vision_model.embeddings.class_embedding"] = v.class_embedding
    sd["vision_model.embeddings.position_embedding.weight"] = v.positional_embedding
    sd["vision_model.pre_layrnorm.weight"], sd["vision_model.pre_layrnorm.bias"] = v.ln_pre.weight, v.ln_pre.bias
    for i, blk in enumerate(v.transformer.resblocks):
        p = f"vision_model.encoder.layers.{i}."
        q, k, vv = blk.attn.in_proj_weight.chunk(3)
        qb, kb, vb = blk.attn.in_proj_bias.chunk(3)
        sd |= {p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k, p + "self_attn.v_proj.weight": vv,
               p + "self_attn.q_proj.bias": qb, p + "self_attn.k_proj.bias": kb, p + "self_attn.v_proj.bias": vb,
               p + "self_attn.out_proj.weight": blk.attn.out_proj.weight, p + "self_attn.out_proj.bias": blk.attn.out_proj.bias,
               p + "layer_norm1.weight": blk.ln_1.weight, p + "layer_norm1.bias": blk.ln_1.bias,
               p + "layer_norm2.weight": blk.ln_2.weight, p + "layer_norm2.bias": blk.ln_2.bias,
               p + "mlp.fc1.weight": blk.mlp.c_fc.weight, p + "mlp.fc1.bias": blk.mlp.c_fc.bias,
               p + "mlp.fc2.weight": blk.mlp.c_proj.weight, p + "mlp.fc2.bias": blk.mlp.c_proj.bias}
    sd["vision_model.post_layernorm.weight"], sd["vision_model.post_layernorm.bias"] = v.ln_post.weight, v.ln_post.bias
    sd["visual_projection.weight"] = v.proj.T
    missing = hf.load_state_dict({k: t.detach().clone() for k, t in sd.items()}, strict=False)
    assert not [m for m in missing.missing_keys if m.startswith("vision_model") or m.startswith("visual_projection")]
    hf.save_pretrained(tmp / "hf_clip")
    hub_cache_put(hf_home, "openai/clip-vit-base-patch16", {f.name: f for f in (tmp / "hf_clip").iterdir()})
    # DINOv3 ViT-S/16: timm random init, then the same weights in HF's layout (q and v biases zero: timm's
    # non-qkvb variant has none; HF's k projection has none either)
    torch.manual_seed(1)
    tm = timm.create_model("vit_small_patch16_dinov3.lvd1689m", pretrained=False).eval()
    save_file({k: v.contiguous() for k, v in tm.state_dict().items()}, str(tmp / "model.safetensors"))
    hub_cache_put(hf_home, "timm/vit_small_patch16_dinov3.lvd1689m", {"model.safetensors": tmp / "model.safetensors"})
    hd = DINOv3ViTModel(DINOv3ViTConfig(**VITS16)).eval()
    t, sd = tm.state_dict(), {}
    sd["embeddings.cls_token"], sd["embeddings.register_tokens"] = t["cls_token"], t["reg_token"]
    sd["embeddings.patch_embeddings.weight"] = t["patch_embed.proj.weight"]
    sd["embeddings.patch_embeddings.bias"] = t["patch_embed.proj.bias"]
    for i in range(len(tm.blocks)):
        b, p = f"blocks.{i}.", f"model.layer.{i}."
        q, k, vv = t[b + "attn.qkv.weight"].chunk(3)
        d = q.shape[0]
        sd |= {p + "norm1.weight": t[b + "norm1.weight"], p + "norm1.bias": t[b + "norm1.bias"],
               p + "attention.q_proj.weight": q, p + "attention.k_proj.weight": k, p + "attention.v_proj.weight": vv,
               p + "attention.q_proj.bias": torch.zeros(d), p + "attention.v_proj.bias": torch.zeros(d),
               p + "attention.o_proj.weight": t[b + "attn.proj.weight"], p + "attention.o_proj.bias": t[b + "attn.proj.bias"],
               p + "layer_scale1.lambda1": t[b + "gamma_1"], p + "layer_scale2.lambda1": t[b + "gamma_2"],
               p + "norm2.weight": t[b + "norm2.weight"], p + "norm2.bias": t[b + "norm2.bias"],
               p + "mlp.up_proj.weight": t[b + "mlp.fc1.weight"], p + "mlp.up_proj.bias": t[b + "mlp.fc1.bias"],
               p + "mlp.down_proj.weight": t[b + "mlp.fc2.weight"], p + "mlp.down_proj.bias": t[b + "mlp.fc2.bias"]}
    sd["norm.weight"], sd["norm.bias"] = t["norm.weight"], t["norm.bias"]
    res = hd.load_state_dict(sd, strict=False)
    assert set(res.missing_keys) <= {"embeddings.mask_token"}, res.missing_keys
    hd.save_pretrained(tmp / "hf_dino")
    DINOv3ViTImageProcessor().save_pretrained(tmp / "hf_dino")
    hub_cache_put(hf_home, "facebook/dinov3-vits16-pretrain-lvd1689m", {f.name: f for f in (tmp / "hf_dino").iterdir()})
    shutil.rmtree(tmp)


# -- the dataset -------------------------------------------------------------------------------------------------
def _texture(seed: int, w: int, h: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return Image.fromarray(np.clip(np.asarray(im, int) + rng.integers(-25, 26, (h, w, 3)), 0, 255).astype(np.uint8))


def _near_duplicates(base, distances: tuple[int, ...]):
    """Images whose pHash is exactly each of ``distances`` from ``base``'s (blends with another image)."""
    import imagehash
    from PIL import Image

    other = _texture(999, *base.size)
    h0, out = imagehash.phash(base), {}
    for step in range(1, 400):
        im = Image.blend(base, other, step / 400)
        d = h0 - imagehash.phash(im)
        if d in distances and d not in out:
            out[d] = im
        if len(out) == len(distances):
            break
    if 0 in distances:
        out[0] = base.point(lambda v: min(255, v + 1))       # one grey level brighter: the same pHash
    missing = set(distances) - set(out)
    if missing:
        raise RuntimeError(f"no blend at pHash distance {sorted(missing)}")
    return out


# -- the dataset -------------------------------------------------------------------------------------------------
def build_dataset(root: Path, small: bool) -> dict:
    import numpy as np
    from PIL import Image

    refs, gen = root / "refs", root / "gen"
    sizes = [(300, 460), (460, 300), (517, 389), (640, 480), (333, 333), (401, 257)]
    static = {"Great Wave": 1, "Starry Night": 2, "The Scream": 3} if small else \
        {"Great Wave": 1, "Starry Night": 2, "The Scream": 3, "Guernica": 4}
    dynamic = {"Breaking Bad": 10} if small else {"Breaking Bad": 10, "The Seventh Seal": 11}
    first = {}                                      # the static reference each work's generations copy
    for name, s in static.items():
        (refs / name).mkdir(parents=True)
        _texture(s, *sizes[s % len(sizes)]).save(refs / name / "poster.png")
        first[name] = refs / name / "poster.png"
    _texture(50, 420, 300).save(refs / "Great Wave" / "still.jpg", quality=95)       # after poster.png by name
    _texture(51, 360, 420).save(refs / "Starry Night" / ".cover.png")                 # hidden: sorts first
    first["Starry Night"] = refs / "Starry Night" / ".cover.png"
    (refs / "The Scream" / "poster.png").unlink()
    _texture(52, 380, 300).save(refs / "The Scream" / "a_scan.tif", format="TIFF")    # not listed (.tif)
    _texture(53, 300, 380).save(refs / "The Scream" / "b_scan.tiff", format="TIFF")   # listed: the reference
    first["The Scream"] = refs / "The Scream" / "b_scan.tiff"
    for name, s in dynamic.items():
        (refs / name).mkdir(parents=True)
        base = _texture(s, 480, 320)
        base.save(refs / name / "a_still.png")
        for d, im in sorted(_near_duplicates(base, (0, 18, 20)).items()):
            im.save(refs / name / f"b_dist{d:02d}.png")
        _texture(s + 100, 360, 480).save(refs / name / "c_other.jpg", quality=92)
        _texture(s + 200, 400, 300).save(refs / name / "d_frame.tiff", format="TIFF")
        first[name] = refs / name / "d_frame.tiff"                                    # copies match the TIFF
    k_gen = 10 if small else 50
    window = {"Great Wave": k_gen + 2}               # a folder longer than the k-gen window
    count = 0
    for m, model in enumerate(("sdA", "sdB")):
        for name in [*static, *dynamic]:
            d = gen / model / name
            d.mkdir(parents=True)
            n = window.get(name, 4 if small else 8) if m == 0 else 3 if small else 6
            for i in range(n):
                w, h = sizes[(i + m) % len(sizes)]
                im = Image.open(first[name]).convert("RGB")
                im = im.resize((w, h)) if i % 3 == 0 else _texture(1000 + 97 * m + 7 * i + zlib.crc32(name.encode()) % 50, w, h)
                im.save(d / f"img_{i:03d}.png")
                count += 1
    g = gen / "sdA" / "Great Wave"                   # inside the window: a TIFF, an undecodable file, a .tif
    Image.open(first["Great Wave"]).convert("RGB").resize((333, 250)).save(g / "img_002b.tiff", format="TIFF")
    (g / "img_004b_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    _texture(60, 300, 300).save(g / "img_003b.tif", format="TIFF")
    g = gen / "sdA" / "Starry Night"
    rgba = np.concatenate([np.asarray(_texture(70, 300, 460)), np.full((460, 300, 1), 90, np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(g / "edge_rgba.png")
    ex = Image.Exif()
    ex[0x0112] = 6
    _texture(71, 460, 300).save(g / "edge_exif.jpg", exif=ex.tobytes(), quality=93)
    sixteen = (np.asarray(_texture(72, 300, 460).convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(sixteen).save(g / "edge_16bit.png")
    _texture(73, 300, 460).quantize(64).save(g / "edge_palette.png")
    Image.fromarray(np.concatenate([np.asarray(_texture(74, 300, 460).convert("L"))[..., None],
                                    np.full((460, 300, 1), 140, np.uint8)], -1), "LA").save(g / "edge_la.png")
    _texture(75, 300, 460).convert("CMYK").save(g / "edge_cmyk.jpg", quality=92)
    _texture(76, 301, 457).save(g / "edge_odd.bmp")
    _texture(77, 300, 460).save(g / "edge.webp", quality=90)
    _texture(78, 300, 460).save(g / "EDGE_UPPER.PNG")
    _texture(79, 300, 460).save(g / "edge_frame.tiff", format="TIFF")
    for ext, fmt in (("gif", "GIF"), ("tif", "TIFF"), ("jfif", "JPEG")):               # not the scripts' extensions
        _texture(80, 300, 460).save(g / f"edge.{ext}", format=fmt)
    _texture(81, 300, 460).save(g / ".edge_hidden.png")
    (g / "sub").mkdir()
    _texture(82, 300, 460).save(g / "sub" / "nested.png")
    for kind, names in (("static", static), ("dynamic", dynamic)):
        with open(root / f"prompts_{kind}.csv", "w", newline="") as f:
            csv.writer(f).writerows([["label_clean", "label"], *[[n, n] for n in names]])
    gendirs = {"sdA": gen / "sdA", "sdB": gen / "sdB", SHARED[0]: gen / SHARED[1]}      # MODEL_GENDIRS_*
    return {"refs": refs, "gendirs": gendirs, "static": list(static), "dynamic": list(dynamic), "k_gen": k_gen,
            "files": count}


# -- the scripts, re-implemented from their text (compute_CRA.py / compute_VR.py; each rule cites its line) -------
EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tiff"}   # both scripts: EXTS = {".jpg", ..., ".tiff"}
PHASH_DUP_THRESH = 18                                         # both scripts: PHASH_DUP_THRESH = 18


def norm_slug(s: str) -> str:
    # both scripts, norm_slug: s.strip().replace(" ", "_").lower()
    return "_".join(s.strip().split(" ")).lower()


def index_slug_dirs(root: Path) -> dict[str, Path]:
    # both scripts, index_slug_dirs: for q in sorted([q for q in root.iterdir() if q.is_dir() and not
    # q.name.startswith(".")]): out[norm_slug(q.name)] = q   — the last folder of a slug wins
    out = {}
    for q in sorted(q for q in root.iterdir() if q.is_dir() and q.name[:1] != "."):
        out[norm_slug(q.name)] = q
    return out


def list_images(folder: Path) -> list[Path]:
    # both scripts, list_images: sorted([p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTS])
    # — Path order (by name: hidden and upper-case names first), files directly in the folder, any case of suffix
    if not folder.exists():
        return []
    found = [q for q in folder.iterdir() if q.suffix.lower() in EXTS and q.is_file()]
    return sorted(found)


def read_rgb(path: Path):
    from PIL import Image

    # both scripts, load_*: Image.open(pth).convert("RGB")   — no EXIF rotation, alpha dropped, Pillow's conversion
    return Image.open(path).convert("RGB")


def load_first_ref_image(folder: Path):
    # both scripts, load_first_ref_image: paths = list_images(slug_ref_dir); ... return Image.open(paths[0]) ...
    paths = list_images(folder)
    if not paths:
        raise FileNotFoundError(folder)
    return read_rgb(paths[0]), paths[0]


def load_all_ref_images(folder: Path):
    # both scripts, load_all_ref_images: every listed file, those that fail to load skipped with a warning
    kept_imgs, kept_paths = [], []
    for path in list_images(folder):
        try:
            kept_imgs.append(read_rgb(path))
        except Exception:
            continue
        kept_paths.append(path)
    return kept_imgs, kept_paths


def load_gen_images(folder: Path, k: int):
    # both scripts, load_gen_images: paths = list_images(slug_gen_dir)[:k] — the window counts every listed
    # file; then each is loaded, failures skipped ("[warn] Failed to load generated image")
    imgs, kept = [], []
    for path in list_images(folder)[:k]:
        try:
            imgs.append(read_rgb(path))
        except Exception:
            continue
        kept.append(path)
    return imgs, kept


def dedup_refs_by_phash(imgs, paths):
    import imagehash

    # both scripts, dedup_refs_by_phash: h = imagehash.phash(img); a later image is a duplicate when
    # `h - h_prev <= thresh` for any kept hash (first occurrence kept, in listing order)
    kept_i, kept_p, hashes = [], [], []
    for im, path in zip(imgs, paths, strict=True):
        h = imagehash.phash(im)
        if any(h - prev <= PHASH_DUP_THRESH for prev in hashes):
            continue
        kept_i.append(im)
        kept_p.append(path)
        hashes.append(h)
    return kept_i, kept_p


def split_into_grid(img, rows: int = GRID, cols: int = GRID):
    # compute_VR.py, split_into_grid: w = max(1, W // cols); h = max(1, H // rows); the last column / row runs
    # to W / H: right = (c + 1) * w if c < cols - 1 else W; bottom = (r + 1) * h if r < rows - 1 else H
    width, height = img.size
    cw, ch = max(1, width // cols), max(1, height // rows)
    boxes = []
    for r in range(rows):
        for c in range(cols):
            boxes.append((c * cw, r * ch, width if c == cols - 1 else (c + 1) * cw,
                           height if r == rows - 1 else (r + 1) * ch))
    return [img.crop(b) for b in boxes]


class Scripts:
    """The two scripts' embedders and loops (the CRA script's Hugging Face CLIP fallback; the VR script's timm
    backbone with ``--dino-model vit_small_patch16_dinov3.lvd1689m``)."""

    def __init__(self):
        import timm
        import torch
        from timm.data import create_transform, resolve_data_config
        from transformers import CLIPModel
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

        torch.set_grad_enabled(False)
        # compute_CRA.py, ImageEmbedderCRA: CLIPModel.from_pretrained(HF_CLIP_MODEL_NAME); CLIPProcessor ... (its
        # image processor: shortest side 224 bicubic, centre crop 224, CLIP mean/std — the checkpoint's config)
        self.clip = CLIPModel.from_pretrained("openai/clip-vit-base-patch16").eval()
        self.proc = CLIPImageProcessorPil()
        # compute_VR.py, DINOEmbedder: timm.create_model(model_name, pretrained=True); cfg = model.pretrained_cfg;
        # data_cfg = resolve_data_config(cfg); self.preprocess = create_transform(**data_cfg)
        self.dino = timm.create_model("vit_small_patch16_dinov3.lvd1689m", pretrained=True).eval()
        self.tf = create_transform(**resolve_data_config(self.dino.pretrained_cfg))
        self.cells_cache: dict[str, object] = {}

    def clip_embed(self, images):
        import numpy as np
        import torch
        import torch.nn.functional as F

        # compute_CRA.py, ImageEmbedderCRA.embed (HF branch): batches of 8 on CPU; inputs = processor(images=batch);
        # feats = model.get_image_features(**inputs); F.normalize(feats, dim=-1)
        outs = []
        for i in range(0, len(images), 8):
            x = torch.tensor(np.asarray(self.proc(images=images[i:i + 8], return_tensors="np")["pixel_values"]))
            out = self.clip.get_image_features(pixel_values=x)
            feats = out if isinstance(out, torch.Tensor) else out.pooler_output      # transformers 5.x: an object
            outs.append(F.normalize(feats, dim=-1))
        return torch.cat(outs)

    def dino_embed(self, images):
        import torch
        import torch.nn.functional as F

        # compute_VR.py, DINOEmbedder.embed_images: x = stack(preprocess(img)); batches of 16 on CPU;
        # fb = model.forward_features(xb); a [B, T, C] tensor -> z = fb.mean(dim=1); F.normalize(z, dim=-1)
        x = torch.stack([self.tf(im) for im in images])
        outs = []
        for i in range(0, len(x), 16):
            fb = self.dino.forward_features(x[i:i + 16])
            outs.append(F.normalize(fb.mean(dim=1) if fb.dim() == 3 else fb, dim=-1))
        return torch.cat(outs)

    def ref_cells(self, key: str, patches):
        # compute_VR.py, compute_vr_stats re-embeds the reference patches for every generated image; the same
        # crops give the same features, so they are embedded once here (a speed-up, not a different rule)
        if key not in self.cells_cache:
            self.cells_cache[key] = self.dino_embed(patches)
        return self.cells_cache[key]

    def vr_stats(self, ref_key: str, ref_patches, gen_patches):
        import torch
        import torch.nn.functional as F

        # compute_VR.py, compute_vr_stats: sim = gen_emb @ ref_emb.T; max_per_patch = sim.max(dim=1).values;
        # vr_max = max, vr_mean = mean, vr_p90 = torch.quantile(max_per_patch, torch.tensor(0.9))
        ref = F.normalize(self.ref_cells(ref_key, ref_patches), dim=-1)
        gen = F.normalize(self.dino_embed(gen_patches), dim=-1)
        best = (gen @ ref.T).max(dim=1).values
        return float(best.max().item()), float(best.mean().item()), float(torch.quantile(best, torch.tensor(0.9)).item())


def static_pass(cra_sims, i: int, ic_tau: float) -> bool:
    # compute_CRA.py, run_static_for_model: cra_sims = (gen_emb @ ref_emb.T).squeeze(1).numpy()   (float32);
    # for ... cra_sim in zip(..., cra_sims): passed = bool(cra_sim >= ic_tau)   — a NumPy float32 against a
    # Python float: NumPy 2 casts ic_tau to float32 (np.float32(0.699999988) >= 0.7 is True)
    cra_sim = cra_sims[i]
    return bool(cra_sim >= ic_tau)


def dynamic_pass(cra_sims_max, i: int, ic_tau: float) -> bool:
    # compute_CRA.py, run_dynamic_for_model: cra_sim = float(cra_sims_max[i].item()); passed = bool(cra_sim >=
    # ic_tau)   — a Python float (the float32 value, exactly) against ic_tau: float64
    cra_sim = float(cra_sims_max[i].item())
    return bool(cra_sim >= ic_tau)


def scripts_side(ds: dict, scripts: Scripts) -> dict:
    """Both scripts, mode by mode and model by model as their ``main`` runs them, with the resume check of each
    output file; returns every evaluated image (model, path) -> its numbers, the kept references per work, the
    rows each output file got, and the CLIP similarities as each comparison saw them (to apply it at other τ)."""
    whitelist = {kind: set() for kind in ("static", "dynamic")}
    for kind in whitelist:
        # both scripts, read_slug_whitelist: set(df[slug_col].astype(str).map(norm_slug))
        with open(ds["root"] / f"prompts_{kind}.csv", newline="") as f:
            whitelist[kind] = {norm_slug(r["label_clean"]) for r in csv.DictReader(f)}
    evaluated, kept, rows, sims = {}, {}, {}, {}
    ref_index = index_slug_dirs(ds["refs"])
    for script in ("cra", "vr"):
        for kind in ("static", "dynamic"):
            out = rows.setdefault((script, kind), [])              # the output CSV of this mode
            # both scripts, main: for model_name, gendir in model_gendirs.items(): run_fn(...)
            for model, gendir in ds["gendirs"].items():
                # both scripts, already_done_index: the gen_image_path column of the output CSV, read at the
                # start of each model's run; `if gp_str in done: ... [ResumeSkip]` — the path alone, not the model
                done = {r["gen_image_path"] for r in out}
                gen_index = index_slug_dirs(gendir)
                # run_*_for_model: eligible_norms = sorted([s for s in whitelist if s in gen_index and s in ref_index])
                for slug in sorted(s for s in whitelist[kind] if s in gen_index and s in ref_index):
                    ref_dir, gen_dir = ref_index[slug], gen_index[slug]
                    name = ref_dir.name                     # run_*_for_model: slug = ref_dir.name
                    if kind == "static":
                        try:
                            ref_img, ref_path = load_first_ref_image(ref_dir)
                        except Exception:
                            continue                        # "[Skip] Failed to load first reference"
                        ref_imgs, ref_paths = [ref_img], [ref_path]
                    else:
                        # run_dynamic_for_model: load_all_ref_images, then dedup_refs_by_phash(...)
                        ref_imgs, ref_paths = dedup_refs_by_phash(*load_all_ref_images(ref_dir))
                    kept[name] = [str(p) for p in ref_paths]
                    gen_imgs, gen_paths = load_gen_images(gen_dir, ds["k_gen"])
                    if len(gen_imgs) < 1:                   # MIN_GEN = 1
                        continue
                    if script == "cra":
                        if kind == "static":
                            # run_static_for_model: embs = embed([ref_img] + gen_imgs); ref_emb = embs[0:1]
                            embs = scripts.clip_embed(ref_imgs + gen_imgs)
                            values = (embs[1:] @ embs[0:1].T).squeeze(1).numpy()
                        else:
                            # run_dynamic_for_model: cra_sims_max = (gen_embs @ ref_embs.T).max(dim=1).values
                            values = (scripts.clip_embed(gen_imgs) @ scripts.clip_embed(ref_imgs).T).max(dim=1).values
                        for i, path in enumerate(gen_paths):
                            if str(path) in done:
                                continue
                            decide = static_pass if kind == "static" else dynamic_pass
                            tau = STATIC_TAU if kind == "static" else DYNAMIC_TAU
                            rec = evaluated.setdefault((model, str(path)), {"kind": kind, "slug": name})
                            rec["cra_sim"] = float(values[i].item())
                            rec["cra_pass"] = decide(values, i, tau)
                            sims[(model, str(path))] = (values, i)
                            if rec["cra_pass"]:             # "Rows are appended only for images with CRA >= ic_tau."
                                out.append({"gen_image_path": str(path), "model": model})
                    else:
                        ref_patches = [p for im in ref_imgs for p in split_into_grid(im)]
                        key = "|".join(str(p) for p in ref_paths)
                        for im, path in zip(gen_imgs, gen_paths, strict=True):
                            if str(path) in done:
                                continue
                            vr_max, vr_mean, vr_p90 = scripts.vr_stats(key, ref_patches, split_into_grid(im))
                            evaluated.setdefault((model, str(path)), {"kind": kind, "slug": name}).update(
                                vr_max=vr_max, vr_mean=vr_mean, vr_p90=vr_p90)
                            out.append({"gen_image_path": str(path), "model": model})   # every image gets a row
    return {"evaluated": evaluated, "kept": kept, "rows": rows, "sims": sims}


# -- ours ------------------------------------------------------------------------------------------------------------
def ours(ds: dict, db: Path, env: dict) -> dict:
    exe = [sys.executable, "-m", "iconicity_core.cli"]
    gens = [a for m, d in ds["gendirs"].items() for a in ("--authors-gen", f"{m}={d}")]
    problems = []
    for kind in ("static", "dynamic"):
        out = subprocess.run([*exe, "score", "--db", str(db), "--authors-refs", str(ds["refs"]), *gens,
                              "--authors-prompts", str(ds["root"] / f"prompts_{kind}.csv"), "--authors-kind", kind,
                              "--preset", "authors", "--k-gen", str(ds["k_gen"]), "--device", "cpu", "--quiet",
                              "--format", "json"], env=env, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"iconicity score failed:\n{out.stderr}")
        problems += [p["message"] for p in json.loads(out.stdout)["problems"]]
    return {"problems": problems}


def our_export(db: Path, out_dir: Path, env: dict, taus: tuple[float, float] | None = None) -> dict:
    """``iconicity export`` at the run's τ or at ``taus`` (static, dynamic): (model, path) -> our numbers, and the
    kept references per work."""
    import pandas as pd

    args = [] if taus is None else ["--clip-tau", repr(taus[0]), "--clip-tau-dynamic", repr(taus[1])]
    subprocess.run([sys.executable, "-m", "iconicity_core.cli", "export", "--db", str(db), "--out", str(out_dir), *args],
                   check=True, env=env, capture_output=True)
    img = pd.read_csv(out_dir / "iconicity_images.csv")
    rows = {(r.model, r.gen_image_path): {"kind": r.mode, "cra_sim": float(r.cra_sim), "cra_pass": bool(r.cra_pass),
                                          "vr_max": r.vr_max, "vr_mean": r.vr_mean, "vr_p90": r.vr_p90}
            for r in img.itertuples()}
    kept = {}
    for kind in ("static", "dynamic"):
        vr = pd.read_csv(out_dir / f"results_vr_{kind}.csv")
        col = "ref_images_kept" if kind == "dynamic" else "ref_image_path"
        for name, g in vr.groupby("slug"):
            kept[name] = sorted(str(g[col].iloc[0]).split(";"))
    return {"rows": rows, "kept": kept}


def on_the_cut(mine: dict) -> list[tuple[str, float, float]]:
    """τ pairs (static, dynamic) that sit on observed similarities: the median of each kind's (float32) values
    exactly, and one float64 step above it — float32(τ) is then that similarity."""
    import numpy as np

    med = {}
    for kind in ("static", "dynamic"):
        v = np.sort([r["cra_sim"] for r in mine.values() if r["kind"] == kind])
        med[kind] = float(v[len(v) // 2])
        assert float(np.float32(med[kind])) == med[kind], "stored similarities are float32 values"
    up = {k: float(np.nextafter(v, 2.0)) for k, v in med.items()}
    return [("the scripts' τ", STATIC_TAU, DYNAMIC_TAU), ("τ = an observed similarity", med["static"], med["dynamic"]),
            ("τ one float64 step above it", up["static"], up["dynamic"])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--small", action="store_true", help="a few images and a k-gen window of 10 (a quick check)")
    args = ap.parse_args()
    import numpy as np
    import torch

    if int(np.__version__.split(".")[0]) < 2:
        raise SystemExit("the scripts' static comparison is NumPy 2's (a float32 against a Python float): run under NumPy 2")
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="parity-"))).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    hf_home = work / "hf"
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    os.environ.update({k: env[k] for k in ("HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")})
    t0 = time.perf_counter()
    build_weights(hf_home)
    ds = build_dataset(work, args.small) | {"root": work}
    t1 = time.perf_counter()
    db = work / "ours.duckdb"
    said = ours(ds, db, env)["problems"]
    mine = our_export(db, work / "export", env)
    t2 = time.perf_counter()
    theirs = scripts_side(ds, Scripts())
    t3 = time.perf_counter()

    ev = theirs["evaluated"]
    both = sorted(k for k in set(ev) & set(mine["rows"]) if "vr_max" in ev[k])
    skipped = sorted(set(mine["rows"]) - set(both))               # scored by us, not by the scripts
    only_theirs = sorted(set(k for k in ev if "vr_max" in ev[k]) - set(mine["rows"]))
    resume_skip = [k for k in skipped if k[0] == SHARED[0]]       # the documented divergence (docs/method.md, 6)
    deltas = {q: max((abs(mine["rows"][k][q] - ev[k][q]) for k in both), default=float("nan"))
              for q in ("cra_sim", "vr_max", "vr_mean", "vr_p90")}
    shared_said = any("read the same generation folder" in m for m in said)
    decisions = []
    for label, tau_s, tau_d in on_the_cut(mine["rows"]):
        at = our_export(db, work / f"export_{len(decisions)}", env, (tau_s, tau_d))["rows"]
        rule_differ, on_cut, e2e_differ, near = [], {"static": 0, "dynamic": 0}, [], 0
        for key, r in at.items():
            tau = tau_s if r["kind"] == "static" else tau_d
            as_theirs = np.asarray([r["cra_sim"]], np.float32)   # our similarity as their float32 value
            want = static_pass(as_theirs, 0, tau) if r["kind"] == "static" else \
                dynamic_pass(torch.tensor(as_theirs), 0, tau)
            if want != r["cra_pass"]:
                rule_differ.append(key)
            if bool(as_theirs[0] >= tau) != (float(as_theirs[0]) >= tau):   # float32 and float64 disagree here
                on_cut[r["kind"]] += 1
            if key in theirs["sims"]:                        # end to end: each side on its own similarity,
                values, i = theirs["sims"][key]               # where both are farther from τ than the largest
                if min(abs(r["cra_sim"] - tau), abs(float(values[i].item()) - tau)) <= deltas["cra_sim"]:
                    near += 1                                 # |Δ| (closer, the embedders' last bits decide)
                    continue
                if (static_pass if r["kind"] == "static" else dynamic_pass)(values, i, tau) != r["cra_pass"]:
                    e2e_differ.append(key)
        decisions.append({"taus": label, "static_tau": tau_s, "dynamic_tau": tau_d, "decisions": len(at),
                          "passes": sum(r["cra_pass"] for r in at.values()), "on_the_cut": on_cut,
                          "differ_on_the_same_similarity": len(rule_differ),
                          "differ_end_to_end": len(e2e_differ), "end_to_end_within_max_delta_of_tau": near})
    summary = {"generations_compared": len(both), "max_abs_delta": deltas,
               "scored_only_by_us": len(skipped), "of_which_the_shared_folder_skip": len(resume_skip),
               "scored_only_by_the_scripts": len(only_theirs), "shared_folder_reported": shared_said,
               "same_kept_references": {n: sorted(v) for n, v in theirs["kept"].items()} == mine["kept"],
               "decisions": decisions,
               "seconds": {"weights_and_data": round(t1 - t0, 1), "ours": round(t2 - t1, 1), "scripts": round(t3 - t2, 1)}}
    print(json.dumps(summary, indent=2))
    cut_exercised = any(d["on_the_cut"]["static"] for d in decisions) and any(d["on_the_cut"]["dynamic"] for d in decisions)
    ok = (not only_theirs and len(skipped) == len(resume_skip) and resume_skip and shared_said
          and summary["same_kept_references"] and cut_exercised
          and all(d["differ_on_the_same_similarity"] == 0 and d["differ_end_to_end"] == 0 for d in decisions)
          and deltas["cra_sim"] <= 1e-4 and max(deltas["vr_max"], deltas["vr_mean"], deltas["vr_p90"]) <= 5e-5)
    if not summary["same_kept_references"]:
        print("kept references differ:", json.dumps({"ours": mine["kept"], "scripts": theirs["kept"]}, indent=1))
    if only_theirs or len(skipped) != len(resume_skip):
        print("files scored by one side only:", json.dumps({"ours": [k for k in skipped if k not in resume_skip][:20],
                                                            "scripts": only_theirs[:20]}, indent=1))
    print("PARITY", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
