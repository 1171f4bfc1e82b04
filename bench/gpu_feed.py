"""Does the pipeline keep a GPU fed? For a machine with a CUDA GPU (never needed by the project).

Real geometries with random weights (CLIP ViT-B/32 + DINOv3 ViT-S/16, fp16 autocast), 1024x1024 PNGs, batch
sizes 128-512: the models' forward rate alone on the GPU, then `score` end to end (variable cost: a full run
minus a no-op re-run) with the default workers, while a thread samples GPU utilisation (NVML through
``torch.cuda.utilization()`` when ``pynvml`` is installed, else ``nvidia-smi``).

    python bench/gpu_feed.py [--n 2000] [--batch 128 256 512] [--mode crop token]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_throughput import build, decode_rate, score_variable, texture


def utilisation() -> float | None:
    import torch

    try:
        return float(torch.cuda.utilization())
    except Exception:
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=5).stdout.split()
            return float(out[0]) if out else None
        except (OSError, ValueError, subprocess.SubprocessError):
            return None


class Sampler(threading.Thread):
    def __init__(self, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.every, self.values, self.stop = every, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            v = utilisation()
            if v is not None:
                self.values.append(v)
            time.sleep(self.every)

    def summary(self) -> dict:
        import numpy as np

        v = np.array(self.values or [np.nan])
        return {"gpu_util_mean": round(float(np.nanmean(v)), 1), "gpu_util_p10": round(float(np.nanpercentile(v, 10)), 1),
                "samples": len(self.values)}


def main() -> None:
    import torch

    from iconicity_core.embedders import load_cells, load_global
    from iconicity_core.pipeline.stream import cores, default_workers
    from iconicity_core.testing import save_random_dinov3, save_random_open_clip

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, nargs="+", default=[128, 256, 512])
    ap.add_argument("--mode", nargs="+", default=["crop", "token"])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device here: this bench is for a machine with a GPU")
    work = Path(tempfile.mkdtemp(prefix="iconicity-gpu-"))
    try:
        paths = build(work / "ds", args.n)
        print(json.dumps({"gpu": torch.cuda.get_device_name(0), "cores": cores(), "default_workers": default_workers(),
                          "decode_bound_img_s": round(decode_rate(paths, cores()), 1)}), flush=True)
        clip_w = save_random_open_clip(work / "vit-b-32.safetensors", "ViT-B-32")
        dino_w = save_random_dinov3(work / "dinov3-s16", tiny=False)
        for mode in args.mode:
            for batch in args.batch:
                clip = load_global("ViT-B-32", str(clip_w), device="cuda", batch_size=batch)
                cells = load_cells(str(dino_w), mode, device="cuda", batch_size=max(batch, 64) * (16 if mode == "crop" else 1))
                ims = [texture(i) for i in range(batch)]
                g, c = [clip.prepare(im) for im in ims], [cells.prepare(im) for im in ims]
                clip.embed_prepared(g), cells.embed_prepared(c)
                torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(3):
                    clip.embed_prepared(g), cells.embed_prepared(c)
                torch.cuda.synchronize()
                model_only = 3 * batch / (time.perf_counter() - t)
                sampler = Sampler()
                sampler.start()
                rate = score_variable(work / "ds", args.n, clip, cells, workers=None, batch=batch)
                sampler.stop.set()
                sampler.join()
                print(json.dumps({"mode": mode, "batch": batch, "model_only_img_s": round(model_only, 1),
                                  "score_img_s": round(rate, 1), "of_model_only": f"{rate / model_only:.0%}",
                                  **sampler.summary()}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
