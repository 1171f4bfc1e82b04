"""Iconicity Explorer: measure how text-to-image models recognise cultural references (CLIP) and how they
realise them — by replicating (patch-level DINOv3 reuse) or reinterpreting them.

The documented Python entry point (read-only, pandas out)::

    import iconicity_core
    res = iconicity_core.open("results.duckdb")
    res.metrics(by="model", clip_tau=0.7)      # == iconicity metrics --by model --clip-tau 0.7 --format json

The method, exactly: ``docs/method.md``. Everything else is imported lazily, so ``import iconicity_core``
is fast.

Failures are the project's own exception types (:mod:`iconicity_core.errors`), exported here: a path that is
not a usable database raises :class:`DatabaseError` (:class:`DatabaseMissing`, :class:`NotADatabase`,
:class:`DatabaseBusy`, :class:`SchemaError`), a bad argument :class:`InvalidArgument` (a ``ValueError``), an
output that would overwrite what is not ours :class:`OutputRefused`; all are :class:`IconicityError`.
"""
from __future__ import annotations

from ._version import __version__
from .errors import (
    DatabaseBusy,
    DatabaseError,
    DatabaseMissing,
    IconicityError,
    InvalidArgument,
    NoResults,
    NotADatabase,
    OutputRefused,
    PartialRunWarning,
    SchemaError,
)

__all__ = ["DatabaseBusy", "DatabaseError", "DatabaseMissing", "IconicityError", "InvalidArgument", "NoResults",
           "NotADatabase", "OutputRefused", "PartialRunWarning", "Results", "SchemaError", "__version__", "open"]


def open(path, run=None):  # noqa: A001 - the documented entry point, shadowing open() only here
    """Open a scores database read-only: a :class:`iconicity_core.api.Results` (see its docstring)."""
    from .api import Results

    return Results(path, run)


def __getattr__(name: str):
    if name == "Results":
        from .api import Results

        return Results
    raise AttributeError(f"module 'iconicity_core' has no attribute {name!r}")
