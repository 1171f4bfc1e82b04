"""Dataset ingest: a folder (DESIGN §4 layout) or the authors' layout -> a list of entries.

Nothing here decodes images; it only finds files and their metadata. Problems (unknown slugs,
empty folders, bad CSV rows) are collected as per-item messages, never raised, so a run goes on.

DESIGN layout::

    DATASET/references.csv                    slug,title,kind[,qid,sitelinks,inception,...]
    DATASET/references/<slug>/<image>
    DATASET/generations/<model>/<slug>/<image>     (prompt variant "title")
    DATASET/generations.csv   (optional)      path,model,slug,variant,prompt,seed[,label]
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .images import is_image_path

KINDS = ("static", "dynamic")
DEFAULT_VARIANT = "title"
CORE_COLUMNS = ("slug", "title", "kind")
GEN_COLUMNS = ("path", "model", "slug", "variant", "prompt", "seed", "label")


def norm_slug(text: str) -> str:
    """Normalise a slug as the authors do: ``strip().replace(" ", "_").lower()``.

    >>> norm_slug("  The Starry Night ")
    'the_starry_night'
    """
    return str(text).strip().replace(" ", "_").lower()


@dataclass
class Reference:
    slug: str
    title: str
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)   # qid, sitelinks, inception, covariates


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


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_path(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _subdirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _parse_value(text: str) -> Any:
    t = (text or "").strip()
    if t == "":
        return None
    try:
        v = float(t)
        return v if math.isfinite(v) else None
    except ValueError:
        return t


def read_references_csv(path: Path, problems: list[tuple[str, str]]) -> dict[str, Reference]:
    """Read ``references.csv``; extra columns become covariates (numbers where they parse)."""
    refs: dict[str, Reference] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in CORE_COLUMNS if c not in cols]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)} — the header must start with "
                "slug,title,kind (kind is static or dynamic)"
            )
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "") for k, v in row.items()}
            slug = norm_slug(row["slug"])
            kind = row["kind"].strip().lower()
            item = f"{path.name}:{line}"
            if not slug:
                problems.append((item, "empty slug — fill it in or delete the row"))
                continue
            if kind not in KINDS:
                problems.append((item, f"kind {row['kind']!r} for {slug!r} is not static/dynamic — row skipped"))
                continue
            if slug in refs:
                problems.append((item, f"duplicate slug {slug!r} — only the first row is used"))
                continue
            extra = {k: _parse_value(v) for k, v in row.items() if k not in CORE_COLUMNS and k}
            refs[slug] = Reference(slug, row["title"].strip() or slug, kind, extra)
    return refs


def scan_dataset(root: str | Path) -> Dataset:
    """Scan a dataset folder in the DESIGN §4 layout."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    problems: list[tuple[str, str]] = []
    refs_csv = root / "references.csv"
    if not refs_csv.is_file():
        raise FileNotFoundError(
            f"{refs_csv} is missing — write one with columns slug,title,kind (see README, "
            "'Dataset layout'), or use --authors-refs/--authors-gen for the authors' layout"
        )
    references = read_references_csv(refs_csv, problems)
    files: list[FileEntry] = []

    ref_dirs = {norm_slug(d.name): d for d in _subdirs(root / "references")}
    for slug, ref in references.items():
        d = ref_dirs.get(slug)
        imgs = _images_in(d) if d else []
        if not imgs:
            problems.append((f"references/{slug}", f"no reference images for {slug!r} — add them to references/{slug}/"))
        for p in imgs:
            files.append(FileEntry(root, p.relative_to(root).as_posix(), "reference", slug))
    for slug, d in ref_dirs.items():
        if slug not in references:
            problems.append((f"references/{d.name}", f"folder for unknown slug {slug!r} — add it to references.csv"))

    listed = _read_generations_csv(root, references, problems)
    seen = set()
    for e in listed:
        seen.add(e.relpath)
        files.append(e)
    for model_dir in _subdirs(root / "generations"):
        for slug_dir in _subdirs(model_dir):
            slug = norm_slug(slug_dir.name)
            for p in _images_in(slug_dir):
                rel = p.relative_to(root).as_posix()
                if rel in seen:
                    continue
                err = None if slug in references else (
                    f"unknown slug {slug!r} (folder {slug_dir.name}) — add it to references.csv or rename the folder"
                )
                files.append(FileEntry(root, rel, "generation", slug, model_dir.name, DEFAULT_VARIANT, error=err))
    if not any(f.role == "generation" for f in files):
        problems.append(("generations", "no generated images found — expected generations/<model>/<slug>/<image>"))
    return Dataset([root], "design", references, files, problems)


def _read_generations_csv(root: Path, references: dict[str, Reference],
                          problems: list[tuple[str, str]]) -> list[FileEntry]:
    path = root / "generations.csv"
    if not path.is_file():
        return []
    out: list[FileEntry] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        if not {"path", "model", "slug"} <= set(cols):
            problems.append((path.name, "needs at least the columns path,model,slug — file ignored"))
            return []
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            item = f"{path.name}:{line}"
            p = (root / row["path"]).resolve()
            if root not in p.parents:
                problems.append((item, f"path {row['path']!r} is outside the dataset folder — row skipped"))
                continue
            rel = p.relative_to(root).as_posix()
            if not p.is_file():
                problems.append((item, f"{rel} does not exist — row skipped"))
                continue
            slug = norm_slug(row["slug"])
            seed = row.get("seed") or ""
            err = None if slug in references else f"unknown slug {slug!r} — add it to references.csv"
            out.append(FileEntry(
                root, rel, "generation", slug, row["model"], row.get("variant") or DEFAULT_VARIANT,
                row.get("prompt") or None, int(float(seed)) if _is_number(seed) else None,
                row.get("label") or None, err,
            ))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def scan_authors_layout(ref_root: str | Path, gen_roots: dict[str, str | Path],
                        prompts_csv: str | Path, kind: str, slug_column: str = "label_clean") -> Dataset:
    """The authors' layout: one reference root (a folder per slug), one generation root per model,
    and a prompt CSV whose ``label_clean`` column lists the slugs (the title is taken from a
    ``label``/``title``/``prompt`` column when there is one)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be static or dynamic, got {kind!r}")
    ref_root = Path(ref_root).expanduser().resolve()
    problems: list[tuple[str, str]] = []
    references: dict[str, Reference] = {}
    with open(prompts_csv, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if slug_column not in (reader.fieldnames or []):
            raise ValueError(f"{prompts_csv}: column {slug_column!r} not found (columns: {reader.fieldnames})")
        title_col = next((c for c in ("label", "title", "prompt") if c in reader.fieldnames), None)
        for row in reader:
            slug = norm_slug(row[slug_column])
            if slug and slug not in references:
                title = (row.get(title_col) or "").strip() if title_col else ""
                references[slug] = Reference(slug, title or slug.replace("_", " "), kind)
    files: list[FileEntry] = []
    ref_dirs = {norm_slug(d.name): d for d in _subdirs(ref_root)}
    for slug in references:
        imgs = _images_in(ref_dirs[slug]) if slug in ref_dirs else []
        if not imgs:
            problems.append((slug, f"no reference images for {slug!r} under {ref_root}"))
        if kind == "static":   # the authors use the first image of a static folder only
            imgs = imgs[:1]
        files += [FileEntry(ref_root, p.relative_to(ref_root).as_posix(), "reference", slug) for p in imgs]
    roots = [ref_root]
    for model, groot in sorted(gen_roots.items()):
        groot = Path(groot).expanduser().resolve()
        roots.append(groot)
        for d in _subdirs(groot):
            slug = norm_slug(d.name)
            if slug not in references:
                problems.append((f"{model}/{d.name}", f"slug {slug!r} is not in {Path(prompts_csv).name} — skipped"))
                continue
            files += [FileEntry(groot, p.relative_to(groot).as_posix(), "generation", slug, model,
                                DEFAULT_VARIANT) for p in _images_in(d)]
    return Dataset(roots, "authors", references, files, problems)
