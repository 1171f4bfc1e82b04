"""Parity with the released scripts, checked offline: `iconicity score --preset authors` against an independent
re-implementation of the scripts' arithmetic (written from docs/method.md, sections 5-7 — not their code),
both loading the *same* random-init weights of the real geometries through their normal model names from an
offline Hugging Face Hub cache that this script lays out:

* ours:    open_clip `ViT-B-16` + tag `openai` (QuickGELU)      | HF `facebook/dinov3-vits16-pretrain-lvd1689m`
* scripts: HF `openai/clip-vit-base-patch16` (CLIPModel, PIL processor) | timm `vit_small_patch16_dinov3.lvd1689m`

with the weights mapped between the two codebases (open_clip -> HF CLIP; timm -> HF DINOv3). The dataset is in
the authors' layout: non-square generations, static and dynamic works, near-duplicate references at pHash
distance 0 / 18 / 20, a folder of 55 generations (k-gen 50), and every decode edge case (RGBA, EXIF rotation,
16-bit PNG, .gif/.tif/.jfif, a hidden file, a sub-folder, a static folder with several images), scored in two
calls (static, then dynamic) over one shared generation root.

    python bench/parity_authors.py [--workdir DIR] [--small]

Prints per-image max |Δ| of the CLIP similarity and of VR max / mean / p90, and whether the kept sets and
pass sets are identical; exits 1 when a target is missed (CRA sim |Δ| <= 1e-4, VR |Δ| <= 5e-5).
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
EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")      # the scripts' extensions, in their order (docs/method.md)
CLIP_TAU, CLIP_TAU_DYNAMIC, PHASH_MAX, K_GEN = 0.70, 0.75, 18, 50


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


def build_dataset(root: Path, small: bool) -> dict:
    import numpy as np
    from PIL import Image

    refs, gen = root / "refs", root / "gen"
    sizes = [(300, 460), (460, 300), (517, 389), (640, 480), (333, 333), (401, 257)]
    static = {"Great Wave": 1, "Starry Night": 2} if small else {"Great Wave": 1, "Starry Night": 2, "The Scream": 3}
    dynamic = {"Breaking Bad": 10} if small else {"Breaking Bad": 10, "The Seventh Seal": 11}
    for name, s in static.items():
        (refs / name).mkdir(parents=True)
        _texture(s, *sizes[s % len(sizes)]).save(refs / name / "poster.png")
    # a static folder with several images: the scripts take the first by their extension list (.jpg before .png)
    _texture(50, 420, 300).save(refs / "Great Wave" / "alt.jpg", quality=95)
    _texture(51, 420, 300).save(refs / "Great Wave" / ".hidden.png")
    for name, s in dynamic.items():
        (refs / name).mkdir(parents=True)
        base = _texture(s, 480, 320)
        base.save(refs / name / "a_still.png")
        for d, im in sorted(_near_duplicates(base, (0, 18, 20)).items()):
            im.save(refs / name / f"b_dist{d:02d}.png")
        _texture(s + 100, 360, 480).save(refs / name / "c_other.jpg", quality=92)
    n_per = {"Great Wave": 12 if small else 55}                    # one folder past k-gen 50
    count = 0
    for m, model in enumerate(("sdA", "sdB")):
        for name in [*static, *dynamic]:
            d = gen / model / name
            d.mkdir(parents=True)
            n = n_per.get(name, 4 if small else 8) if m == 0 else (3 if small else 6)
            for i in range(n):
                w, h = sizes[(i + m) % len(sizes)]
                src = refs / name / ("poster.png" if name in static else "a_still.png")
                im = Image.open(src).convert("RGB")
                im = im.resize((w, h)) if i % 3 == 0 else _texture(1000 + 97 * m + 7 * i + zlib.crc32(name.encode()) % 50, w, h)
                im.save(d / f"img_{i:03d}.png")
                count += 1
    g = gen / "sdA" / "Starry Night"
    rgba = np.concatenate([np.asarray(_texture(70, 300, 460)), np.full((460, 300, 1), 90, np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(g / "edge_rgba.png")
    ex = Image.Exif()
    ex[0x0112] = 6
    _texture(71, 460, 300).save(g / "edge_exif.jpg", exif=ex.tobytes(), quality=93)
    sixteen = (np.asarray(_texture(72, 300, 460).convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(sixteen).save(g / "edge_16bit.png")
    _texture(73, 300, 460).save(g / "edge.gif")
    _texture(74, 300, 460).save(g / "edge.tif")
    _texture(75, 300, 460).save(g / "edge.jfif", format="JPEG")
    _texture(76, 300, 460).save(g / ".edge_hidden.png")
    (g / "sub").mkdir()
    _texture(77, 300, 460).save(g / "sub" / "nested.png")
    for kind, names in (("static", static), ("dynamic", dynamic)):
        with open(root / f"prompts_{kind}.csv", "w", newline="") as f:
            csv.writer(f).writerows([["label_clean", "label"], *[[n, n] for n in names]])
    return {"refs": refs, "gen": gen, "static": list(static), "dynamic": list(dynamic), "generations": count}


# -- the scripts' arithmetic, re-implemented from docs/method.md ----------------------------------------------
def _listing(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTS), key=lambda p: p.name)


def scripts_side(ds: dict) -> tuple[dict, dict]:
    import imagehash
    import numpy as np
    import timm
    import torch
    from PIL import Image
    from timm.data import create_transform, resolve_data_config
    from transformers import CLIPModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    clip = CLIPModel.from_pretrained("openai/clip-vit-base-patch16").eval()
    proc = CLIPImageProcessorPil()
    dino = timm.create_model("vit_small_patch16_dinov3.lvd1689m", pretrained=True).eval()
    tf = create_transform(**resolve_data_config({}, model=dino))

    def load(p):
        return Image.open(p).convert("RGB")

    @torch.inference_mode()
    def clip_f(ims):
        x = torch.tensor(np.asarray(proc(images=ims, return_tensors="np")["pixel_values"]))
        out = clip.get_image_features(pixel_values=x)
        f = out if isinstance(out, torch.Tensor) else out.pooler_output
        return torch.nn.functional.normalize(f, dim=-1).numpy()

    @torch.inference_mode()
    def cells_f(im):
        w, h = im.size
        cw, ch = w // 4, h // 4
        boxes = [(c * cw, r * ch, w if c == 3 else (c + 1) * cw, h if r == 3 else (r + 1) * ch)
                 for r in range(4) for c in range(4)]
        x = torch.stack([tf(im.crop(b)) for b in boxes])
        return torch.nn.functional.normalize(dino.forward_features(x).mean(dim=1), dim=-1).numpy()

    kept, out = {}, {}
    for kind in ("static", "dynamic"):
        for name in ds[kind]:
            files = _listing(ds["refs"] / name)
            if kind == "static":
                order = {e: i for i, e in enumerate(EXTS)}
                files = sorted(files, key=lambda p: (order[p.suffix.lower()], p.name))[:1]
            else:
                hashes, keep = [], []
                for p in files:
                    h = imagehash.phash(load(p))
                    if all(h - k > PHASH_MAX for k in hashes):
                        hashes.append(h)
                        keep.append(p)
                files = keep
            kept[name] = [str(p) for p in files]
            ref_ims = [load(p) for p in files]
            ref_g = clip_f(ref_ims)
            ref_c = np.concatenate([cells_f(im) for im in ref_ims])
            for model_dir in sorted((ds["gen"]).iterdir()):
                folder = model_dir / name
                for p in _listing(folder)[:K_GEN]:
                    im = load(p)
                    s = float((clip_f([im]) @ ref_g.T).max())
                    per_cell = (cells_f(im) @ ref_c.T).max(axis=1)
                    out[str(p)] = {"cra_sim": s, "cra_pass": s >= (CLIP_TAU if kind == "static" else CLIP_TAU_DYNAMIC),
                                   "vr_max": float(per_cell.max()), "vr_mean": float(per_cell.mean()),
                                   "vr_p90": float(np.percentile(per_cell, 90)), "kind": kind}
    return out, kept


# -- ours ------------------------------------------------------------------------------------------------------------
def ours(ds: dict, db: Path, env: dict) -> tuple[dict, dict]:
    import pandas as pd

    exe = [sys.executable, "-m", "iconicity_core.cli"]
    gens = [a for m in sorted(ds["gen"].iterdir()) for a in ("--authors-gen", f"{m.name}={m}")]
    for kind in ("static", "dynamic"):
        subprocess.run([*exe, "score", "--db", str(db), "--authors-refs", str(ds["refs"]), *gens, "--authors-prompts",
                        str(db.parent / f"prompts_{kind}.csv"), "--authors-kind", kind, "--preset", "authors",
                        "--device", "cpu", "--quiet"], check=True, env=env)
    out_dir = db.parent / "export"
    subprocess.run([*exe, "export", "--db", str(db), "--out", str(out_dir)], check=True, env=env, capture_output=True)
    img = pd.read_csv(out_dir / "iconicity_images.csv")
    rows = {r.gen_image_path: {"cra_sim": r.cra_sim, "cra_pass": bool(r.cra_pass), "vr_max": r.vr_max,
                               "vr_mean": r.vr_mean, "vr_p90": r.vr_p90} for r in img.itertuples()}
    kept = {}
    for kind in ("static", "dynamic"):
        vr = pd.read_csv(out_dir / f"results_vr_{kind}.csv")
        col = "ref_images_kept" if kind == "dynamic" else "ref_image_path"
        for name, g in vr.groupby("slug"):
            kept[name] = sorted(str(g[col].iloc[0]).split(";"))
    return rows, kept


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--small", action="store_true", help="a few images (a quick check; the CI test uses it)")
    args = ap.parse_args()
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="parity-"))).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    hf_home = work / "hf"
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    os.environ.update({k: env[k] for k in ("HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")})
    t0 = time.perf_counter()
    build_weights(hf_home)
    ds = build_dataset(work, args.small)
    t1 = time.perf_counter()
    mine, mine_kept = ours(ds, work / "ours.duckdb", env)
    t2 = time.perf_counter()
    theirs, their_kept = scripts_side(ds)
    t3 = time.perf_counter()
    missing = sorted(set(theirs) ^ set(mine))
    common = sorted(set(theirs) & set(mine))
    deltas = {k: max((abs(mine[p][k] - theirs[p][k]) for p in common), default=float("nan"))
              for k in ("cra_sim", "vr_max", "vr_mean", "vr_p90")}
    same_pass = all(mine[p]["cra_pass"] == theirs[p]["cra_pass"] for p in common)
    same_kept = {n: sorted(v) for n, v in their_kept.items()} == mine_kept
    summary = {"generations_scored": len(common), "only_one_side": missing[:10], "n_only_one_side": len(missing),
               "max_abs_delta": deltas, "same_pass_sets": same_pass, "same_kept_references": same_kept,
               "passes": sum(theirs[p]["cra_pass"] for p in common),
               "seconds": {"weights_and_data": round(t1 - t0, 1), "ours": round(t2 - t1, 1), "scripts": round(t3 - t2, 1)}}
    print(json.dumps(summary, indent=2))
    ok = (not missing and same_pass and same_kept and deltas["cra_sim"] <= 1e-4
          and max(deltas["vr_max"], deltas["vr_mean"], deltas["vr_p90"]) <= 5e-5)
    if not same_kept:
        print("kept references differ:", json.dumps({"ours": mine_kept, "scripts": their_kept}, indent=1))
    print("PARITY", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
