"""Throughput of the patch-level (DINOv3) stage: the authors' algorithm vs ours (crop and token).

Same backbone (a random-init DINOv3 ViT-S/16 of the real geometry: random weights cost the same as
trained ones), same images, same device, same process:

(a) authors  — for every generated image, one at a time: crop and embed the cells of every reference
               image *and* of the generated image, then match (the released compute_VR.py).
(b) ours/crop — reference cells embedded once (they are stored by content and shared by every model's
               generations of that slug), generated images in batches.
(c) ours/token — one forward pass per image, patch tokens pooled into the cells.

Printed: generated images per second (reference embedding included in ours) and ratios.

    python bench/embed_throughput.py                     # CPU: 5 models x 50 generations per slug
    python bench/embed_throughput.py --models 1 --gens 20 # quick look
    python bench/embed_throughput.py --device cuda
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from PIL import Image

from iconicity_core.core.similarity import match_cells
from iconicity_core.embedders import load_cells
from iconicity_core.testing import save_random_dinov3


def images(n: int, seed: int, size: int = 512) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(n)]


def authors(emb, refs, gens) -> float:
    t = time.perf_counter()
    for g in gens:                                            # one image at a time
        ref_cells = emb.embed_cells(refs).reshape(-1, emb._dim)   # re-embedded every time
        gen_cells = emb.embed_cells([g])[0]
        (gen_cells @ ref_cells.T).max(axis=1)
    return len(gens) / (time.perf_counter() - t)


def ours(emb, refs, gens, batch: int) -> float:
    t = time.perf_counter()
    rc = emb.embed_cells(refs)                                # once per slug
    for i in range(0, len(gens), batch):
        for gc in emb.embed_cells(gens[i : i + batch]):
            match_cells(gc, rc)
    return len(gens) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--gens", type=int, default=50, help="generated images per model and slug (paper: up to 50)")
    ap.add_argument("--models", type=int, default=5, help="diffusion models sharing the references (paper: 5)")
    ap.add_argument("--authors-gens", type=int, default=3, help="images timed for the authors' algorithm "
                    "(its per-image cost does not depend on how many there are)")
    ap.add_argument("--dynamic-refs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    import torch

    torch.set_grad_enabled(False)
    with tempfile.TemporaryDirectory() as d:
        save_random_dinov3(d, tiny=False)
        crop = load_cells(d, "crop", device=args.device, batch_size=64)
        token = load_cells(d, "token", device=args.device, batch_size=args.batch)
    dim = crop.embed_cells(images(1, 0)).shape[-1]
    crop._dim = dim
    gens = images(args.gens * args.models, 1)
    print(f"device={args.device} torch threads={torch.get_num_threads()} backbone=DINOv3 ViT-S/16 (random init) "
          f"grid=4x4 generations per slug={args.models} models x {args.gens}")
    print(f"{'case':<9}{'refs':>5}{'authors img/s':>15}{'crop img/s':>12}{'token img/s':>13}"
          f"{'crop/authors':>14}{'token/authors':>15}{'token/crop':>12}")
    for case, n_refs in (("static", 1), ("dynamic", args.dynamic_refs)):
        refs = images(n_refs, 2)
        ours(crop, refs[:1], gens[:2], args.batch)            # warm-up
        a = authors(crop, refs, gens[: args.authors_gens])
        c = ours(crop, refs, gens, args.batch)
        t = ours(token, refs, gens, args.batch)
        print(f"{case:<9}{n_refs:>5}{a:>15.2f}{c:>12.2f}{t:>13.2f}{c / a:>14.1f}{t / a:>15.1f}{t / c:>12.1f}")


if __name__ == "__main__":
    main()
