"""Which images the shareable page embeds, and their thumbnails.

*Evidence* (``--images evidence``): for every reference and model, its most and its least reused
recognised generation at the starting thresholds — the replica and the reinterpretation a reader wants
to see first — plus every reference's kept images. The list is ordered by priority (reference images,
then every most-reused, then every least-reused, then with ``--images all`` every other generation), so a
size budget keeps the most telling images and drops the rest evenly across references.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Thumbnail size (longest side, pixels) and WebP quality: about 3-5 kB an image.
SIDE, QUALITY = 128, 70


@dataclass(frozen=True)
class Pick:
    """One image to embed: a generation (``row`` of the engine) or a reference image (``row = -1``)."""

    file_id: str
    slug: int
    row: int = -1
    role: str = "reference"           # reference | most reused | least reused | generation


def generation_picks(engine, t, everything: bool = False) -> list[Pick]:
    """The evidence generations at thresholds ``t``, in priority order (see the module docstring).

    Ties go to the first image in file-id order (the engine's), so the choice is deterministic."""
    a = engine.a
    rec, vr = engine.recognised(t), engine.vr(t)
    df = pd.DataFrame({"row": np.arange(engine.n), "slug": a.slug, "model": a.model, "vr": vr})
    r = df[rec]
    g = r.groupby(["slug", "model"], sort=True)["vr"]
    most = r.loc[g.idxmax()]
    least = r.loc[g.idxmin()]
    least = least[~least["row"].isin(most["row"])]
    picks = [Pick(a.file_id[x.row].decode(), int(x.slug), int(x.row), role)
             for frame, role in ((most, "most reused"), (least, "least reused")) for x in frame.itertuples()]
    if everything:
        taken = {p.row for p in picks}
        picks += [Pick(a.file_id[i].decode(), int(a.slug[i]), int(i), "generation") for i in range(engine.n)
                  if i not in taken]
    return picks


def labels_of(database, engine, files: pd.DataFrame) -> dict[str, str]:
    """file_id -> the human label of some generations (``files``: ``file_id, image``): the labels sidecar's
    latest where it has one, else the database's."""
    a = engine.a
    rows = engine.rows_of(files["file_id"])
    out = {fid: a.labels[a.label[r]] for fid, r in zip(files["file_id"], rows, strict=True) if r >= 0 and a.label[r] >= 0}
    from ..io.labels import by_file

    return out | by_file(database, list(files["file_id"]), list(files["image"]))


def thumbnail(path: Path | None, side: int = SIDE, quality: int = QUALITY) -> str | None:
    """A data URI (WebP) of the image at ``path`` fitted into ``side`` pixels, or None when it cannot be
    read (the page then shows the scores without the picture)."""
    if path is None:
        return None
    try:
        from ..io.images import load_rgb

        im = load_rgb(path.read_bytes(), str(path))
    except Exception:
        return None
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=quality, method=4)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode()
