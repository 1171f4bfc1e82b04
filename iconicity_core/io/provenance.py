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
    """What a run records about the files it wrote (``outputs`` keys ``files``, ``folders`` and ``database``):
    each file's hash, under a path relative to the database's folder when it lies there (a sidecar such as
    ``DB.maps/…``, so a copied database's records point at the copy's own files), else absolute; the folders
    it wrote into (its declared output folders); and the database file the run wrote them for."""
    base = Path(database).resolve().parent
    files = {}
    folders = set()
    for p in paths:
        p = Path(p).resolve()
        key = p.relative_to(base).as_posix() if base in p.parents else str(p)
        files[key] = sha256_file(p)
        folders.add(str(p.parent))
    return {"files": files, "folders": sorted(folders), "database": str(Path(database).resolve())}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def owned_files(outputs: dict, database) -> list[tuple[Path, str, str | None]]:
    """The files a run recorded, for `runs delete`: ``(path, digest, why_kept)`` — ``why_kept`` is None when
    the file belongs to this database and may be removed (if unchanged since: the caller compares the hash).

    A run's files belong to the database that wrote them: the recorded ``database`` must be this file, or no
    longer exist (the database was moved) — a copy never deletes the original's files, in the same folder or
    elsewhere. A recorded path never climbs out with ``..``; a relative one must resolve inside this database's
    folder, an absolute one inside this database's folder or directly inside a folder the run declared it wrote
    into. A database, a labels file, a write-ahead log or another database's maps folder is never deleted.
    Everything else is kept and said why."""
    from .outputs import is_duckdb_file, owner_of

    db = Path(database).resolve()
    home = db.parent
    recorded = outputs.get("database")
    foreign = None
    if recorded is not None:
        rec = Path(str(recorded))
        if rec.exists() and not _same_file(rec, db):
            foreign = f"written for the database at {recorded}, not this one (a copy?)"
    declared = {Path(f) for f in (outputs.get("folders") or []) if Path(str(f)).is_absolute()}
    out = []
    for key, digest in (outputs.get("files") or {}).items():
        p = Path(str(key))
        target = p if p.is_absolute() else home / p
        why = foreign
        if why is None and ".." in p.parts:
            why = "the recorded path climbs out of its folder ('..'): not deleted"
        if why is None:
            real = target.resolve()
            inside = real == home or home in real.parents
            if not p.is_absolute() and not inside:
                why = f"outside the database's folder {home}: not deleted"
            elif p.is_absolute() and not inside and real.parent not in declared and target.parent not in declared:
                why = f"outside the database's folder {home} and the run's declared output folders: not deleted"
            elif recorded is None and not (p.parts[:1] == (db.name + ".maps",) or (p.is_absolute() and
                                                                                    target.parent == Path(str(db) + ".maps"))):
                why = "recorded without the database that wrote it (an older run): not deleted"
        if why is None:
            owner = owner_of(target)
            if is_duckdb_file(target):
                why = "a database: never deleted"
            elif owner is not None and not (owner[1] == "the maps folder" and (
                    _same_file(owner[0], db) or (not owner[0].exists() and recorded is not None
                                                 and Path(str(recorded)) == owner[0]))):
                why = f"{owner[1]} of the database {owner[0]}: not deleted"
        out.append((target, digest, why))
    return out
