"""Iconicity Explorer core library: ingest, embed, store, score and analyse (see DESIGN.md)."""
__version__ = "0.1.0"
