"""`iconicity references curate`: reference images for dynamic works (films, series) from
user-collected candidates (``candidates/<slug>/``, from any image search: the folder is the interface).

Per slug: unreadable files are dropped; near-duplicates (pHash Hamming <= 18) are dropped; the CLIP
embedding of every remaining candidate is compared with the consensus — the medoid, the candidate most
similar on average to the others — and candidates at or below ``min_sim`` (0.7, as in the paper) are
dropped. Kept images are copied to ``references/<slug>/``; ``curate_log.csv`` says why each was dropped.
"""
from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import imagehash
import numpy as np

from ..core.dedup import phash_dedup
from ..io.atomic import write_csv
from ..io.dataset import norm_slug
from ..io.images import ImageLoadError, is_image_path, read_and_load

log = logging.getLogger(__name__)


def curate(out_dir: str | Path, embedder, candidates: str | Path | None = None, phash_max: int = 18,
           min_sim: float = 0.7) -> Path:
    out = Path(out_dir)
    cand_root = Path(candidates) if candidates else out / "candidates"
    with open(out / "references.csv", newline="", encoding="utf-8-sig") as f:
        dynamic = {norm_slug(r["slug"]) for r in csv.DictReader(f) if r.get("kind", "").strip() == "dynamic"}
    rows = []
    for folder in sorted(p for p in cand_root.iterdir() if p.is_dir()) if cand_root.is_dir() else []:
        slug = norm_slug(folder.name)
        if slug not in dynamic:
            rows.append((slug, folder.name, "skipped", "not a dynamic reference in references.csv", ""))
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
        ok = []
        for p in files:
            try:
                ok.append((p, read_and_load(p)[1]))
            except ImageLoadError as e:
                rows.append((slug, p.name, "unreadable", str(e), ""))
        dups = phash_dedup([imagehash.phash(im) for _, im in ok], phash_max)
        for (p, _), d in zip(ok, dups, strict=True):
            if d is not None:
                rows.append((slug, p.name, "duplicate", f"pHash distance {d[1]} to {ok[d[0]][0].name}", ""))
        uniq = [x for x, d in zip(ok, dups, strict=True) if d is None]
        if not uniq:
            continue
        v = embedder.embed([im for _, im in uniq])
        sims = v @ v.T
        medoid = int(np.argmax(sims.sum(axis=1))) if len(uniq) > 2 else 0
        dest = out / "references" / slug
        for i, (p, _) in enumerate(uniq):
            s = float(sims[i, medoid])
            if i != medoid and not s > min_sim:
                rows.append((slug, p.name, "off-consensus", f"CLIP similarity to the medoid {uniq[medoid][0].name} "
                                                            f"is {s:.3f} <= {min_sim}", f"{s:.4f}"))
                continue
            dest.mkdir(parents=True, exist_ok=True)
            if not (dest / p.name).exists():
                shutil.copy2(p, dest / p.name)
            rows.append((slug, p.name, "kept", "medoid" if i == medoid else "", f"{s:.4f}"))
        log.info("%s: %d kept of %d", slug, sum(r[0] == slug and r[2] == "kept" for r in rows), len(files))
    return write_csv(out / "curate_log.csv", ["slug", "file", "status", "detail", "clip_sim_to_medoid"], rows)
