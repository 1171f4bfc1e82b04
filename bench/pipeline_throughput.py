"""End-to-end scoring throughput against the decode bound, and where each image's CPU time goes.

Builds a dataset of N 1024x1024 PNGs (smooth random textures, as generated images compress), then, in the
same run:

* the decode bound — the images decoded (``load_rgb``) by one process per core, nothing else;
* per-stage CPU milliseconds per generated image, in one process: decode, prepare (each embedder's worker
  side), transfer (pickling the prepared arrays as they cross the process boundary, and their bytes),
  SHA-256, matching, writing;
* ``score`` end to end, as the *variable* cost (a full run minus a no-op re-run of the same command, so
  start-up and model loading do not count), with the default workers and with ``--workers 0``, for:
  - the near-free ``pixels`` embedders (what the pipeline itself costs),
  - the real preprocessing of CLIP ViT-B/32 and DINOv3 ViT-S/16 with the forward replaced by a no-op (what a
    GPU would leave to the CPU),
  - the tiny random-init test models,
  - with ``--real``, the real geometries (random init) on fewer images.

    python bench/pipeline_throughput.py                 # 200 images
    python bench/pipeline_throughput.py --real          # + the real geometries on 24 images
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image


def texture(seed: int, size: int = 1024) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    im = np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC), np.int16)
    return Image.fromarray(np.clip(im + rng.integers(-6, 7, im.shape), 0, 255).astype(np.uint8))


def build(root: Path, n: int, slugs: int = 4) -> list[Path]:
    (root / "references").mkdir(parents=True)
    rows = ["slug,title,kind"]
    paths = []
    for s in range(slugs):
        rows.append(f"w{s},Work {s},static")
        p = root / "references" / f"w{s}" / "r.png"
        p.parent.mkdir(parents=True)
        texture(10_000 + s).save(p)
        paths.append(p)
    for i in range(n):
        p = root / "generations" / f"m{i % 4}" / f"w{i % slugs}" / f"{i:05d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        texture(i).save(p)
        paths.append(p)
    (root / "references.csv").write_text("\n".join(rows) + "\n")
    return paths


def _decode(p: Path) -> int:
    from iconicity_core.io.images import load_rgb

    return load_rgb(p.read_bytes(), str(p)).width


def decode_rate(paths: list[Path], workers: int) -> float:
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(_decode, paths[:workers * 2]))            # start the processes outside the timing
        t = time.perf_counter()
        list(ex.map(_decode, paths, chunksize=8))
    return len(paths) / (time.perf_counter() - t)


class NoForward:
    """An embedder with its real worker side (``prepare``) and its real model-stage conversion (uint8 ->
    normalised float on the device), but no forward: unit vectors from the inputs' channel means. What the
    CPU still has to do when a GPU runs the model."""

    def __init__(self, emb, cells: bool) -> None:
        from iconicity_core.embedders.base import EmbedderInfo

        self.emb, self.is_cells = emb, cells
        self.rows, self.cols = getattr(emb, "rows", 4), getattr(emb, "cols", 4)
        self.mode = getattr(emb, "mode", "crop")
        self.info = EmbedderInfo(**{**emb.info.__dict__, "key": emb.info.key + ":noforward"})

    def prepare(self, image):
        return self.emb.prepare(image)

    def embed_prepared(self, prepared: list) -> np.ndarray:
        """What the host does before a GPU takes over: receive the uint8 batch (the device would convert,
        resize and normalise it); vectors from a sparse sample of its pixels."""
        import torch

        if not prepared:
            return np.zeros((0, 0), np.float32)
        if self.is_cells:
            cells = [c for p in prepared for c in p] if isinstance(prepared[0], list) else list(torch.cat(prepared))
            v = torch.stack([c[:, ::32, ::32].float().mean(dim=(1, 2)) for c in cells]).reshape(len(prepared), -1, 3)
        else:
            v = torch.stack([p[:, ::32, ::32].float().mean(dim=(1, 2)) for p in prepared])
        v = torch.cat([v, torch.ones_like(v[..., :1])], -1)
        return torch.nn.functional.normalize(v, dim=-1).numpy()


def stage_ms(paths: list[Path], clip, cells, n: int = 12) -> dict:
    """CPU ms per generated image of each stage, measured one image at a time in this process."""
    from multiprocessing.reduction import ForkingPickler

    from iconicity_core.core.similarity import best_match, match_cells, quantize
    from iconicity_core.io.images import load_rgb

    gens = paths[-n:]
    t = {"decode": 0.0, "prepare": 0.0, "transfer": 0.0, "hash": 0.0, "match": 0.0}
    sizes = []
    refs_g = quantize(np.eye(1, 513, dtype=np.float32))
    ref_c = None
    for p in gens:
        data = p.read_bytes()
        a = time.perf_counter()
        hashlib.sha256(data).hexdigest()
        b = time.perf_counter()
        im = load_rgb(data, str(p))
        c = time.perf_counter()
        g, cl = clip.prepare(im), cells.prepare(im)
        d = time.perf_counter()
        buf = io.BytesIO()
        ForkingPickler(buf, pickle.HIGHEST_PROTOCOL).dump({"g": g, "c": cl})
        e = time.perf_counter()
        parts = cl if isinstance(cl, list) else [cl]
        sizes.append(sum(int(getattr(x, "nbytes", 0) or x.numel() * x.element_size()) for x in [g, *parts]))
        gv = quantize(clip.embed_prepared([g]))
        cv = quantize(cells.embed_prepared([cl]))[0]
        if ref_c is None:
            ref_c, refs_g = cv[None], gv
        f = time.perf_counter()
        best_match(gv, refs_g)
        match_cells(cv, ref_c)
        h = time.perf_counter()
        for k, dt in (("hash", b - a), ("decode", c - b), ("prepare", d - c), ("transfer", e - d), ("match", h - f)):
            t[k] += dt
    out = {k: round(1000 * v / n, 2) for k, v in t.items()}
    out["bytes_across"] = int(np.mean(sizes))
    return out


def write_ms(n_batches: int = 6, batch: int = 32, k: int = 16) -> float:
    """CPU ms per generated image of the writer's database transaction (similarities of one batch)."""
    import pandas as pd

    from iconicity_core import db

    with tempfile.TemporaryDirectory() as d:
        con = db.connect(Path(d) / "w.duckdb")
        total = 0.0
        for b in range(n_batches):
            fids = [f"f{b:03d}{i:04d}" for i in range(batch)]
            clip = pd.DataFrame({"run_id": "r", "file_id": fids, "slug": "w0", "sim": 0.5, "ref_file": "x", "n_refs": 1})
            cells = pd.DataFrame({"run_id": "r", "file_id": np.repeat(fids, k), "cell": np.tile(np.arange(k), batch),
                                  "sim": np.float32(0.5), "ref_file": "x", "ref_cell": 0, "same_pos_sim": np.float32(0.4)})
            t = time.perf_counter()
            db.scores.write_generation_batch(con, [], {}, clip, cells)
            total += time.perf_counter() - t
        con.close()
    return round(1000 * total / (n_batches * batch), 2)


def score_variable(root: Path, n: int, clip, cells, workers: int | None, batch: int = 32) -> float:
    """Generated images per second of the variable cost: a full run minus a no-op re-run."""
    from iconicity_core.io.dataset import scan_dataset
    from iconicity_core.pipeline import score_dataset

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "s.duckdb"
        t = time.perf_counter()
        s = score_dataset(scan_dataset(root), db, clip, cells, batch_size=batch, progress=False, workers=workers)
        full = time.perf_counter() - t
        assert s.n_generations_scored == n, s
        t = time.perf_counter()
        score_dataset(scan_dataset(root), db, clip, cells, batch_size=batch, progress=False, workers=workers)
        again = time.perf_counter() - t
    return n / max(full - again, 1e-9)


def main() -> None:
    from iconicity_core.embedders import load_cells, load_global
    from iconicity_core.pipeline.stream import default_workers
    from iconicity_core.testing import save_random_dinov3, save_random_open_clip

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="generated images")
    ap.add_argument("--real", action="store_true", help="also the real geometries (slow on a CPU)")
    ap.add_argument("--n-real", type=int, default=24, help="generated images for the real geometries")
    args = ap.parse_args()
    import torch.utils.data  # noqa: F401  (imported by any real model load; kept out of the timings)

    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="iconicity-pipeline-"))
    try:
        paths = build(work / "ds", args.n)
        bound = decode_rate(paths[4:], cores)
        print(json.dumps({"cores": cores, "default_workers": default_workers(), "generated": args.n,
                          "decode_bound_img_s": round(bound, 1)}), flush=True)
        models = work / "models"
        clip_b = save_random_open_clip(models / "vit-b-32.safetensors", "ViT-B-32")
        dino_s = save_random_dinov3(models / "dinov3-s16", tiny=False)
        clip_t = save_random_open_clip(models / "vit-s-32.safetensors")
        dino_t = save_random_dinov3(models / "dinov3-tiny")
        real_clip, real_dino = load_global("ViT-B-32", str(clip_b)), load_cells(str(dino_s))
        cases = {
            "pixels (near-free)": (load_global("pixels"), load_cells("pixels")),
            "real preprocessing, no forward (uint8 resize)": (NoForward(real_clip, False), NoForward(real_dino, True)),
            "real preprocessing, no forward (Pillow CLIP)": (NoForward(load_global("ViT-B-32", str(clip_b), resize="pil"), False),
                                                             NoForward(real_dino, True)),
            "real preprocessing, no forward (torch resize)": (NoForward(real_clip, False),
                                                              NoForward(load_cells(str(dino_s), resize="torch"), True)),
            "tiny random CLIP + DINOv3": (load_global("ViT-S-32", str(clip_t)), load_cells(str(dino_t))),
        }
        for name, (clip, cells) in cases.items():
            row = {"case": name, **stage_ms(paths, clip, cells), "write": write_ms()}
            workers0 = score_variable(work / "ds", args.n, clip, cells, workers=0)
            default = score_variable(work / "ds", args.n, clip, cells, workers=None)
            row |= {"score_img_s": round(default, 1), "score_workers0_img_s": round(workers0, 1),
                    "of_decode_bound": f"{default / bound:.0%}"}
            print(json.dumps(row), flush=True)
        if args.real:
            small = work / "small"
            build(small, args.n_real)
            for mode in ("crop", "token"):
                cells = real_dino if mode == "crop" else load_cells(str(dino_s), "token")
                rate = score_variable(small, args.n_real, real_clip, cells, workers=None)
                ims = [texture(i) for i in range(4)]
                g, c = [real_clip.prepare(im) for im in ims], [cells.prepare(im) for im in ims]
                real_clip.embed_prepared(g), cells.embed_prepared(c)
                t = time.perf_counter()
                for _ in range(2):
                    real_clip.embed_prepared(g), cells.embed_prepared(c)
                model_only = 8 / (time.perf_counter() - t)
                print(json.dumps({"case": f"ViT-B/32 + DINOv3 ViT-S/16 ({mode})", "score_img_s": round(rate, 2),
                                  "model_only_img_s": round(model_only, 2), "of_model_only": f"{rate / model_only:.0%}"}),
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
