"""Building the study: `references build|fetch-images|curate`, `prompts perturb`, `generate`."""
from __future__ import annotations

from pathlib import Path

import typer

from ..embedders import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, ModelLoadError, load_global, resolve_device
from .options import fail, out_argument

references_app = typer.Typer(no_args_is_help=True, help="Build the reference set: Wikidata, images, curation.")


@references_app.command("build")
def references_build(
    out_dir: Path = out_argument("folder", help="Dataset folder to write references.csv into (created with its "
                                                "parents).", create_parents=True),
    classes: str = typer.Option("painting,album,film,tv_series", help="Comma-separated: painting, album, film, tv_series."),
    min_sitelinks: int = typer.Option(20, help="Keep items with more sitelinks than this."),
    per_class: int | None = typer.Option(None, help="At most this many items per class (most sitelinks first)."),
    page_size: int = typer.Option(500, help="SPARQL LIMIT per request."),
    endpoint: str = typer.Option("https://query.wikidata.org/sparql", help="SPARQL endpoint."),
    timeout: float = typer.Option(60.0), retries: int = typer.Option(5),
) -> None:
    """Cultural works from Wikidata (QID, title, kind, class, sitelinks, date, creator, image, description)."""
    from ..io.http import HTTPError, PoliteClient
    from ..study.wikidata import build_references

    client = PoliteClient(out_dir / ".cache" / "wikidata", timeout=timeout, retries=retries)
    try:
        build_references(out_dir, [c.strip() for c in classes.split(",") if c.strip()], min_sitelinks, per_class,
                         page_size, endpoint, client)
    except (HTTPError, ValueError) as e:
        fail(f"{e}\nNothing was written; completed pages are cached, so running the command again resumes.")


@references_app.command("fetch-images")
def references_fetch_images(
    out_dir: Path = out_argument("folder", help="Dataset folder with references.csv."),
    width: int = typer.Option(1024, help="Thumbnail width in pixels."),
    commons: str = typer.Option("https://commons.wikimedia.org", help="Commons base URL."),
    timeout: float = typer.Option(60.0), retries: int = typer.Option(5),
) -> None:
    """Download the canonical image (P18) of every static reference from Wikimedia Commons (resumable)."""
    from ..io.http import PoliteClient
    from ..study.commons import fetch_images

    try:
        log = fetch_images(out_dir, width, commons, PoliteClient(out_dir / ".cache" / "commons", timeout=timeout,
                                                                  retries=retries))
    except FileNotFoundError as e:
        fail(str(e))
    typer.echo(f"per-item results: {log}")


@references_app.command("curate")
def references_curate(
    out_dir: Path = out_argument("folder", help="Dataset folder with references.csv."),
    candidates: Path | None = typer.Option(None, help="Folder with one sub-folder of candidate images per "
                                                         "dynamic slug (default OUT_DIR/candidates)."),
    clip_model: str = typer.Option(DEFAULT_CLIP_MODEL), clip_pretrained: str = typer.Option(DEFAULT_CLIP_PRETRAINED),
    phash_max: int = typer.Option(18), min_sim: float = typer.Option(0.7, help="Keep candidates above this CLIP "
                                                                               "similarity to the medoid."),
    device: str = typer.Option("auto"),
) -> None:
    """Choose reference images for films / series from collected candidates (pHash + CLIP consensus)."""
    from ..study.curate import curate

    try:
        emb = load_global(clip_model, clip_pretrained, device=resolve_device(device))
        path = curate(out_dir, emb, candidates, phash_max, min_sim)
    except (ModelLoadError, FileNotFoundError) as e:
        fail(str(e))
    typer.echo(f"per-candidate decisions: {path}")


prompts_app = typer.Typer(no_args_is_help=True, help="Prompt variants per reference.")


@prompts_app.command("perturb")
def prompts_perturb(
    dataset: Path = typer.Argument(..., help="Dataset folder with references.csv."),
    variants: str = typer.Option("title,synonym", help="Comma-separated: title, synonym, description."),
    descriptions: Path | None = typer.Option(None, help="CSV with slug and a description column."),
    description_column: str = typer.Option("description"),
    wordnet: Path = typer.Option(Path("/usr/share/wordnet"), help="WordNet database folder (Debian wordnet-base)."),
) -> None:
    """Write DATASET/prompts.csv: the title, a WordNet-synonym rewrite, literal descriptions."""
    from ..study.prompts import perturb

    try:
        out = perturb(dataset, tuple(v.strip() for v in variants.split(",") if v.strip()), descriptions,
                      description_column, wordnet)
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    typer.echo(str(out))


def generate(
    dataset: Path = typer.Argument(..., help="Dataset folder with references.csv (and prompts.csv for variants)."),
    model: str = typer.Option(..., "--model", help="Preset (sd15, sd21, sdxl, sd3-medium, flux-schnell), Hub id or local dir."),
    n: int = typer.Option(10, "--n", help="Images per prompt (seeds --seed .. --seed+n-1)."),
    variant: str = typer.Option("title", help="Prompt variant (see `iconicity prompts perturb`)."),
    seed: int = typer.Option(0), size: int | None = typer.Option(None, help="Side in pixels (preset default)."),
    steps: int | None = typer.Option(None), guidance: float | None = typer.Option(None),
    batch_size: int = typer.Option(4), device: str = typer.Option("auto"),
    slugs: str | None = typer.Option(None, help="Comma-separated slugs (default: all references)."),
) -> None:
    """Generate images for every reference with diffusers (resumable; fp16 on CUDA)."""
    from ..study.generate import generate as run_generate

    try:
        made = run_generate(dataset, model, n, variant, seed, size, steps, guidance, batch_size, resolve_device(device),
                            [s.strip() for s in slugs.split(",")] if slugs else None)
    except (ModelLoadError, ValueError, FileNotFoundError) as e:
        fail(str(e))
    typer.echo(f"{made} image(s) generated in {dataset}/generations (listed in generations.csv)")


def register(app: typer.Typer) -> None:
    app.add_typer(references_app, name="references")
    app.add_typer(prompts_app, name="prompts")
    app.command()(generate)
