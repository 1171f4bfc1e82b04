"""Randomly initialised models of the real architectures, saved where the loaders can read them.

Used by the tests (no weights can be downloaded there) and by ``bench/`` (random weights cost the
same to run as trained ones). Never use them for real scores. Example::

    save_random_dinov3("/tmp/dino")      # then: iconicity score DATA --dino-model /tmp/dino
"""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    pipe.save_pretrained(out)  # type: ignore[attr-defined]  # diffusers' lazy modules hide the method
    return out


# -- a synthetic scores database of the paper's shape (benches, dashboard tests) ---------------------

PAPER_REFS, PAPER_STATIC, PAPER_GENERATIONS = 767, 374, 50
SYNTHETIC_MODELS = {"sd15": -0.6, "sd21": -0.3, "sdxl": 0.2, "sd3-medium": 0.5, "flux-schnell": 0.9}
SYNTHETIC_VARIANTS = {"title": 30, "synonym": 10, "description": 10}     # generations per (ref, model)


def build_synthetic_db(path: str | Path, scale: float = 1.0, seed: int = 0, grid: tuple[int, int] = (4, 4),
                       chunk_refs: int = 200, progress: bool = False, clip_dim: int = 0) -> dict:
    """Write a scores database of the paper's shape x ``scale`` through the project's own storage code:
    767·scale references (49 % static, 51 % dynamic with 3 reference images each), 5 models, 50
    generations per reference and model over three prompt variants (30 title, 10 synonym, 10
    description), every similarity of a 4x4 grid, covariates (sitelinks, year, caption count), labels
    on 10 % of the images, and valid run and embedder records (open_clip ViT-B-32 + DINOv3 ViT-S/16).
    The numbers come from a seeded generative model in which popular references are recognised and
    reused more; no image files exist (the dashboard shows placeholders). With ``clip_dim`` > 0 it also
    keeps a CLIP embedding of that size for every image (as ``score --keep-embeddings all`` does): one
    random direction per reference, generated images near it as far as their CLIP similarity says — for
    the Map and Find similar pages. Returns counts."""
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    from . import db
    from .config import LABELS
    from .db.ingest import FILE_COLUMNS
    from .pipeline.ingest import file_id

    rng = np.random.default_rng(seed)
    path = Path(path)
    n_refs = max(8, round(PAPER_REFS * scale))
    k = grid[0] * grid[1]
    slugs = [f"work_{i:05d}" for i in range(n_refs)]
    dynamic = rng.random(n_refs) >= PAPER_STATIC / PAPER_REFS
    sitelinks = np.round(21 + np.exp(rng.normal(3.5, 1.0, n_refs))).astype(int)
    year = rng.integers(1480, 2025, n_refs)
    captions = np.round(np.exp(rng.normal(6, 2, n_refs))).astype(int)
    z = (np.log(sitelinks) - np.log(sitelinks).mean()) / np.log(sitelinks).std() + 0.5 * rng.normal(size=n_refs)
    words = ["night", "garden", "portrait", "river", "blue", "king", "dream", "city", "girl", "war", "star", "storm"]
    titles = [" ".join(rng.choice(words, size=int(rng.integers(1, 4)))).title() for _ in range(n_refs)]
    root = str(path.parent.resolve() / (path.stem + "_images"))
    con = db.connect(path)
    try:
        rid = db.ingest.root_ids(con, [root], "design")[root]
        refs = [{"slug": s, "title": t, "kind": "dynamic" if d else "static", "sitelinks": float(sl), "year": float(y),
                 "caption_count": float(c)} for s, t, d, sl, y, c in zip(slugs, titles, dynamic, sitelinks, year, captions, strict=True)]
        numeric = {"sitelinks": True, "year": True, "caption_count": True}
        ref_files = {s: [f"references/{s}/{j}.jpg" for j in range(3 if d else 1)] for s, d in zip(slugs, dynamic, strict=True)}
        files, file_parts = [], []
        for s, rels in ref_files.items():
            for rel in rels:
                files.append((file_id(root, rel), rid, rel, "reference", s, None, None, None, None, None,
                              f"img-{rel}", None, None, None))
        ref_ids = {s: [file_id(root, rel) for rel in rels] for s, rels in ref_files.items()}
        clip_info: dict[str, Any] = {"key": "open_clip:ViT-B-32:openai", "family": "open_clip", "model": "ViT-B-32", "weights": "openai",
                     "preprocessing": "synthetic", "semantic": True, "extra": {}}
        dino_info = {"key": "dinov3:facebook/dinov3-vits16-pretrain-lvd1689m:hub:crop:4x4", "family": "dinov3",
                     "model": "facebook/dinov3-vits16-pretrain-lvd1689m", "weights": "hub", "preprocessing": "synthetic",
                     "semantic": True, "extra": {"grid": f"{grid[0]}x{grid[1]}"}}
        run_id = f"synthetic-{seed}-{scale:g}"
        db.runs.start(con, run_id, "score", config={"synthetic": True, "scale": scale, "seed": seed}, device="none",
                      clip_key=clip_info["key"], dino_key=dino_info["key"], clip_info=clip_info, dino_info=dino_info,
                      grid=f"{grid[0]}x{grid[1]}", patch_mode="crop", phash_max=18, semantic=True)
        kept = [(run_id, f, s, True, None, None) for s, ids in ref_ids.items() for f in ids]
        db.scores.write_dedup(con, run_id, kept, sorted(ref_ids), {s: f"synthetic-{s}" for s in ref_ids})
        if clip_dim:
            centre = rng.normal(size=(n_refs, clip_dim)).astype(np.float32)
            centre /= np.linalg.norm(centre, axis=1, keepdims=True)
            for i, s in enumerate(slugs):
                noise = rng.normal(size=(len(ref_files[s]), clip_dim)) * 0.3 / np.sqrt(clip_dim)
                db.embeddings.put(con, clip_info["key"], [f"img-{rel}" for rel in ref_files[s]], centre[i] + noise)
        n_gen = 0
        for lo in tqdm(range(0, n_refs, chunk_refs), desc="synthetic references", disable=not progress):
            gens = []
            for i in range(lo, min(n_refs, lo + chunk_refs)):
                for model, bias in SYNTHETIC_MODELS.items():
                    for v, (variant, count) in enumerate(SYNTHETIC_VARIANTS.items()):
                        gens += [(i, model, bias, variant, v, j) for j in range(count)]
            n = len(gens)
            ref_i = np.array([g[0] for g in gens])
            biases = np.array([g[2] for g in gens])
            var = np.array([g[4] for g in gens])
            p_rec = 1 / (1 + np.exp(-(biases + 1.4 * z[ref_i] - 0.5 * var)))
            rec = rng.random(n) < p_rec
            clip = np.clip(np.where(rec, rng.normal(0.78, 0.05, n), rng.normal(0.56, 0.08, n)), -1, 1)
            reuse = np.clip(0.15 + 0.25 * biases + 0.2 * z[ref_i] + 0.35 * rec - 0.15 * var + rng.normal(0, 0.15, n), 0, 1)
            reused = rng.random((n, k)) < reuse[:, None]
            cells = np.clip(np.where(reused, rng.normal(0.72, 0.06, (n, k)), rng.normal(0.45, 0.1, (n, k))), -1, 1)
            same = cells - np.abs(rng.normal(0.08, 0.05, (n, k)))
            vr = reused.mean(axis=1)
            label = np.where(rec & (vr > 0.6), 0, np.where(rec & (vr > 0.3), 1, np.where(rec, 2, 3)))
            labelled = rng.random(n) < 0.1
            rows = []
            for (i, model, _b, variant, _v, j), lab, has in zip(gens, label, labelled, strict=True):
                rel = f"generations/{model}/{slugs[i]}/{variant}/{j:03d}.png"
                fid = file_id(root, rel, model, variant)
                rows.append((fid, rid, rel, "generation", slugs[i], model, variant, titles[i], j,
                             LABELS[lab] if has else None, f"img-{fid}", None, None, None))
            file_parts.append(pd.DataFrame(rows, columns=FILE_COLUMNS))
            fids = file_parts[-1]["file_id"].tolist()
            nrefs = np.array([len(ref_ids[slugs[i]]) for i in ref_i])
            ref_pick = (rng.random((n, k)) * nrefs[:, None]).astype(int)
            db.scores.write_generation_batch(
                con, [], {},
                pd.DataFrame({"run_id": run_id, "file_id": fids, "slug": [slugs[i] for i in ref_i], "sim": clip,
                              "ref_file": [ref_ids[slugs[i]][0] for i in ref_i], "n_refs": nrefs}),
                pd.DataFrame({"run_id": run_id, "file_id": np.repeat(fids, k), "cell": np.tile(np.arange(k), n),
                              "sim": cells.ravel().astype(np.float32),
                              "ref_file": [ref_ids[slugs[i]][r] for i, row in zip(ref_i, ref_pick, strict=True) for r in row],
                              "ref_cell": rng.integers(0, k, n * k), "same_pos_sim": same.ravel().astype(np.float32)}))
            if clip_dim:                                   # cos(vec, centre) ≈ the stored CLIP similarity
                noise = rng.normal(size=(n, clip_dim)).astype(np.float32)
                noise -= np.einsum("ij,ij->i", noise, centre[ref_i])[:, None] * centre[ref_i]
                noise /= np.linalg.norm(noise, axis=1, keepdims=True)
                c = np.clip(clip, 0, 1)[:, None]
                db.embeddings.put(con, clip_info["key"], [f"img-{f}" for f in fids],
                                  c * centre[ref_i] + np.sqrt(1 - c ** 2) * noise)
            n_gen += n
        files_df = pd.concat([pd.DataFrame(files, columns=FILE_COLUMNS), *file_parts], ignore_index=True)
        files_df["seed"] = files_df["seed"].astype("Int64")
        db.ingest.replace(con, [rid], files_df, refs, numeric, {c: {"column": c, "synthetic": True} for c in numeric}, [])
        db.runs.finish(con, run_id, {"n_generations_scored": n_gen})
        db.connection.checkpoint(con)
    finally:
        con.close()
    return {"references": n_refs, "generations": n_gen, "cell_rows": n_gen * k, "run_id": run_id}


# -- an offline Hugging Face Hub cache with random weights under the real names -----------------------------

def hub_cache_put(hf_home: str | Path, repo_id: str, files: dict[str, str | Path | bytes],
                  revision: str = "0" * 40) -> Path:
    """Lay files out as ``huggingface_hub`` caches a download of ``repo_id`` (``HF_HOME/hub/models--org--name``),
    so that loaders asked for the real model name find them with ``HF_HUB_OFFLINE=1``; returns the snapshot
    folder. ``files``: file name -> a path to copy (a folder is copied whole) or the bytes."""
    import shutil

    repo = Path(hf_home) / "hub" / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / revision
    snap.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    for name, src in files.items():
        dest = snap / name
        if isinstance(src, bytes):
            dest.write_bytes(src)
        elif Path(src).is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copy(src, dest)
    return snap


def install_random_open_clip_tag(hf_home: str | Path, model: str = "ViT-B-32", tag: str = "openai", seed: int = 0):
    """Random-init weights of ``model`` where open_clip looks for ``pretrained=tag`` (its ``hf_hub`` entry),
    so ``create_model_and_transforms(model, pretrained=tag)`` loads them offline; returns the model."""
    import tempfile

    import open_clip
    import torch
    from safetensors.torch import save_file

    cfg = open_clip.get_pretrained_cfg(model, tag)
    repo = cfg["hf_hub"].rstrip("/")
    torch.manual_seed(seed)
    net = open_clip.create_model(model, pretrained=None, force_quick_gelu=bool(cfg.get("quick_gelu")))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "open_clip_model.safetensors"
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
        hub_cache_put(hf_home, repo, {"open_clip_model.safetensors": path})
    return net


def file_state(p: str | Path):
    """What is at ``p``, to compare before and after a command: ``None`` (nothing), a link's target, a file's
    SHA-256, a folder's every entry (recursively), or a special file's type and device number.

    >>> file_state("/nonexistent/path") is None
    True
    """
    import hashlib
    import os
    import stat

    p = Path(p)
    if p.is_symlink():
        return ("link", os.readlink(p))
    if not p.exists():
        return None
    st = os.stat(p)
    if stat.S_ISDIR(st.st_mode):
        return ("dir", tuple(sorted((str(q.relative_to(p)), file_state(q)) for q in p.rglob("*"))))
    if stat.S_ISREG(st.st_mode):
        return ("file", hashlib.sha256(p.read_bytes()).hexdigest())
    return ("special", stat.S_IFMT(st.st_mode), st.st_rdev)


def start_dashboard(app: str | Path, args: Sequence[str] = (), env: dict | None = None,
                    timeout_s: float = 120) -> tuple[str, subprocess.Popen]:
    """``streamlit run APP -- ARGS`` headless on a free port of 127.0.0.1; returns its URL and process once
    ``/_stcore/health`` answers (the caller terminates it). Its output goes to a file (a full pipe would
    stall the server) that :class:`RuntimeError` quotes when it does not start."""
    import os
    import socket
    import sys
    import tempfile
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile()
    app = Path(app)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *(["--", *args] if args else [])],
        cwd=app.parent, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return url, proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    log.seek(0)
    raise RuntimeError("streamlit did not start: " + log.read().decode(errors="replace")[-3000:])


def open_page(page, title: str, timeout_ms: float = 240_000) -> None:
    """Click the dashboard's navigation link to the page ``title`` (Playwright ``page``): along the top, or in its
    "more" menu when the window is too narrow for every link (the links that do not fit stay in the page, hidden)."""
    shown = page.evaluate("""(title) => {
        const a = [...document.querySelectorAll('a[data-testid="stTopNavLink"]')]
          .find(a => a.innerText.trim().endsWith(title) && !a.closest('[aria-hidden="true"]'));
        if (a) a.click();
        return Boolean(a); }""", title)
    if shown:
        return
    page.locator('[data-testid="stTopNavSection"]').first.click(timeout=timeout_ms)
    page.locator('a[data-testid="stTopNavDropdownLink"]').filter(has_text=title).first.click(timeout=timeout_ms)
