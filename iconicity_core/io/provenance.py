"""What a recorded run says about where its numbers come from: library versions and file hashes."""
from __future__ import annotations

import hashlib
import platform
from pathlib import Path

from .._version import __version__

PACKAGES = ("torch", "open_clip_torch", "transformers", "timm", "duckdb", "numpy", "pillow", "imagehash",
            "scipy", "scikit-learn", "statsmodels", "streamlit")


def git_commit() -> str | None:
    """The git commit of the running checkout (``+dirty`` with uncommitted changes), None for an installed
    package or when git is missing."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


_COMMIT: list = []


def library_versions() -> dict[str, str]:
    """Versions of Python, this tool (and its git commit when run from a checkout) and the libraries that
    shape the numbers."""
    import importlib.metadata as md

    if not _COMMIT:
        _COMMIT.append(git_commit())
    out = {"python": platform.python_version(), "iconicity": __version__}
    if _COMMIT[0]:
        out["iconicity_commit"] = _COMMIT[0]
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
