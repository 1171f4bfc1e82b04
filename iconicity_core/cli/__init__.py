"""The ``iconicity`` command line (typer): one module per command group. Writing happens only here
(and in the library it calls), never in the dashboard.

* ``scoring``  score, demo
* ``results``  metrics, errors, export, embedders, runs (list / show / delete), db upgrade
* ``share``    share (one offline HTML explorer)
* ``covariates`` covariates uniqueness | distinctiveness | ambiguity | frequency | popularity | dates
* ``analysis`` analyze, evaluate, calibrate
* ``explore``  map, labels import | export
* ``study``    references build | fetch-images | curate, prompts perturb, generate
"""
from __future__ import annotations

import logging
import sys

import typer

from . import analysis, covariates, explore, results, scoring, share, study

app = typer.Typer(add_completion=False, no_args_is_help=True,
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


for module in (scoring, results, share, covariates, analysis, explore, study):
    module.register(app)


def main() -> None:  # console-script entry point
    app()
