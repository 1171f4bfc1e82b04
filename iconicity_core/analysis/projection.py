"""2-D maps of embeddings (pure): PCA (scikit-learn, deterministic, fast at any scale) or UMAP when
``umap-learn`` is installed (optional: ``pip install umap-learn``).

>>> import numpy as np
>>> xy = project(np.eye(4, 8, dtype=np.float32), "pca")
>>> xy.shape, xy.dtype.name
((4, 2), 'float32')
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METHODS = ("pca", "umap")


def available_methods() -> list[str]:
    """``pca`` always; ``umap`` when umap-learn imports."""
    try:
        import umap  # noqa: F401
    except Exception:
        return ["pca"]
    return list(METHODS)


PCA_FIT_MAX = 20_000


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """``(N, 2)`` float32 coordinates of ``(N, D)`` vectors."""
    x = np.asarray(vectors, np.float32)
    if len(x) < 3:
        return np.zeros((len(x), 2), np.float32)
    if method == "pca":
        from sklearn.decomposition import PCA

        # the axes from a fixed sample of at most 20,000 vectors (the same plane to the eye, seconds faster
        # at 200,000 images), every vector projected onto them
        fit = x[np.sort(np.random.default_rng(seed).choice(len(x), PCA_FIT_MAX, replace=False))] \
            if len(x) > PCA_FIT_MAX else x
        pca = PCA(2, random_state=seed, svd_solver="full").fit(fit)
        axes = pca.components_.astype(np.float32).T               # what pca.transform does, without centring a copy
        return (x @ axes - pca.mean_.astype(np.float32) @ axes).astype(np.float32)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ValueError("--method umap needs umap-learn (pip install umap-learn); --method pca works without") from None
        return umap.UMAP(n_components=2, random_state=seed, metric="cosine").fit_transform(x).astype(np.float32)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def nearest(query: np.ndarray, vectors: np.ndarray, k: int = 12, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the ``k`` rows of ``vectors`` (unit rows) most similar to
    ``query``, best first; rows are compared in chunks (memory bounded).

    >>> v = np.eye(3, dtype=np.float32)
    >>> nearest(v[1], v, 2)[0].tolist()
    [1, 0]
    """
    q = np.asarray(query, np.float32).reshape(-1)
    sims = np.concatenate([np.asarray(vectors[i : i + chunk], np.float32) @ q for i in range(0, len(vectors), chunk)]) \
        if len(vectors) else np.zeros(0, np.float32)
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k] if k else np.zeros(0, int)
    order = top[np.lexsort((top, -sims[top]))]
    return order, sims[order]


def in_region(x: np.ndarray, y: np.ndarray, boxes: Sequence[dict] = (), lassos: Sequence[dict] = ()) -> np.ndarray:
    """Which points lie in any of the selected regions: boxes ``{"x": [x0, x1], "y": [y0, y1]}`` (edges
    included) and lasso polygons ``{"x": [...], "y": [...]}`` (closed; matplotlib's point-in-polygon),
    in data coordinates as Plotly reports them.

    >>> x = np.array([0.0, 1.0, 2.0]); y = np.zeros(3)
    >>> in_region(x, y, boxes=[{"x": [0.5, 2.0], "y": [-1, 1]}]).tolist()
    [False, True, True]
    >>> in_region(x, y, lassos=[{"x": [-1, 1.5, 1.5, -1], "y": [-1, -1, 1, 1]}]).tolist()
    [True, True, False]
    """
    from matplotlib.path import Path

    x, y = np.asarray(x, float), np.asarray(y, float)
    out = np.zeros(len(x), bool)
    for b in boxes:
        (x0, x1), (y0, y1) = sorted(b["x"][:2]), sorted(b["y"][:2])
        out |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    pts = None
    for poly in lassos:
        if len(poly["x"]) < 3:
            continue
        pts = np.column_stack([x, y]) if pts is None else pts
        out |= Path(np.column_stack([poly["x"], poly["y"]]), closed=False).contains_points(pts)
    return out
