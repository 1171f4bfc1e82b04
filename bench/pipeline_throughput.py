"""End-to-end scoring throughput vs the decode bound, on this machine.

Builds a dataset of N 1024x1024 PNGs (smooth random textures, as generated images compress), then, in
the same run:

* decode bound — the images decoded (``load_rgb``) by one process per core, nothing else;
* ``iconicity score`` end to end (ingest, hashing, decode, prepare, embed, match, write) with
  - the near-free ``pixels`` embedders (8x8 thumbnails): what the pipeline itself costs,
  - tiny random-init CLIP (open_clip ViT-S-32) + DINOv3 (the test models),
  - optionally (``--real``) the real geometries, random init: CLIP ViT-B-32 + DINOv3 ViT-S/16, crop and
    token mode, next to the models' forward rate alone.

    python bench/pipeline_throughput.py                # 480 images
    python bench/pipeline_throughput.py --real         # + the real geometries on 24 images
"""
from __future__ import annotations

import argparse
import json
import os
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


def build(root: Path, n: int, slugs: int = 8) -> list[Path]:
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
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(_decode, paths, chunksize=8))
    return len(paths) / (time.perf_counter() - t)


def score_rate(root: Path, n: int, clip, cells, workers: int | None, batch: int = 32) -> float:
    from iconicity_core.io.dataset import scan_dataset
    from iconicity_core.pipeline import score_dataset

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        s = score_dataset(scan_dataset(root), Path(d) / "s.duckdb", clip, cells, batch_size=batch, progress=False,
                          workers=workers)
        dt = time.perf_counter() - t
    assert s.n_generations_scored == n, s
    return (n + 8) / dt


def forward_rate(clip, cells, n: int = 32) -> float:
    ims = [texture(i) for i in range(4)]
    g, c = [clip.prepare(im) for im in ims], [cells.prepare(im) for im in ims]
    clip.embed_prepared(g), cells.embed_prepared(c)
    t = time.perf_counter()
    for _ in range(n // 4):
        clip.embed_prepared(g), cells.embed_prepared(c)
    return n / (time.perf_counter() - t)


def main() -> None:
    from iconicity_core.embedders import load_cells, load_global
    from iconicity_core.pipeline.stream import default_workers
    from iconicity_core.testing import save_random_dinov3, save_random_open_clip

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=480, help="generated images")
    ap.add_argument("--real", action="store_true", help="also the real geometries (slow on a CPU)")
    ap.add_argument("--n-real", type=int, default=24, help="generated images for the real geometries")
    args = ap.parse_args()
    import torch.utils.data  # noqa: F401  (imported by any real model load; kept out of the timings)

    cores = default_workers()
    work = Path(tempfile.mkdtemp(prefix="iconicity-pipeline-"))
    try:
        paths = build(work / "ds", args.n)
        bound = decode_rate(paths, cores)
        out = {"cores": cores, "images": len(paths), "decode_bound_img_s": round(bound, 1)}
        models = work / "models"
        cases = {"pixels (near-free)": (load_global("pixels"), load_cells("pixels"))}
        clip_t = save_random_open_clip(models / "vit-s-32.safetensors")
        dino_t = save_random_dinov3(models / "dinov3-tiny")
        cases["tiny random CLIP + DINOv3"] = (load_global("ViT-S-32", str(clip_t)), load_cells(str(dino_t)))
        if args.real:
            clip_b = save_random_open_clip(models / "vit-b-32.safetensors", "ViT-B-32")
            dino_s = save_random_dinov3(models / "dinov3-s16", tiny=False)
            for mode in ("crop", "token"):
                cases[f"ViT-B/32 + DINOv3 ViT-S/16 ({mode})"] = (load_global("ViT-B-32", str(clip_b)),
                                                                load_cells(str(dino_s), mode))
        small = None
        for name, (clip, cells) in cases.items():
            if "ViT-B" in name:                # slow on a CPU: a smaller dataset, streamed only
                if small is None:
                    small = work / "small"
                    build(small, args.n_real)
                streamed = score_rate(small, args.n_real, clip, cells, workers=None)
                row = {"case": name, "score_img_s": round(streamed, 2),
                       "model_only_img_s": round(forward_rate(clip, cells, 8), 2)}
                row["of_model_only"] = f"{streamed / row['model_only_img_s']:.0%}"
                out.setdefault("rows", []).append(row)
                print(json.dumps(row), flush=True)
                continue
            serial = score_rate(work / "ds", args.n, clip, cells, workers=0)
            streamed = score_rate(work / "ds", args.n, clip, cells, workers=None)
            row = {"case": name, "score_img_s": round(streamed, 1), "score_workers0_img_s": round(serial, 1),
                   "of_decode_bound": f"{streamed / bound:.0%}"}
            out.setdefault("rows", []).append(row)
            print(json.dumps(row), flush=True)
        print(json.dumps({k: v for k, v in out.items() if k != "rows"}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
