"""`iconicity covariates ...`: columns of the references that correlations use, each a recorded run."""
from __future__ import annotations

from pathlib import Path

import typer

from ..embedders import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED
from .options import Db, Device, fail, open_db, out_option

covariates_app = typer.Typer(no_args_is_help=True, help="Add covariates to the references (each a recorded run).")


_writer = open_db


def _report_fetch(col: str, errors: dict[str, str]) -> None:
    for slug, msg in errors.items():
        typer.secho(f"{slug}: {msg}", fg="yellow", err=True)
    typer.echo(f"added: {col} ({len(errors)} reference(s) without a value)")


@covariates_app.command("uniqueness")
def cov_uniqueness(db: Db) -> None:
    """Title uniqueness: mean Zipf word frequency (wordfreq) and exact-title ambiguity in the set."""
    from ..analysis.covariates import title_uniqueness

    typer.echo("added: " + ", ".join(title_uniqueness(_writer(db))))


@covariates_app.command("ambiguity")
def cov_ambiguity(
    db: Db,
    endpoint: str = typer.Option("https://query.wikidata.org/sparql"),
    cache_dir: Path = out_option("folder", Path(".iconicity_cache/wikidata"), "--cache-dir",
                                 help="Raw responses are cached here (created with its parents).", create_parents=True),
) -> None:
    """Exact-label ambiguity on Wikidata: other items whose English label is the title."""
    from ..analysis.covariates import wikidata_ambiguity
    from ..io.http import PoliteClient

    _report_fetch(*wikidata_ambiguity(_writer(db), PoliteClient(cache_dir), endpoint))


@covariates_app.command("distinctiveness")
def cov_distinctiveness(
    db: Db,
    clip_model: str = typer.Option(DEFAULT_CLIP_MODEL, help="open_clip architecture (its text tower is used)."),
    clip_pretrained: str = typer.Option(DEFAULT_CLIP_PRETRAINED, help="Weights tag or local checkpoint path."),
    n_phrases: int = typer.Option(1000, help="How many common English words to compare with."),
    device: Device = "auto",
) -> None:
    """Semantic distinctiveness of titles: 1 - max cosine to common phrases (CLIP text tower)."""
    from ..analysis.covariates import semantic_distinctiveness
    from ..embedders import ModelLoadError, load_global, resolve_device

    if clip_model == "baseline":
        fail("the appearance baseline has no text tower: use an open_clip model")
    con = _writer(db)                                 # the database first: a wrong --db fails before the model loads
    try:
        emb = load_global(clip_model, clip_pretrained, device=resolve_device(device))
    except ModelLoadError as e:
        fail(e.without_hint + ".")                                # the baseline has no text tower: no such advice
    typer.echo("added: " + semantic_distinctiveness(con, emb, n_phrases))


@covariates_app.command("frequency")
def cov_frequency(
    db: Db,
    captions: str | None = typer.Option(None, help="Glob of Parquet files, e.g. 'captions/*.parquet'."),
    column: str = typer.Option("caption", help="Caption column in the Parquet files."),
    from_csv: Path | None = typer.Option(None, help="Import published counts: CSV with slug and --csv-column."),
    csv_column: str = typer.Option("count"),
    name: str = typer.Option("train_freq", help="Covariate column to write."),
    corpus: str | None = typer.Option(None, help="Corpus name recorded with the counts (e.g. LAION-2B-en)."),
) -> None:
    """Training-data frequency: captions containing each title as a whole phrase (DuckDB, streaming)."""
    import glob

    from ..analysis.covariates import caption_frequency, import_csv

    con = _writer(db)
    try:
        if from_csv is not None:
            col = import_csv(con, from_csv, csv_column, name, source=f"published counts ({corpus or from_csv.name})")
        elif captions:
            col = caption_frequency(con, [Path(p) for p in sorted(glob.glob(captions))], column, name, corpus)
        else:
            fail("give --captions GLOB or --from-csv FILE")
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    typer.echo(f"added: {col}")


@covariates_app.command("popularity")
def cov_popularity(
    db: Db,
    from_csv: Path | None = typer.Option(None, help="CSV: slug,<column>"),
    column: str = typer.Option("pageviews", help="Column of the CSV (and name of the covariate)."),
    fetch_pageviews: bool = typer.Option(False, help="Fetch Wikipedia page views from the Wikimedia REST API."),
    start: str = typer.Option("20240101"), end: str = typer.Option("20241231"),
    project: str = typer.Option("en.wikipedia"),
    title_column: str | None = typer.Option(None, help="Reference column holding the article title."),
    endpoint: str = typer.Option("https://wikimedia.org/api/rest_v1", help="API base URL."),
    cache_dir: Path = out_option("folder", Path(".iconicity_cache/pageviews"), "--cache-dir",
                                 help="Raw responses are cached here (created with its parents).", create_parents=True),
) -> None:
    """Popularity beyond sitelinks: Wikipedia page views, from a CSV or fetched (polite, cached)."""
    from ..analysis.covariates import fetch_pageviews as fetch
    from ..analysis.covariates import import_csv
    from ..io.http import PoliteClient

    con = _writer(db)
    try:
        if from_csv is not None:
            typer.echo("added: " + import_csv(con, from_csv, column, column, source="popularity csv"))
        elif fetch_pageviews:
            _report_fetch(*fetch(con, PoliteClient(cache_dir), start, end, project, endpoint, title_column, column))
        else:
            fail("give --from-csv FILE or --fetch-pageviews")
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))


@covariates_app.command("dates")
def cov_dates(db: Db, column: str = typer.Option("inception")) -> None:
    """Creation date: year and decade from an inception / publication column."""
    from ..analysis.covariates import dates

    try:
        typer.echo("added: " + ", ".join(dates(_writer(db), column)))
    except ValueError as e:
        fail(str(e))


def register(app: typer.Typer) -> None:
    app.add_typer(covariates_app, name="covariates")
