"""The live views' stylesheets (``web/style/``): ``views`` everywhere; ``page`` adds the shared file's chrome.

>>> "#controls" in css("page") or ".controls" in css("page")
True
"""
from __future__ import annotations

from importlib import resources


def css(host: str) -> str:
    """The CSS of a host: ``page`` (the shared file) or ``component`` (the dashboard's views)."""
    def read(name: str) -> str:
        return resources.files("iconicity_core.web").joinpath("style", f"{name}.css").read_text(encoding="utf-8")
    if host == "page":
        return read("page") + "\n" + read("views")
    if host == "component":
        return read("views")
    raise ValueError("host must be page or component")
