"""The one place the version is written (pyproject reads it; every recorded run stores it)."""
__version__ = "0.2.0"
