"""``iconicity share``: one self-contained, offline HTML explorer of a score run — live thresholds computed in
the reader's browser exactly as ``iconicity metrics`` computes them (see :mod:`.payload` and
``assets/explorer.js``), thumbnails of the evidence, provenance — for collaborators without a server.
"""
from .build import IMAGE_MODES, Shared, ShareTooLarge, build_share, default_out

__all__ = ["IMAGE_MODES", "ShareTooLarge", "Shared", "build_share", "default_out"]
