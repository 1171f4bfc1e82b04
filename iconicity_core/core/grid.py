"""Grid geometry: how an image is split into ``rows x cols`` cells.

The split is the authors' one: integer cell sizes ``W // cols`` and ``H // rows``; the last
row and column absorb the remainder.

>>> cell_boxes(10, 7, 2, 2)
[(0, 0, 5, 3), (5, 0, 10, 3), (0, 3, 5, 7), (5, 3, 10, 7)]
>>> parse_grid("4x4")
(4, 4)
"""
from __future__ import annotations


def parse_grid(text: str) -> tuple[int, int]:
    """Parse ``"ROWSxCOLS"`` (e.g. ``"4x4"``) into ``(rows, cols)``."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"grid must look like 4x4 (ROWSxCOLS), got {text!r}")
    rows, cols = (int(p) for p in parts)
    if rows < 1 or cols < 1 or rows * cols > 1024:
        raise ValueError(f"grid {text!r} must have 1..1024 cells")
    return rows, cols


def cell_boxes(width: int, height: int, rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Return the ``(left, top, right, bottom)`` box of every cell, row-major."""
    w = max(1, width // cols)
    h = max(1, height // rows)
    boxes = []
    for r in range(rows):
        for c in range(cols):
            right = (c + 1) * w if c < cols - 1 else width
            bottom = (r + 1) * h if r < rows - 1 else height
            boxes.append((c * w, r * h, right, bottom))
    return boxes


def split_ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into ``parts`` half-open ranges with the same rule as :func:`cell_boxes`.

    >>> split_ranges(14, 4)
    [(0, 3), (3, 6), (6, 9), (9, 14)]
    """
    step = max(1, n // parts)
    return [(i * step, (i + 1) * step if i < parts - 1 else n) for i in range(parts)]
