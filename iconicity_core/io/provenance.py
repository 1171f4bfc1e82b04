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


def record_files(paths, database) -> dict:
    """What a run records about the files it wrote (``outputs`` keys ``files`` and ``database``): each
    file's hash, under a path relative to the database's folder when it lies there (a sidecar such as
    ``DB.maps/…``, so a copied database's records point at the copy's own files), else absolute; and the
    database file the run wrote them for."""
    base = Path(database).resolve().parent
    files = {}
    for p in paths:
        p = Path(p).resolve()
        key = p.relative_to(base).as_posix() if base in p.parents else str(p)
        files[key] = sha256_file(p)
    return {"files": files, "database": str(Path(database).resolve())}


def owned_files(outputs: dict, database) -> list[tuple[Path, str, str | None]]:
    """The files a run recorded, for `runs delete`: ``(path, digest, why_kept)`` — ``why_kept`` is None
    when the file belongs to this database and may be removed (unchanged since, checked by the caller):
    relative paths are resolved against this database's folder; an absolute path (an export folder) only
    belongs to the database the run was recorded in, not to a copy of it elsewhere."""
    db = Path(database).resolve()
    recorded = outputs.get("database")
    out = []
    for key, digest in (outputs.get("files") or {}).items():
        p = Path(key)
        if not p.is_absolute():
            out.append((db.parent / p, digest, None))
        elif recorded is not None and Path(recorded) != db:
            out.append((p, digest, f"written for the database at {recorded}, not this one (a copy?)"))
        elif recorded is None and p.parent.name.endswith(".maps") and p.parent != Path(str(db) + ".maps"):
            out.append((p, digest, "the sidecar of another database (this one is a copy?)"))
        else:
            out.append((p, digest, None))
    return out
