"""`iconicity score` and `iconicity demo`: the commands that embed images and write similarities."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .. import config
from ..embedders import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, DEFAULT_DINO_MODEL
from ..io.images import DEFAULT_MAX_PIXELS
from .options import Device, Format, Quiet, fail, report_items


def score(
    dataset: Path | None = typer.Argument(None, help="Dataset folder (docs/scoring.md, 'Dataset layout'). Omit with --authors-*."),
    db: Path = typer.Option(..., "--db", help="DuckDB file to create or extend."),
    preset: str = typer.Option("paper", help="paper (the published method) or authors (the released scripts: CLIP ViT-B-16, "
                                               "center-crop cells at 256, their >= rule, dynamic τ 0.75, --k-gen 50, "
                                               "their file selection). "
                                               "Options given explicitly override the preset's values."),
    clip_model: str | None = typer.Option(None, help="open_clip architecture, or 'baseline' (see `iconicity embedders`) "
                                                         f"[paper: {DEFAULT_CLIP_MODEL}]."),
    clip_pretrained: str | None = typer.Option(None, help="open_clip weights tag or local checkpoint path "
                                                              f"[paper: {DEFAULT_CLIP_PRETRAINED}]."),
    dino_model: str = typer.Option(DEFAULT_DINO_MODEL, help="DINOv3 Hub id or local directory, or 'baseline'."),
    cell_preprocess: str | None = typer.Option(None, help="squash (each cell resized to the input size) or "
                                                              "center-crop (timm's transform, as the scripts) [paper: squash]."),
    cell_size: int | None = typer.Option(None, help="Cell input side (default: the model's input size)."),
    clip_preprocess: str | None = typer.Option(None, help="open_clip (its transform: centre crop at round) or hf "
                                                          "(Hugging Face's CLIP processor, as the scripts: crop at "
                                                          "floor) [paper: open_clip, authors: hf]."),
    decode: str | None = typer.Option(None, help="careful (EXIF rotation, alpha over white, 16-bit scaled, every "
                                                 "format, hidden files skipped) or authors (as the released scripts) "
                                                 "[paper: careful, authors: authors]."),
    clip_resize: str = typer.Option("auto", help="How the CLIP input is resized: pil (Pillow bicubic, exactly open_clip "
                                                 "and Hugging Face), uint8 (torch's uint8 kernel in the workers, ~4x "
                                                 "cheaper, within one grey level) or auto (uint8; pil with "
                                                 "--clip-preprocess hf)."),
    cell_resize: str = typer.Option("auto", help="Where DINOv3 cells are resized: uint8 (worker processes, torch's "
                                                 "uint8 kernels; the CPU default), torch (the model stage, float, on "
                                                 "the device; the CUDA default and the arithmetic before 0.2.0) or auto."),
    threshold_rule: str | None = typer.Option(None, help="gt (s > τ, the paper), ge (s >= τ) or authors (the scripts' "
                                                             ">=, a static work's CLIP similarity compared in float32); "
                                                             "recorded with the run, honoured by metrics and the dashboard."),
    clip_tau_dynamic: float | None = typer.Option(None, help="Default CLIP τ for dynamic references recorded "
                                                                 "with the run [authors: 0.75]."),
    k_gen: int | None = typer.Option(None, help="Score only the first K generations per model, reference and "
                                                   "prompt variant, by file name [authors: 50]."),
    patch_mode: str = typer.Option("crop", help="crop (paper-faithful) or token (one pass, pooled tokens)."),
    grid: str = typer.Option(config.GRID, help="ROWSxCOLS grid for the patch-level scores."),
    token_size: int = typer.Option(224, help="Input side for --patch-mode token."),
    device: Device = "auto",
    batch_size: int = typer.Option(32, help="Images per batch."),
    workers: int | None = typer.Option(None, help="Processes that read, decode and prepare images "
                                                     "(default: one per core; 0: in the main process)."),
    keep_embeddings: str = typer.Option("references", help="Embeddings kept in the database: all, references (the "
                                                            "generated images' similarities are kept, their vectors "
                                                            "not) or none. The map and find-similar need all."),
    backend: str = typer.Option("local", "--backend", "--engine",
                                help="Where the embedding stage runs: local (worker processes on this machine) or ray "
                                     "(a Ray cluster). (--engine is the old name.)"),
    ray_address: str | None = typer.Option(None, help="--backend ray: auto, ray://HOST:PORT, or none for a "
                                                         "local cluster."),
    gpus_per_worker: float = typer.Option(0.0, help="--backend ray: GPUs per embedding actor (0: CPU actors)."),
    ray_workers: int = typer.Option(2, help="--backend ray: embedding actors."),
    phash_max: int = typer.Option(config.PHASH_MAX, help="Dynamic references within this pHash Hamming distance are duplicates."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, help="Refuse larger images (decompression bombs)."),
    authors_refs: Path | None = typer.Option(None, help="Authors' layout: reference root (a folder per slug)."),
    authors_gen: list[str] = typer.Option([], help="Authors' layout: MODEL=DIR, repeatable."),
    authors_prompts: Path | None = typer.Option(None, help="Authors' layout: prompt CSV (slug column label_clean)."),
    authors_kind: str = typer.Option("static", help="Authors' layout: static or dynamic."),
    fmt: Format = "text",
    quiet: Quiet = False,
) -> None:
    """Embed every image once and store every raw similarity (resumable)."""
    from .. import db as database
    from ..core.grid import parse_grid
    from ..embedders import ModelLoadError, load_cells, load_global, resolve_device
    from ..io.dataset import CSVError, scan_authors_layout, scan_dataset
    from ..pipeline import score_dataset
    from ..pipeline.scorer import StageError, operating_point

    if fmt not in ("text", "json"):
        fail("--format must be text or json")
    if not db.exists() and not db.is_symlink():
        from ..io.outputs import fence_output

        fence_output(db, "file")          # a new database: not in a sidecar's place, in a folder that exists
    else:                                 # an existing one: usable, ours, not busy — said before models load
        database.connect(db).close()
    try:
        rows, cols = parse_grid(grid)
        if preset not in config.PRESETS:
            fail(f"--preset must be one of {', '.join(config.PRESETS)}")
        p = {**config.PRESETS[preset], **{k: v for k, v in {
            "clip_model": clip_model, "clip_pretrained": clip_pretrained, "cell_preprocess": cell_preprocess,
            "cell_size": cell_size, "threshold_rule": threshold_rule, "clip_tau_dynamic": clip_tau_dynamic,
            "k_gen": k_gen, "clip_preprocess": clip_preprocess, "decode": decode}.items() if v is not None}}
        if authors_refs is not None:
            if not authors_gen or authors_prompts is None:
                fail("the authors' layout needs --authors-refs, --authors-gen MODEL=DIR and --authors-prompts")
            bad = [g for g in authors_gen if "=" not in g]
            if bad:
                fail(f"--authors-gen takes MODEL=DIR, got {bad[0]!r}")
            ds = scan_authors_layout(authors_refs, dict(g.split("=", 1) for g in authors_gen), authors_prompts,
                                     authors_kind, decode=p["decode"])
        elif dataset is not None:
            ds = scan_dataset(dataset, decode=p["decode"])
        else:
            fail("give a DATASET folder (or the --authors-* options)")
        if p["threshold_rule"] not in config.RULES:
            fail(f"--threshold-rule must be one of {', '.join(config.RULES)}")
        if p["k_gen"] is not None and p["k_gen"] < 1:
            fail("--k-gen must be at least 1")
        dev = resolve_device(device)
        typer.echo(f"loading models on {dev} ...", err=True)
        clip = load_global(p["clip_model"], p["clip_pretrained"], device=dev, batch_size=batch_size,
                           preprocess=p["clip_preprocess"], decode=p["decode"], resize=clip_resize)
        cells = load_cells(dino_model, patch_mode, rows, cols, device=dev, batch_size=max(batch_size, 64),
                           token_size=token_size, cell_preprocess=p["cell_preprocess"], cell_size=p["cell_size"],
                           resize=cell_resize, decode=p["decode"])
        config_ = {"preset": preset, **p, "dino_model": dino_model, "patch_mode": patch_mode, "grid": grid,
                   "backend": backend,
                   "token_size": token_size, "batch_size": batch_size, "phash_max": phash_max,
                   "max_pixels": max_pixels, "dataset": str(dataset) if dataset else None, "layout": ds.layout,
                   "operating_point": operating_point(clip, cells, p["threshold_rule"], p["clip_tau_dynamic"])}
        summary = score_dataset(ds, db, clip, cells, phash_max=phash_max, batch_size=batch_size,
                                max_pixels=max_pixels, device=dev, progress=not quiet, config=config_,
                                k_gen=p["k_gen"], threshold_rule=p["threshold_rule"], workers=workers,
                                keep_embeddings=keep_embeddings, backend=backend, decode=p["decode"],
                                ray={"address": ray_address, "gpus_per_worker": gpus_per_worker, "actors": ray_workers,
                                     "models": {"clip_model": p["clip_model"], "clip_pretrained": p["clip_pretrained"],
                                                "dino_model": dino_model, "patch_mode": patch_mode, "rows": rows,
                                                "cols": cols, "token_size": token_size,
                                                "cell_preprocess": p["cell_preprocess"], "cell_size": p["cell_size"],
                                                "batch_size": batch_size, "clip_preprocess": p["clip_preprocess"],
                                                "decode": p["decode"], "cell_resize": cell_resize,
                                                "clip_resize": clip_resize}})
    except (ModelLoadError, FileNotFoundError, ValueError, CSVError, database.DatabaseBusy,
            database.SchemaError, StageError) as e:
        fail(str(e))
    except KeyboardInterrupt:
        typer.echo("interrupted: every batch already written is kept — run the same command again to resume", err=True)
        raise typer.Exit(130) from None
    report_items(summary.problems, "problem")
    report_items(summary.errors, "error")
    if fmt == "json":
        typer.echo(json.dumps({**summary.as_dict(), "db": str(db)}, indent=2))
    typer.echo(
        f"run {summary.run_id}: {summary.n_generations_scored} generation(s) scored, "
        f"{summary.n_embedded} new generated image(s) embedded, {summary.n_refs_embedded} reference(s) embedded "
        f"(recognition embedder: {summary.n_global} image(s), cell embedder: {summary.n_cells}), "
        f"{len(summary.errors)} file error(s), {len(summary.problems)} dataset problem(s) -> {db}", err=True)


def demo(
    db: Path | None = typer.Option(None, "--db", help="Where to write the demo database (default: "
                                                      "$ICONICITY_DATA/demo.duckdb, its folder created). It replaces "
                                                      "only a demo database, and removes only a dataset folder the "
                                                      "demo made."),
    embedders: str = typer.Option("auto", help="auto (pretrained if cached, else baseline), baseline or pretrained."),
    per_cell: int = typer.Option(20, help="Generations per model, reference and prompt variant."),
    quiet: Quiet = False,
) -> None:
    """Build the offline demo dataset (real CC0/public-domain references, simulated models) and score it."""
    from .. import db as database
    from ..demo.build import build_demo
    from ..embedders import ModelLoadError

    target = db or config.demo_db_path()
    t = time.perf_counter()
    try:
        s = build_demo(target, embedders=embedders, per_cell=per_cell, quiet=quiet, create_parents=db is None)
    except (ModelLoadError, database.DatabaseError) as e:
        fail(str(e))
    n = s.n_generations_scored if s else "(built by another process)"
    typer.echo(f"demo: {n} generations scored in {time.perf_counter() - t:.1f}s -> {target}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.command()(demo)
