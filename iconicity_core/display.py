"""How text from the data and models look in charts (pure): the one escaping helper for Plotly text and
the one palette, so every page, chart and export escapes and colours alike.

Plotly renders a subset of HTML in trace names, hover text, titles and annotations (``<a href>``, ``<b>``,
``<br>``) and fills ``%{...}`` in hover templates: every string from a dataset goes through :func:`esc`.
"""
from __future__ import annotations

import html

from .config import PALETTE


def esc(text) -> str:
    """Dataset text made literal for Plotly: HTML escaped, ``%`` as an entity (no hover-template fields).

    >>> esc('<a href="x">m</a> %{x}')
    '&lt;a href=&quot;x&quot;&gt;m&lt;/a&gt; &#37;{x}'
    """
    return html.escape(str(text), quote=True).replace("%", "&#37;")


def model_colours(models) -> dict[str, str]:
    """A fixed colour per model name: by position in the sorted list of *all* models of the database, so
    the same model has the same colour on every page and in every export.

    >>> model_colours(["b", "a"])
    {'a': '#0072B2', 'b': '#E69F00'}
    """
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(set(map(str, models))))}


def embedder_name(info: dict | None) -> str:
    """What to call an embedder in titles and axes: its real name, never "CLIP" for the appearance baseline.

    >>> embedder_name({"family": "open_clip", "model": "ViT-B-32"}), embedder_name({"family": "baseline"})
    ('CLIP ViT-B-32', 'appearance baseline')
    >>> embedder_name({"family": "dinov3", "model": "facebook/dinov3-vits16-pretrain-lvd1689m"})
    'DINOv3 vits16'
    """
    info = info or {}
    family, model = info.get("family"), str(info.get("model") or "")
    if family == "open_clip":
        return f"CLIP {model}"
    if family == "dinov3":
        short = model.rsplit("/", 1)[-1].replace("dinov3-", "").split("-pretrain")[0]
        return f"DINOv3 {short}"
    if family == "baseline":
        return "appearance baseline"
    if family == "pixels":
        return "pixel thumbnails"
    return model or "embedder"


#: Column headers people read (tables, CSV header docs).
COLUMN_LABELS = {
    "model": "model", "slug": "reference", "title": "title", "kind": "kind", "variant": "prompt", "n": "generations",
    "n_refs": "references", "n_images": "generations", "n_ref_images": "reference images",
    "n_ref_dropped": "dropped (pHash)", "cra": "CRA", "vr": "VR", "vi": "VI", "crt": "CRT", "pooling": "VI pooled over",
    "match": "matching", "clip_sim": "recognition similarity", "recognised": "recognised", "label": "label",
    "rho": "Spearman ρ", "ci_low": "CI low", "ci_high": "CI high", "partial_rho": "partial ρ", "p": "p",
    "p_holm": "p (Holm)", "p_bh": "p (BH)", "covariate": "covariate", "metric": "metric", "roc_auc": "ROC-AUC",
    "youden_tau": "Youden's τ", "youden_j": "Youden's J", "recall_there": "recall there", "n_pos": "positives",
    "n_neg": "negatives", "separation": "separation", "threshold": "threshold", "tpr": "true-positive rate",
    "fpr": "false-positive rate", "cosine": "cosine", "role": "role", "image": "image", "spearman_rho": "Spearman ρ",
    "kendall_tau": "Kendall τ", "ranking of": "ranking of", "flag": "flag", "agree": "agreement", "images": "images",
    "change": "change (B − A)", "crt_a": "CRT (run A)", "crt_b": "CRT (run B)", "set": "set", "groups": "groups",
    "vr_any": "VR (any position)", "vr_same": "VR (same position)", "ratio_same_to_any": "same / any",
    "moved": "VR any − same", "quadrant": "quadrant", "points": "points", "sim": "best similarity",
    "same_pos_sim": "same-position similarity", "matched": "matched reference cell", "reused": "reused",
    "cell": "cell", "relpath": "file", "mean_similarity": "mean similarity to the others", "robust_z": "robust z",
    "outlier": "outlier", "cra_all": "CRA (all images)", "cra_without_outliers": "CRA (outliers dropped)",
    "n_best_is_outlier": "best match is an outlier", "exact": "exact", "clip_tau": "recognition τ", "patch_tau": "patch τ",
    "n_ranked": "how many", "measure": "measure", "mean_cell_sim": "mean cell similarity", "phash": "pHash similarity",
    "ssim": "SSIM", "tiled_l2": "tiled L2 (negated)", "appearance": "appearance descriptor",
    "dino_global": "DINOv3 global cosine", "sscd": "SSCD",
    "quadrant_changed": "quadrant changed", "ranking": "ranking by CRT", "statement": "conclusion",
    "verdict": "verdict", "holds_at": "holds at", "holds_everywhere": "holds everywhere", "flips_at": "flips at", "base": "against",
    "share_still_recognised": "still recognised", "n_recognised_under_base": "recognised under the base",
}


def column_label(name: str) -> str:
    """A table header for a column: known names in words, ``tau_at_precision_0.9`` as "lowest τ at 90 %
    precision", ``cra_description`` as "CRA (description)", ``dcra_description`` as "ΔCRA (description)".

    >>> column_label("tau_at_precision_0.9"), column_label("dcra_synonym"), column_label("vr_title")
    ('lowest τ at 90 % precision', 'ΔCRA (synonym)', 'VR (title)')
    """
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name.startswith(("tau_at_precision_", "threshold_at_precision_")):
        return f"lowest τ at {float(name.rsplit('_', 1)[1]):.0%} precision".replace("%", " %")
    if name in ("dcra", "dvr", "dvi", "dcrt"):
        return f"Δ{name[1:].upper()}"
    if name == "dvr_held":
        return "ΔVR where recognition holds"
    for m in ("cra", "vr", "vi", "crt"):
        if name.startswith(f"d{m}_"):
            return f"Δ{m.upper()} ({name[len(m) + 2:]})"
        if name.startswith(f"{m}_"):
            return f"{m.upper()} ({name[len(m) + 1:]})"
    return name.replace("_", " ")
