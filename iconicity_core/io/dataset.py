"""Dataset ingest: a folder (the layout of docs/method.md, 'Data contracts') or the authors' layout -> a list of entries.

Nothing here decodes images; it only finds files and their metadata. Problems (unknown slugs,
empty folders, bad CSV rows, links that lead nowhere) are collected as per-item messages, never
raised, so a run goes on.

The layout::

    DATASET/references.csv                    slug,title,kind[,qid,sitelinks,inception,...]
    DATASET/references/<slug>/<image>
    DATASET/generations/<model>/<slug>/<image>     (prompt variant "title")
    DATASET/generations.csv   (optional)      path,model,slug,variant,prompt,seed[,label]
"""
from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import DEFAULT_VARIANT, KINDS
from ..core.names import norm_slug
from .csvfiles import CORE_COLUMNS, GEN_COLUMNS, CSVError, read_generations, read_references, read_text
from .images import AUTHORS_EXTENSIONS, is_image_path

__all__ = [
    "CORE_COLUMNS",
    "GEN_COLUMNS",
    "CSVError",
    "Dataset",
    "FileEntry",
    "Reference",
    "norm_slug",
    "scan_authors_layout",
    "scan_dataset",
]


@dataclass
class Reference:
    slug: str
    title: str
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)   # covariate column -> value (number, text or None)


@dataclass
class FileEntry:
    root: Path
    relpath: str                 # posix path relative to ``root``
    role: str                    # "reference" | "generation"
    slug: str
    model: str | None = None
    variant: str | None = None
    prompt: str | None = None
    seed: int | None = None
    label: str | None = None
    error: str | None = None     # ingest-level problem (unknown slug, missing file)

    @property
    def path(self) -> Path:
        return self.root / self.relpath


@dataclass
class Dataset:
    roots: list[Path]
    layout: str
    references: dict[str, Reference]
    files: list[FileEntry]
    problems: list[tuple[str, str]] = field(default_factory=list)   # (item, message)
    column_sources: dict[str, str] = field(default_factory=dict)    # covariate column -> CSV header
    scope: set[str] | None = None    # the works this scan covers (None: everything under its roots)


def _images_in(folder: Path, root: Path, problems: list[tuple[str, str]], decode: str = "careful") -> list[Path]:
    """Image files below ``folder``, sorted as Python sorts paths; links that lead nowhere or outside ``root``
    are reported. ``careful``: every image format, sub-folders included, hidden files and folders skipped;
    ``authors`` (the released scripts' ``list_images``: ``sorted(p for p in folder.iterdir() if p.is_file() and
    p.suffix.lower() in EXTS)``): only the files directly in ``folder``, hidden ones too (``.x.png`` sorts
    first), whose lower-case suffix is one of :data:`AUTHORS_EXTENSIONS`."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [] if decode == "authors" else sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") and decode != "authors":
                continue
            p = Path(dirpath) / name
            if not (p.suffix.lower() in AUTHORS_EXTENSIONS if decode == "authors" else is_image_path(p)):
                continue
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    problems.append((rel, "a link that leads nowhere (its target is missing or it loops) — skipped; "
                                          "fix or delete the link"))
                    continue
                if root.resolve() not in target.parents:
                    problems.append((rel, f"a link to {target}, outside the dataset folder — scored, but the "
                                          "dashboard will not show it; copy the file into the dataset to see it"))
            if p.is_file():
                out.append(p)
    return sorted(out)


def _subdirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _slug_dirs(folder: Path, where: str, problems: list[tuple[str, str]], decode: str = "careful") -> dict[str, list[Path]]:
    """Sub-folders by normalised slug. Folders whose names normalise to the same slug are merged (and
    reported) — with ``decode="authors"`` only the last by name is used, as the released scripts'
    ``index_slug_dirs`` (``out[norm_slug(q.name)] = q`` over the sorted folders) keeps it."""
    out: dict[str, list[Path]] = {}
    for d in _subdirs(folder):
        out.setdefault(norm_slug(d.name), []).append(d)
    for slug, dirs in out.items():
        if len(dirs) > 1 and decode == "authors":
            problems.append((where, f"folders {', '.join(repr(d.name) for d in dirs)} all read as slug {slug!r} — "
                                    f"as the released scripts, only the last, {dirs[-1].name!r}, is used"))
            out[slug] = dirs[-1:]
        elif len(dirs) > 1:
            problems.append((where, f"folders {', '.join(repr(d.name) for d in dirs)} all read as slug {slug!r} — "
                                    "their images are used together; rename one if they are different works"))
    return out


def first_static(images: list[Path]) -> list[Path]:
    """A static work's one reference image as the released scripts pick it (``load_first_ref_image``:
    ``paths[0]`` of ``list_images``): the first path as Python sorts them — by name, whatever the extension.

    >>> [p.name for p in first_static([Path("r/still.jpg"), Path("r/poster.png")])]
    ['poster.png']
    >>> [p.name for p in first_static([Path("r/a.png"), Path("r/.h.png")])]
    ['.h.png']
    """
    return sorted(images)[:1]


def _shared_folders(gen_dirs: dict[str, list[Path]], problems: list[tuple[str, str]]) -> None:
    """Report generation folders that several models read (``gen_dirs``: model -> its slug folders). Each
    model's images are scored (a file's id includes its model); the released scripts' resume check is keyed
    on the image path alone, so they skip the second model's images."""
    by_folder: dict[Path, list[str]] = {}
    for model, dirs in gen_dirs.items():
        for d in dirs:
            by_folder.setdefault(d.resolve(), []).append(model)
    shared: dict[tuple[str, ...], list[Path]] = {}
    for folder, models in sorted(by_folder.items()):
        if len(set(models)) > 1:
            shared.setdefault(tuple(sorted(set(models))), []).append(folder)
    for users, folders in shared.items():
        n = len(folders)
        problems.append((", ".join(users), f"models {' and '.join(repr(m) for m in users)} read the same generation "
                                            f"folder{'s' if n > 1 else ''} ({n}, e.g. {folders[0]}): each model's images "
                                            "are scored, while the released scripts (their resume check is keyed on "
                                            "the image path) would skip them for every model but the first — "
                                            "docs/method.md, section 6"))


def scan_dataset(root: str | Path, decode: str = "careful") -> Dataset:
    """Scan a dataset folder in the standard layout (docs/method.md); ``decode="authors"`` selects files as
    the released scripts do (:func:`_images_in`, :func:`_slug_dirs`, :func:`first_static`) and reports
    generation folders that several models read (:func:`_shared_folders`)."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    refs_csv = root / "references.csv"
    if not refs_csv.is_file():
        raise FileNotFoundError(
            f"{refs_csv} is missing — write one with columns slug,title,kind (see docs/scoring.md, "
            "'Dataset layout'), or use --authors-refs/--authors-gen for the authors' layout"
        )
    rows, covs, problems = read_references(refs_csv)
    references = {r.slug: Reference(r.slug, r.title, r.kind, r.extra) for r in rows}
    files: list[FileEntry] = []

    ref_dirs = _slug_dirs(root / "references", "references", problems, decode)
    for slug in references:
        imgs = [p for d in ref_dirs.get(slug, []) for p in _images_in(d, root, problems, decode)]
        if decode == "authors" and references[slug].kind == "static":
            imgs = first_static(imgs)
        if not imgs:
            problems.append((f"references/{slug}", f"no reference images for {slug!r} — add them to references/{slug}/"))
        for p in imgs:
            files.append(FileEntry(root, p.relative_to(root).as_posix(), "reference", slug))
    for slug, dirs in ref_dirs.items():
        if slug not in references:
            problems.append((f"references/{dirs[0].name}", f"folder for unknown slug {slug!r} — add it to references.csv"))

    listed = _listed_generations(root, references, problems)
    seen = {e.relpath for e in listed}
    files += listed
    gen_dirs: dict[str, list[Path]] = {}
    for model_dir in _subdirs(root / "generations"):
        for slug, dirs in _slug_dirs(model_dir, f"generations/{model_dir.name}", problems, decode).items():
            gen_dirs.setdefault(model_dir.name, []).extend(dirs)
            for d in dirs:
                for p in _images_in(d, root, problems, decode):
                    rel = p.relative_to(root).as_posix()
                    if rel in seen:
                        continue
                    err = None if slug in references else (
                        f"unknown slug {slug!r} (folder {d.name}) — add it to references.csv or rename the folder")
                    files.append(FileEntry(root, rel, "generation", slug, model_dir.name, DEFAULT_VARIANT, error=err))
    if decode == "authors":
        _shared_folders(gen_dirs, problems)
    if not any(f.role == "generation" for f in files):
        problems.append(("generations", "no generated images found — expected generations/<model>/<slug>/<image>"))
    return Dataset([root], "design", references, files, problems, covs)


def _listed_generations(root: Path, references: dict[str, Reference],
                        problems: list[tuple[str, str]]) -> list[FileEntry]:
    path = root / "generations.csv"
    if not path.is_file():
        return []
    rows, more = read_generations(path)
    problems += more
    out: list[FileEntry] = []
    seen: dict[tuple[str, str, str], int] = {}
    for r in rows:
        item = f"{path.name}:{r.line}"
        p = (root / r.path).resolve()
        if root not in p.parents:
            problems.append((item, f"path {r.path!r} is outside the dataset folder — row skipped"))
            continue
        rel = p.relative_to(root).as_posix()
        if not p.is_file():
            problems.append((item, f"{rel} does not exist — row skipped"))
            continue
        variant = r.variant or DEFAULT_VARIANT
        key = (rel, r.model, variant)
        if key in seen:
            problems.append((item, f"{rel} is already listed for model {r.model!r}, variant {variant!r} on line "
                                   f"{seen[key]} — this row is ignored"))
            continue
        seen[key] = r.line
        err = None if r.slug in references else f"unknown slug {r.slug!r} — add it to references.csv"
        out.append(FileEntry(root, rel, "generation", r.slug, r.model, variant, r.prompt, r.seed, r.label, err))
    return out


def scan_authors_layout(ref_root: str | Path, gen_roots: Mapping[str, str | Path],
                        prompts_csv: str | Path, kind: str, slug_column: str = "label_clean",
                        decode: str = "careful") -> Dataset:
    """The authors' layout: one reference root (a folder per slug), one generation root per model,
    and a prompt CSV whose ``label_clean`` column lists the slugs (the title is taken from a
    ``label``/``title``/``prompt`` column when there is one)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be static or dynamic, got {kind!r}")
    ref_root = Path(ref_root).expanduser().resolve()
    problems: list[tuple[str, str]] = []
    references: dict[str, Reference] = {}
    text, enc = read_text(Path(prompts_csv))
    if enc:
        problems.append((Path(prompts_csv).name, enc))
    reader = csv.DictReader(text.splitlines())
    if slug_column not in (reader.fieldnames or []):
        raise CSVError(f"{prompts_csv}: column {slug_column!r} not found (columns: {reader.fieldnames})")
    title_col = next((c for c in ("label", "title", "prompt") if c in (reader.fieldnames or [])), None)
    for row in reader:
        slug = norm_slug(row[slug_column] or "")
        if slug and slug not in references:
            title = (row.get(title_col) or "").strip() if title_col else ""
            references[slug] = Reference(slug, title or slug.replace("_", " "), kind)
    files: list[FileEntry] = []
    ref_dirs = _slug_dirs(ref_root, str(ref_root), problems, decode)
    for slug in references:
        imgs = [p for d in ref_dirs.get(slug, []) for p in _images_in(d, ref_root, problems, decode)]
        if not imgs:
            problems.append((slug, f"no reference images for {slug!r} under {ref_root}"))
        if kind == "static":   # the authors use the first image of a static folder only
            imgs = first_static(imgs) if decode == "authors" else imgs[:1]
        files += [FileEntry(ref_root, p.relative_to(ref_root).as_posix(), "reference", slug) for p in imgs]
    roots = [ref_root]
    gen_dirs: dict[str, list[Path]] = {}
    for model, groot in sorted(gen_roots.items()):
        groot = Path(groot).expanduser().resolve()
        roots.append(groot)
        for slug, dirs in _slug_dirs(groot, str(groot), problems, decode).items():
            if slug not in references:
                problems.append((f"{model}/{dirs[0].name}", f"slug {slug!r} is not in {Path(prompts_csv).name} — skipped"))
                continue
            gen_dirs.setdefault(model, []).extend(dirs)
            files += [FileEntry(groot, p.relative_to(groot).as_posix(), "generation", slug, model,
                                DEFAULT_VARIANT) for d in dirs for p in _images_in(d, groot, problems, decode)]
    if decode == "authors":
        _shared_folders(gen_dirs, problems)
    return Dataset(roots, "authors", references, files, problems, scope=set(references))
