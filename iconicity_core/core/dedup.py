"""pHash near-duplicate removal (pure): the first image of a group is kept, a later image is dropped
when its Hamming distance to an already kept one is <= ``max_distance`` (the authors' rule, 18)."""
from __future__ import annotations

import imagehash


def phash_dedup(hashes: list[imagehash.ImageHash], max_distance: int = 18) -> list[tuple[int, int] | None]:
    """For each hash in order: ``None`` if kept, else ``(index of the kept image it duplicates, distance)``.

    >>> import numpy as np
    >>> h = lambda bits: imagehash.ImageHash(np.array(bits, bool).reshape(2, 2))
    >>> phash_dedup([h([0, 0, 0, 0]), h([0, 0, 0, 1]), h([1, 1, 1, 1])], max_distance=1)
    [None, (0, 1), None]
    """
    kept: list[int] = []
    out: list[tuple[int, int] | None] = []
    for i, h in enumerate(hashes):
        dup = next(((k, int(h - hashes[k])) for k in kept if h - hashes[k] <= max_distance), None)
        if dup is None:
            kept.append(i)
        out.append(dup)
    return out
