"""The ``iconicity`` command line (typer). Writing happens only here, never in the dashboard."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import store
from .embedders import (DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, DEFAULT_DINO_MODEL, ModelLoadError,
                        load_cells, load_global, resolve_device)
from .grid import parse_grid
from .images import DEFAULT_MAX_PIXELS
from .queries import BY, Thresholds, errors_table, metrics_table, runs_table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Iconicity Explorer: score generated images against cultural references.")


def _fail(msg: str, code: int = 2) -> None:
    typer.secho(f"error: {msg}", fg="red", err=True)
    raise typer.Exit(code)


@app.command()
def score(
    dataset: Optional[Path] = typer.Argument(None, help="Dataset folder (DESIGN layout). Omit with --authors-*."),
    db: Path = typer.Option(..., "--db", help="DuckDB file to create or extend."),
    clip_model: str = typer.Option(DEFAULT_CLIP_MODEL, help="open_clip architecture, or 'baseline'."),
    clip_pretrained: str = typer.Option(DEFAULT_CLIP_PRETRAINED, help="open_clip weights tag or local checkpoint path."),
    dino_model: str = typer.Option(DEFAULT_DINO_MODEL, help="DINOv3 Hub id or local directory, or 'baseline'."),
    patch_mode: str = typer.Option("crop", help="crop (paper-faithful) or token (one pass, pooled tokens)."),
    grid: str = typer.Option("4x4", help="ROWSxCOLS grid for the patch-level scores."),
    token_size: int = typer.Option(224, help="Input side for --patch-mode token."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:N or mps."),
    batch_size: int = typer.Option(32, help="Images per batch."),
    phash_max: int = typer.Option(18, help="Dynamic references within this pHash Hamming distance are duplicates."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, help="Refuse larger images (decompression bombs)."),
    authors_refs: Optional[Path] = typer.Option(None, help="Authors' layout: reference root (a folder per slug)."),
    authors_gen: list[str] = typer.Option([], help="Authors' layout: MODEL=DIR, repeatable."),
    authors_prompts: Optional[Path] = typer.Option(None, help="Authors' layout: prompt CSV (slug column label_clean)."),
    authors_kind: str = typer.Option("static", help="Authors' layout: static or dynamic."),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """Embed every image once and store every raw similarity (resumable)."""
    from .dataset import scan_authors_layout, scan_dataset
    from .scoring import score_dataset

    try:
        rows, cols = parse_grid(grid)
        if authors_refs is not None:
            if not authors_gen or authors_prompts is None:
                _fail("the authors' layout needs --authors-refs, --authors-gen MODEL=DIR and --authors-prompts")
            gens = dict(g.split("=", 1) for g in authors_gen)
            ds = scan_authors_layout(authors_refs, gens, authors_prompts, authors_kind)
        elif dataset is not None:
            ds = scan_dataset(dataset)
        else:
            _fail("give a DATASET folder (or the --authors-* options)")
        dev = resolve_device(device)
        typer.echo(f"loading models on {dev} ...", err=True)
        clip = load_global(clip_model, clip_pretrained, device=dev, batch_size=batch_size)
        cells = load_cells(dino_model, patch_mode, rows, cols, device=dev, batch_size=max(batch_size, 64),
                           token_size=token_size)
        summary = score_dataset(ds, db, clip, cells, phash_max=phash_max, batch_size=batch_size,
                                max_pixels=max_pixels, device=dev, progress=not quiet)
    except (ModelLoadError, FileNotFoundError, ValueError, store.DatabaseBusy) as e:
        _fail(str(e))
    for item, msg in summary.problems:
        typer.secho(f"problem: {item}: {msg}", fg="yellow", err=True)
    for item, msg in summary.errors:
        typer.secho(f"error: {msg}", fg="yellow", err=True)
    typer.echo(
        f"run {summary.run_id}: {summary.n_generations_scored} generation(s) scored, "
        f"{summary.n_embedded} new generated image(s) embedded, {summary.n_refs_embedded} reference(s) embedded "
        f"(recognition embedder: {summary.n_global} image(s), cell embedder: {summary.n_cells}), "
        f"{len(summary.errors)} file error(s), {len(summary.problems)} dataset problem(s) -> {db}", err=True)


def _emit(df, fmt: str, output: Optional[Path], meta: dict) -> None:
    if fmt == "csv":
        text = df.to_csv(index=False)
    elif fmt == "json":
        text = json.dumps({**meta, "rows": json.loads(df.to_json(orient="records", double_precision=15))}, indent=2, default=str)
    else:
        _fail(f"--format must be csv or json, got {fmt!r}")
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


@app.command()
def metrics(
    db: Path = typer.Option(..., "--db", help="Scored DuckDB file."),
    by: str = typer.Option("model", "--by", help="image, reference or model."),
    clip_tau: float = typer.Option(0.70, help="CLIP threshold (static references; dynamic too unless set)."),
    clip_tau_dynamic: Optional[float] = typer.Option(None, help="CLIP threshold for dynamic references."),
    patch_tau: float = typer.Option(0.60, help="Cell reuse threshold."),
    pooling: str = typer.Option("recognised", help="VI(c) over 'recognised' generations or 'all'."),
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
    run: Optional[str] = typer.Option(None, help="Run id (default: the latest; see `iconicity runs`)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """CRA / VR / VI / CRT from stored similarities, at any thresholds (nothing is re-embedded)."""
    if by not in BY:
        _fail(f"--by must be one of {', '.join(BY)}")
    try:
        t = Thresholds(clip_tau, clip_tau_dynamic, patch_tau, pooling)
        con = store.connect(db, read_only=True)
        df = metrics_table(con, by, t, run_id=run)
    except (ValueError, LookupError, FileNotFoundError, store.DatabaseBusy) as e:
        _fail(str(e))
    _emit(df, fmt, output, {"by": by, "run_id": run or store.latest_run(con), "thresholds": t.__dict__,
                            "vi_pooling": pooling})


def _read_only(db: Path):
    try:
        return store.connect(db, read_only=True)
    except (FileNotFoundError, store.DatabaseBusy) as e:
        _fail(str(e))


@app.command()
def runs(db: Path = typer.Option(..., "--db"), fmt: str = typer.Option("csv", "--format")) -> None:
    """List scoring runs (embedders, grid, patch mode, number scored)."""
    _emit(runs_table(_read_only(db)), fmt, None, {})


@app.command()
def errors(db: Path = typer.Option(..., "--db"), fmt: str = typer.Option("csv", "--format")) -> None:
    """List per-file errors and dataset problems recorded during scoring."""
    _emit(errors_table(_read_only(db)), fmt, None, {})


@app.command()
def export(
    db: Path = typer.Option(..., "--db"),
    out: Path = typer.Option(Path("export"), "--out", help="Output folder."),
    fmt: str = typer.Option("authors", "--format", help="authors: the released scripts' CSV files."),
    clip_tau: float = typer.Option(0.70), clip_tau_dynamic: Optional[float] = typer.Option(None),
    patch_tau: float = typer.Option(0.60), run: Optional[str] = typer.Option(None),
) -> None:
    """Export results in the authors' CSV format (one row per image, with cra_pass)."""
    from .export import export_authors

    if fmt != "authors":
        _fail("--format authors is the only export format so far")
    try:
        con = store.connect(db, read_only=True)
        paths = export_authors(con, out, Thresholds(clip_tau, clip_tau_dynamic, patch_tau), run)
    except (LookupError, FileNotFoundError, store.DatabaseBusy, ValueError) as e:
        _fail(str(e))
    for p in paths:
        typer.echo(str(p))


@app.command()
def demo(
    db: Optional[Path] = typer.Option(None, "--db", help="Where to write the demo database (default data/demo.duckdb)."),
    embedders: str = typer.Option("auto", help="auto (pretrained if cached, else baseline), baseline or pretrained."),
    per_cell: int = typer.Option(20, help="Generations per model, reference and prompt variant."),
    quiet: bool = typer.Option(False),
) -> None:
    """Build the offline demo dataset (real CC0/public-domain references, simulated models) and score it."""
    import time

    from .demo.build import DEFAULT_DB, build_demo

    t = time.perf_counter()
    try:
        s = build_demo(db or DEFAULT_DB, embedders=embedders, per_cell=per_cell, quiet=quiet)
    except (ModelLoadError, store.DatabaseBusy) as e:
        _fail(str(e))
    typer.echo(f"demo: {s.n_generations_scored} generations scored in {time.perf_counter() - t:.1f}s -> {db or DEFAULT_DB}",
               err=True)


covariates_app = typer.Typer(no_args_is_help=True, help="Add covariates to the references (with provenance).")
app.add_typer(covariates_app, name="covariates")


def _writer(db: Path):
    try:
        return store.connect(db)
    except store.DatabaseBusy as e:
        _fail(str(e))


def _report_fetch(col: str, errors: dict[str, str]) -> None:
    for slug, msg in errors.items():
        typer.secho(f"{slug}: {msg}", fg="yellow", err=True)
    typer.echo(f"added: {col} ({len(errors)} reference(s) without a value)")


@covariates_app.command("uniqueness")
def cov_uniqueness(db: Path = typer.Option(..., "--db")) -> None:
    """Title uniqueness: mean Zipf word frequency (wordfreq) and exact-title ambiguity in the set."""
    from .covariates import title_uniqueness

    typer.echo("added: " + ", ".join(title_uniqueness(_writer(db))))


@covariates_app.command("ambiguity")
def cov_ambiguity(
    db: Path = typer.Option(..., "--db"),
    endpoint: str = typer.Option("https://query.wikidata.org/sparql"),
    cache_dir: Path = typer.Option(Path(".iconicity_cache/wikidata"), help="Raw responses are cached here."),
) -> None:
    """Exact-label ambiguity on Wikidata: other items whose English label is the title."""
    from .covariates import wikidata_ambiguity
    from .http import PoliteClient

    _report_fetch(*wikidata_ambiguity(_writer(db), PoliteClient(cache_dir), endpoint))


@covariates_app.command("distinctiveness")
def cov_distinctiveness(
    db: Path = typer.Option(..., "--db"),
    clip_model: str = typer.Option(DEFAULT_CLIP_MODEL, help="open_clip architecture (its text tower is used)."),
    clip_pretrained: str = typer.Option(DEFAULT_CLIP_PRETRAINED, help="Weights tag or local checkpoint path."),
    n_phrases: int = typer.Option(1000, help="How many common English words to compare with."),
    device: str = typer.Option("auto"),
) -> None:
    """Semantic distinctiveness of titles: 1 - max cosine to common phrases (CLIP text tower)."""
    from .covariates import semantic_distinctiveness

    if clip_model == "baseline":
        _fail("the appearance baseline has no text tower: use an open_clip model")
    try:
        emb = load_global(clip_model, clip_pretrained, device=resolve_device(device))
    except ModelLoadError as e:
        _fail(str(e))
    typer.echo("added: " + semantic_distinctiveness(_writer(db), emb, n_phrases))


@covariates_app.command("frequency")
def cov_frequency(
    db: Path = typer.Option(..., "--db"),
    captions: Optional[str] = typer.Option(None, help="Glob of Parquet files, e.g. 'captions/*.parquet'."),
    column: str = typer.Option("caption", help="Caption column in the Parquet files."),
    from_csv: Optional[Path] = typer.Option(None, help="Import published counts: CSV with slug and --csv-column."),
    csv_column: str = typer.Option("count"),
    name: str = typer.Option("train_freq", help="Covariate column to write."),
    corpus: Optional[str] = typer.Option(None, help="Corpus name recorded with the counts (e.g. LAION-2B-en)."),
) -> None:
    """Training-data frequency: captions containing each title as a whole phrase (DuckDB, streaming)."""
    import glob

    from .covariates import caption_frequency, import_csv

    con = _writer(db)
    try:
        if from_csv is not None:
            col = import_csv(con, from_csv, csv_column, name, source=f"published counts ({corpus or from_csv.name})")
        elif captions:
            col = caption_frequency(con, [Path(p) for p in sorted(glob.glob(captions))], column, name, corpus)
        else:
            _fail("give --captions GLOB or --from-csv FILE")
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(f"added: {col}")


@covariates_app.command("popularity")
def cov_popularity(
    db: Path = typer.Option(..., "--db"),
    from_csv: Optional[Path] = typer.Option(None, help="CSV: slug,<column>"),
    column: str = typer.Option("pageviews", help="Column of the CSV (and name of the covariate)."),
    fetch_pageviews: bool = typer.Option(False, help="Fetch Wikipedia page views from the Wikimedia REST API."),
    start: str = typer.Option("20240101"), end: str = typer.Option("20241231"),
    project: str = typer.Option("en.wikipedia"),
    title_column: Optional[str] = typer.Option(None, help="Reference column holding the article title."),
    endpoint: str = typer.Option("https://wikimedia.org/api/rest_v1", help="API base URL."),
    cache_dir: Path = typer.Option(Path(".iconicity_cache/pageviews"), help="Raw responses are cached here."),
) -> None:
    """Popularity beyond sitelinks: Wikipedia page views, from a CSV or fetched (polite, cached)."""
    from .covariates import fetch_pageviews as fetch
    from .covariates import import_csv
    from .http import PoliteClient

    con = _writer(db)
    try:
        if from_csv is not None:
            typer.echo("added: " + import_csv(con, from_csv, column, column, source="popularity csv"))
        elif fetch_pageviews:
            _report_fetch(*fetch(con, PoliteClient(cache_dir), start, end, project, endpoint, title_column, column))
        else:
            _fail("give --from-csv FILE or --fetch-pageviews")
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))


@covariates_app.command("dates")
def cov_dates(db: Path = typer.Option(..., "--db"), column: str = typer.Option("inception")) -> None:
    """Creation date: year and decade from an inception / publication column."""
    from .covariates import dates

    try:
        typer.echo("added: " + ", ".join(dates(_writer(db), column)))
    except ValueError as e:
        _fail(str(e))


@app.command()
def analyze(
    db: Path = typer.Option(..., "--db"),
    out: Path = typer.Option(Path("analysis"), "--out"),
    covariates: Optional[str] = typer.Option(None, help="Comma-separated covariate columns (default: all numeric)."),
    clip_tau: float = typer.Option(0.70), clip_tau_dynamic: Optional[float] = typer.Option(None),
    patch_tau: float = typer.Option(0.60), pooling: str = typer.Option("recognised"),
    correction: str = typer.Option("holm", help="holm or bh."),
    n_resamples: int = typer.Option(999), run: Optional[str] = typer.Option(None),
    variant: str = typer.Option("title", help="Prompt variant to analyse."),
) -> None:
    """Spearman rho with bootstrap CIs, partial rho, corrected p-values and multivariable models
    (CSV + LaTeX tables, HTML figures), per model, pooled, and per static/dynamic kind."""
    from .report import write_analysis

    con = _read_only(db)
    try:
        t = Thresholds(clip_tau, clip_tau_dynamic, patch_tau, pooling)
        covs = [c.strip() for c in covariates.split(",")] if covariates else None
        paths = write_analysis(con, out, t, covs, correction, n_resamples, run, variant)
    except (ValueError, LookupError) as e:
        _fail(str(e))
    for p in paths:
        typer.echo(str(p))


@app.command()
def evaluate(
    db: Path = typer.Option(..., "--db"),
    out: Path = typer.Option(Path("evaluation.csv"), "--out", help="CSV of AUCs (a .meta.json goes beside it)."),
    labels: Optional[Path] = typer.Option(None, help="CSV image,label (replica/partial/reinterpretation/miss); "
                                                    "default: the labels stored in the database (demo)."),
    sscd: Optional[Path] = typer.Option(None, help="SSCD TorchScript file (not bundled: non-commercial licence)."),
    dino_model: Optional[str] = typer.Option(None, help="Also a global DINOv3 cosine (Hub id or local dir)."),
    precision: float = typer.Option(0.9, help="Report the threshold reaching this precision."),
    clip_tau: float = typer.Option(0.70), clip_tau_dynamic: Optional[float] = typer.Option(None),
    patch_tau: float = typer.Option(0.60), n_resamples: int = typer.Option(999), run: Optional[str] = typer.Option(None),
    quiet: bool = typer.Option(False),
) -> None:
    """Compare CLIP similarity and VR with plain similarity measures (pHash, SSIM, tiled L2, appearance
    descriptor, SSCD) on labelled images: ROC-AUC with bootstrap CIs."""
    import json

    from .evaluate import evaluate as run_evaluate
    from .evaluate import read_labels

    con = _writer(db)
    try:
        t = Thresholds(clip_tau, clip_tau_dynamic, patch_tau)
        table = run_evaluate(con, t, read_labels(labels) if labels else None, sscd, precision, n_resamples, run,
                             progress=not quiet, dino_model=dino_model)
    except (ValueError, LookupError, FileNotFoundError, ModelLoadError) as e:
        _fail(str(e))
    table.to_csv(out, index=False)
    out.with_suffix(".meta.json").write_text(json.dumps({"thresholds": t.__dict__, "precision": precision,
                                                         "bootstrap_resamples": n_resamples}, indent=2))
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


references_app = typer.Typer(no_args_is_help=True, help="Build the reference set: Wikidata, images, curation.")
app.add_typer(references_app, name="references")


@references_app.command("build")
def references_build(
    out_dir: Path = typer.Argument(..., help="Dataset folder to write references.csv into."),
    classes: str = typer.Option("painting,album,film,tv_series", help="Comma-separated: painting, album, film, tv_series."),
    min_sitelinks: int = typer.Option(20, help="Keep items with more sitelinks than this."),
    per_class: Optional[int] = typer.Option(None, help="At most this many items per class (most sitelinks first)."),
    page_size: int = typer.Option(500, help="SPARQL LIMIT per request."),
    endpoint: str = typer.Option("https://query.wikidata.org/sparql", help="SPARQL endpoint."),
    timeout: float = typer.Option(60.0), retries: int = typer.Option(5),
) -> None:
    """Cultural works from Wikidata (QID, title, kind, class, sitelinks, date, creator, image, description)."""
    from .http import HTTPError, PoliteClient
    from .study.wikidata import build_references

    client = PoliteClient(out_dir / ".cache" / "wikidata", timeout=timeout, retries=retries)
    try:
        build_references(out_dir, [c.strip() for c in classes.split(",") if c.strip()], min_sitelinks, per_class,
                         page_size, endpoint, client)
    except (HTTPError, ValueError) as e:
        _fail(f"{e}\nNothing was written; completed pages are cached, so running the command again resumes.")


@references_app.command("fetch-images")
def references_fetch_images(
    out_dir: Path = typer.Argument(..., help="Dataset folder with references.csv."),
    width: int = typer.Option(1024, help="Thumbnail width in pixels."),
    commons: str = typer.Option("https://commons.wikimedia.org", help="Commons base URL."),
    timeout: float = typer.Option(60.0), retries: int = typer.Option(5),
) -> None:
    """Download the canonical image (P18) of every static reference from Wikimedia Commons (resumable)."""
    from .http import PoliteClient
    from .study.commons import fetch_images

    try:
        log = fetch_images(out_dir, width, commons, PoliteClient(out_dir / ".cache" / "commons", timeout=timeout,
                                                                  retries=retries))
    except FileNotFoundError as e:
        _fail(str(e))
    typer.echo(f"per-item results: {log}")


@references_app.command("curate")
def references_curate(
    out_dir: Path = typer.Argument(..., help="Dataset folder with references.csv."),
    candidates: Optional[Path] = typer.Option(None, help="Folder with one sub-folder of candidate images per "
                                                         "dynamic slug (default OUT_DIR/candidates)."),
    clip_model: str = typer.Option(DEFAULT_CLIP_MODEL), clip_pretrained: str = typer.Option(DEFAULT_CLIP_PRETRAINED),
    phash_max: int = typer.Option(18), min_sim: float = typer.Option(0.7, help="Keep candidates above this CLIP "
                                                                               "similarity to the medoid."),
    device: str = typer.Option("auto"),
) -> None:
    """Choose reference images for films / series from collected candidates (pHash + CLIP consensus)."""
    from .study.curate import curate

    try:
        emb = load_global(clip_model, clip_pretrained, device=resolve_device(device))
        path = curate(out_dir, emb, candidates, phash_max, min_sim)
    except (ModelLoadError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(f"per-candidate decisions: {path}")


prompts_app = typer.Typer(no_args_is_help=True, help="Prompt variants per reference.")
app.add_typer(prompts_app, name="prompts")


@prompts_app.command("perturb")
def prompts_perturb(
    dataset: Path = typer.Argument(..., help="Dataset folder with references.csv."),
    variants: str = typer.Option("title,synonym", help="Comma-separated: title, synonym, description."),
    descriptions: Optional[Path] = typer.Option(None, help="CSV with slug and a description column."),
    description_column: str = typer.Option("description"),
    wordnet: Path = typer.Option(Path("/usr/share/wordnet"), help="WordNet database folder (Debian wordnet-base)."),
) -> None:
    """Write DATASET/prompts.csv: the title, a WordNet-synonym rewrite, literal descriptions."""
    from .study.prompts import perturb

    try:
        out = perturb(dataset, tuple(v.strip() for v in variants.split(",") if v.strip()), descriptions,
                      description_column, wordnet)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(str(out))


@app.command()
def generate(
    dataset: Path = typer.Argument(..., help="Dataset folder with references.csv (and prompts.csv for variants)."),
    model: str = typer.Option(..., "--model", help="Preset (sd15, sd21, sdxl, sd3-medium, flux-schnell), Hub id or local dir."),
    n: int = typer.Option(10, "--n", help="Images per prompt (seeds --seed .. --seed+n-1)."),
    variant: str = typer.Option("title", help="Prompt variant (see `iconicity prompts perturb`)."),
    seed: int = typer.Option(0), size: Optional[int] = typer.Option(None, help="Side in pixels (preset default)."),
    steps: Optional[int] = typer.Option(None), guidance: Optional[float] = typer.Option(None),
    batch_size: int = typer.Option(4), device: str = typer.Option("auto"),
    slugs: Optional[str] = typer.Option(None, help="Comma-separated slugs (default: all references)."),
) -> None:
    """Generate images for every reference with diffusers (resumable; fp16 on CUDA)."""
    from .study.generate import generate as run_generate

    try:
        made = run_generate(dataset, model, n, variant, seed, size, steps, guidance, batch_size, resolve_device(device),
                            [s.strip() for s in slugs.split(",")] if slugs else None)
    except (ModelLoadError, ValueError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(f"{made} image(s) generated in {dataset}/generations (listed in generations.csv)")


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":
    main()
