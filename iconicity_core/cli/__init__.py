"""The ``iconicity`` command line (typer): one module per command group. Writing happens only here
(and in the library it calls), never in the dashboard.

* ``scoring``  score, demo
* ``results``  metrics, errors, export, embedders, runs (list / show / delete), db upgrade
* ``share``    share (one offline HTML explorer)
* ``covariates`` covariates uniqueness | distinctiveness | ambiguity | frequency | popularity | dates
* ``analysis`` analyze, evaluate, calibrate
* ``maps``     map
* ``labels``   labels import | export
* ``study``    references build | fetch-images | curate, prompts perturb, generate

**One error boundary** (:class:`Boundary`, the app's group class, so it holds in-process as on the command line):
a known failure — the project's own errors (:mod:`iconicity_core.errors`: a database that cannot be used, a
refused output, a bad argument, nothing to compute on), a DuckDB error (a damaged file), an OS error (a folder
that cannot be written) — is printed as one line ``error: ...`` that says what to do, with exit status 2
(130 when interrupted). Anything else is a bug and keeps its traceback; ``ICONICITY_DEBUG=1`` shows the
traceback of a known failure too.
"""
from __future__ import annotations

import logging
import os
import sys

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from . import analysis, covariates, labels, maps, results, scoring, share, study
from .options import close_all, one_line


def known_failure(e: BaseException) -> str | None:
    """The one line to print for a known failure (None: a bug, re-raised with its traceback)."""
    from ..errors import IconicityError

    if isinstance(e, IconicityError):
        return one_line(str(e))
    duck = sys.modules.get("duckdb")
    if duck is not None and isinstance(e, duck.Error):
        first = one_line((str(e).strip().splitlines() or [type(e).__name__])[0])
        return f"the database cannot be read or written ({first}) — is it damaged or truncated? Use a backup copy"
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return one_line(f"{where}{e.strerror or e} — check the path, that its folder exists and that you may write "
                        "there")
    return None


class Boundary(TyperGroup):
    """The command group that turns known failures into one line and exit status 2 (see the module docstring)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):      # a command's own exit, usage errors: click's job
            raise
        except KeyboardInterrupt:
            typer.secho("interrupted", fg="yellow", err=True)
            raise typer.Exit(130) from None
        except Exception as e:
            msg = known_failure(e)
            if msg is None or os.environ.get("ICONICITY_DEBUG"):
                raise
            typer.secho(f"error: {msg}", fg="red", err=True)
            raise typer.Exit(2) from None
        finally:
            close_all()                      # the command's connections: never left open (in-process callers)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=Boundary,
                  help="Iconicity Explorer: score generated images against cultural references.")


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a message is logged (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print debug messages.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", force=True,
                        handlers=[_Stderr()])
    for noisy in ("urllib3", "httpx", "filelock", "PIL", "matplotlib", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


for module in (scoring, results, share, covariates, analysis, maps, labels, study):
    module.register(app)


def main() -> None:  # console-script entry point
    app()
