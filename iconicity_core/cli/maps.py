"""`iconicity map`: the 2-D map of a run's images (stored beside the database; the dashboard's Map page reads it)."""
from __future__ import annotations

import typer

from .options import Db, Run, fail, open_db, resolve_run


def map_(db: Db, method: str = typer.Option("pca", help="pca, or umap (needs umap-learn)."), run: Run = None) -> None:
    """Compute the 2-D map of a score run's images from their CLIP embeddings (stored beside the
    database; the dashboard's Map page reads it)."""
    from ..analysis.maps import map_run

    con = open_db(db)
    try:
        path, n = map_run(con, resolve_run(con, run), method)
    except (LookupError, ValueError, OSError) as e:
        fail(str(e))
    finally:
        con.close()
    typer.echo(f"{n} images mapped -> {path}")


def register(app: typer.Typer) -> None:
    app.command("map")(map_)
