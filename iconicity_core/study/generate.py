"""`iconicity generate`: text-to-image generations for every reference with diffusers.

Writes ``generations/<model>/<slug>/<variant>/<seed>.png`` and keeps ``generations.csv`` (path, model,
slug, variant, prompt, seed) up to date, so `iconicity score` reads the variants. Resumable: images
that exist are skipped; the CSV is rewritten atomically after every batch.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from ..embedders.base import ModelLoadError, hf_token
from ..io.atomic import atomic_path, write_csv
from ..io.dataset import GEN_COLUMNS, norm_slug

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preset:
    hub_id: str
    steps: int
    guidance: float
    size: int


PRESETS: dict[str, Preset] = {
    "sd15": Preset("stable-diffusion-v1-5/stable-diffusion-v1-5", 30, 7.5, 512),
    "sd21": Preset("stabilityai/stable-diffusion-2-1", 30, 7.5, 768),
    "sdxl": Preset("stabilityai/stable-diffusion-xl-base-1.0", 30, 7.0, 1024),
    "sd3-medium": Preset("stabilityai/stable-diffusion-3-medium-diffusers", 28, 7.0, 1024),
    "flux-schnell": Preset("black-forest-labs/FLUX.1-schnell", 4, 0.0, 1024),
}


def resolve_model(model: str) -> tuple[str, Preset | None]:
    """A preset name, a Hub id or a local pipeline directory -> (what to load, preset)."""
    if model in PRESETS:
        return PRESETS[model].hub_id, PRESETS[model]
    return (str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model), None


def model_label(model: str) -> str:
    """The folder name for a model (preset name, or the last part of a Hub id / directory)."""
    return model if model in PRESETS else norm_slug(Path(model.rstrip("/")).name)


def load_pipeline(model: str, device: str):
    import torch
    from diffusers import DiffusionPipeline

    source, _ = resolve_model(model)
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    try:
        pipe = DiffusionPipeline.from_pretrained(source, dtype=dtype, token=hf_token())
    except Exception as e:
        raise ModelLoadError(
            f"could not load the diffusers pipeline {source!r}: {type(e).__name__}: {e}\n"
            "What to do: check the Hub id (some models are gated: accept the licence and `hf auth login` or set "
            "HF_TOKEN), or pass a local folder written by save_pretrained."
        ) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def prompts_for(dataset: Path, variant: str) -> list[tuple[str, str]]:
    """(slug, prompt) for a variant: prompts.csv when it exists, else the titles (variant ``title``)."""
    pfile = dataset / "prompts.csv"
    if pfile.is_file():
        with open(pfile, newline="", encoding="utf-8") as f:
            rows = [(norm_slug(r["slug"]), r["prompt"]) for r in csv.DictReader(f) if r["variant"] == variant]
        if rows:
            return rows
    if variant != "title":
        raise ValueError(f"no prompts for variant {variant!r} — run `iconicity prompts perturb {dataset}` first")
    with open(dataset / "references.csv", newline="", encoding="utf-8-sig") as f:
        return [(norm_slug(r["slug"]), r["title"]) for r in csv.DictReader(f)]


def _read_gen_csv(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["path"]: r for r in csv.DictReader(f)}


def _write_gen_csv(path: Path, rows: dict[str, dict]) -> None:
    write_csv(path, list(GEN_COLUMNS), [rows[k] for k in sorted(rows)], dicts=True)


def generate(dataset: str | Path, model: str, n: int = 10, variant: str = "title", seed: int = 0,
             size: int | None = None, steps: int | None = None, guidance: float | None = None,
             batch_size: int = 4, device: str = "cpu", slugs: list[str] | None = None) -> int:
    """Generate ``n`` images per reference prompt (seeds ``seed .. seed+n-1``); returns how many were made."""
    import torch
    from tqdm.auto import tqdm

    ds = Path(dataset)
    _, preset = resolve_model(model)
    size = size or (preset.size if preset else 512)
    steps = steps or (preset.steps if preset else 30)
    guidance = guidance if guidance is not None else (preset.guidance if preset else 7.5)
    label = model_label(model)
    todo = []
    for slug, prompt in prompts_for(ds, variant):
        if slugs and slug not in slugs:
            continue
        for s in range(seed, seed + n):
            rel = f"generations/{label}/{slug}/{variant}/{s:06d}.png"
            todo.append((rel, slug, prompt, s))
    gen_csv = ds / "generations.csv"
    rows = _read_gen_csv(gen_csv)
    for rel, slug, prompt, s in todo:           # images made by an earlier run: make sure they are listed
        if (ds / rel).is_file():
            rows.setdefault(rel, {"path": rel, "model": label, "slug": slug, "variant": variant, "prompt": prompt,
                                  "seed": s})
    todo = [t for t in todo if not (ds / t[0]).is_file()]
    if not todo:
        _write_gen_csv(gen_csv, rows)
        log.info("nothing to generate: every image exists")
        return 0
    pipe = load_pipeline(model, device)
    made = 0
    gen_device = "cpu" if device == "mps" else device
    for i in tqdm(range(0, len(todo), batch_size), desc=f"generating ({label}, {variant})", unit="batch"):
        batch = todo[i : i + batch_size]
        generators = [torch.Generator(gen_device).manual_seed(s) for *_, s in batch]
        images = pipe([p for _, _, p, _ in batch], num_inference_steps=steps, guidance_scale=guidance,
                      height=size, width=size, generator=generators).images
        for (rel, slug, prompt, s), im in zip(batch, images, strict=True):
            dest = ds / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(dest) as tmp:
                im.save(tmp, format="PNG")
            rows[rel] = {"path": rel, "model": label, "slug": slug, "variant": variant, "prompt": prompt, "seed": s}
            made += 1
        _write_gen_csv(gen_csv, rows)
    return made
