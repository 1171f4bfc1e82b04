"""Iconicity Explorer: measure how text-to-image models recognise cultural references (CLIP) and how they
realise them — by replicating (patch-level DINOv3 reuse) or reinterpreting them.

The documented Python entry point (read-only, pandas out)::

    import iconicity_core
    res = iconicity_core.open("results.duckdb")
    res.metrics(by="model", clip_tau=0.7)      # == iconicity metrics --by model --clip-tau 0.7 --format json

The method, exactly: ``docs/method.md``. Everything else is imported lazily, so ``import iconicity_core``
is fast.
"""
from __future__ import annotations

from ._version import __version__

__all__ = ["Results", "__version__", "open"]


def open(path, run=None):  # noqa: A001 - the documented entry point, shadowing open() only here
    """Open a scores database read-only: a :class:`iconicity_core.api.Results` (see its docstring)."""
    from .api import Results

    return Results(path, run)


def __getattr__(name: str):
    if name == "Results":
        from .api import Results

        return Results
    raise AttributeError(f"module 'iconicity_core' has no attribute {name!r}")
