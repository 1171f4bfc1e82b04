"""What a recorded run says about where its numbers come from: library versions and file hashes."""
from __future__ import annotations

import hashlib
import platform
from pathlib import Path

from .. import __version__

PACKAGES = ("torch", "open_clip_torch", "transformers", "timm", "duckdb", "numpy", "pillow", "imagehash",
            "scipy", "scikit-learn", "statsmodels", "streamlit")


def library_versions() -> dict[str, str]:
    """Versions of Python, this tool and the libraries that shape the numbers."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "iconicity": __version__}
    for pkg in PACKAGES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """``sha256:<hex>`` of a file's bytes.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f: _ = f.write(b"abc")
    >>> sha256_file(f.name)[:15]
    'sha256:ba7816bf'
    >>> os.unlink(f.name)
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return "sha256:" + h.hexdigest()
