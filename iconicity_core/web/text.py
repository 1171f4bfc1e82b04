"""Every sentence and label the live views show, written once and shipped with the data (``meta.text``), so the
shared file and the dashboard say the same thing in the same words. The views only fill in numbers
(``web/js/text.js``). Pure.

>>> t = texts({"clip_info": {"family": "open_clip", "model": "ViT-B-32"}, "dino_info": {"family": "baseline"},
...            "grid": "4x4"}, "ge")
>>> t["symbol"], t["columns"]["n_refs"], t["definitions"][0][:46]
('≥', 'references', 'A generation is recognised when its best CLIP ')
"""
from __future__ import annotations

from ..config import Rule
from ..core import metrics as kernel
from ..display import column_label, embedder_name


def definitions(info: dict, rule: Rule) -> list[str]:
    """CRA, VR, VI and CRT exactly as computed, in the run's words (its embedders, grid and rule)."""
    cmp, rec, real = kernel.symbol(rule), embedder_name(info.get("clip_info")), embedder_name(info.get("dino_info"))
    return [f"A generation is recognised when its best {rec} similarity to the reference's images is {cmp} the "
            "recognition τ (dynamic references — films, series — have their own τ).",
            "CRA (recognition accuracy): the share of a reference's generations that are recognised.",
            f"Each image is split into a {info.get('grid')} grid; a cell is reused when its best {real} similarity "
            f"(to any cell of any kept reference image, or to the cell at the same position) is {cmp} the patch τ. "
            "VR (visual reuse) is the share of an image's reused cells; VI = 1 − VR.",
            "A reference's VR and VI are means over its recognised generations (the paper; CRT = 0 when none is) or "
            "over all of them.",
            "CRT (recognition × transformation) = CRA × VI: recognised, and made new.",
            "Per model: means over references (each reference counts once), per prompt variant.",
            f"Quadrants of the plane: recognised when CRA > {kernel.QUADRANT_CUT}, reused when VR > {kernel.QUADRANT_CUT} "
            "(nothing recognised counts as no reuse)."]


def texts(info: dict, rule: Rule) -> dict:
    """The words of the live views for a run (``info``: its record, as :func:`iconicity_core.db.views.run_info`)."""
    rec, real = embedder_name(info.get("clip_info")), embedder_name(info.get("dino_info"))
    cmp = kernel.symbol(rule)
    metric_names = {m: column_label(m) for m in kernel.METRICS}
    columns = {c: column_label(c) for c in ("model", "kind", "variant", "n", "n_refs", "cra", "vr", "vi", "crt",
                                              "covariate", "metric")}
    columns |= {"rho": "Spearman ρ", "ci": "95 % CI"}
    return {
        "symbol": cmp,
        "metric_names": metric_names,
        "columns": columns,
        "definitions": definitions(info, rule),
        "controls": {
            "aria": "thresholds and filters",
            "clip_tau": {"label": "Recognition τ (static)",
                         "help": f"A generation is recognised when its best {rec} similarity to the reference is {cmp} τ."},
            "clip_tau_dynamic": {"label": "Recognition τ (dynamic)",
                                 "help": "The same for dynamic references (films, series)."},
            "patch_tau": {"label": "Patch τ", "help": f"A cell is reused when its best {real} match is {cmp} τ."},
            "pooling": {"label": "VR and VI averaged over", "options": ["recognised generations", "all generations"]},
            "match": {"label": "Patch matching", "options": ["best match anywhere", "same position only"]},
            "models": "Models", "kinds": "Kinds", "variants": "Prompt variants", "filters": "Filters",
        },
        "reading": {
            "empty": "No generation passes the filters.",
            "none": "Nothing is recognised with these settings.",
            "one": "Only {model} is recognised (in {cra} of its generations), reusing {vr} of the cells{of_what}.",
            "tie": "{n} models are recognised, each reusing {vr} of the cells{of_what}.",
            "two": "{reinterprets} reinterprets most: recognised in {r_cra} of its generations, reusing {r_vr} of "
                   "the cells{of_what} (CRT {r_crt}). {replicates} replicates most: {p_vr} of the cells reused{of_what}.",
            "of_what": {"recognised": " of what it recognises", "all": ""},
        },
        "overview": {
            "table_title": "Per model", "kind_label": "References", "variant_label": "Prompt",
            "kinds": {"all": "static and dynamic", "static": "static", "dynamic": "dynamic"},
            "scope": "{variant} prompt, {kinds} references · means over {n} references · recognised when similarity "
                     "{sym} {clip}{dyn}, reused when cell similarity {sym} {patch}",
            "dyn": " (dynamic {tau})",
            "csv_models": "⤓ per-model CSV", "csv_refs": "⤓ per-reference CSV",
            "definitions_title": "What CRA, VR, VI and CRT are",
            "caption": f"A point is one reference and one model; click it to open that reference. Recognised: CRA > "
                       f"{kernel.QUADRANT_CUT} · reused: VR > {kernel.QUADRANT_CUT} (a reference with nothing recognised counts as "
                       "no reuse).",
            "plane": {"title": "Recognition × realization  (● static, ◆ dynamic)",
                      "x": "recognition: CRA (share of generations recognised)",
                      "y": "realization: VR (share of cells reused)",
                      "aria": "recognition (CRA) against realization (VR), one point per reference and model"},
            "bars_title": "Per-model means over references", "bars_facet": "prompt: {variant}",
            "quadrants_title": "Quadrants", "quadrant_header": ["quadrant", "points (reference × model)"],
        },
        "thresholds": {
            "cra_title": f"CRA vs recognition τ ({rec}, prompt variants pooled)",
            "vr_title": f"VR of all generations vs patch τ ({real})",
            "x_cra": "recognition τ", "y_cra": "CRA", "x_vr": "patch τ", "y_vr": "VR",
            "grid_heading": "CRT over the threshold grid", "model_label": "Model",
            "crt_title": "CRT of {model}", "value_crt": "CRT",
            "stability_title": "Model ranking by CRT against the ranking at the current thresholds",
            "value_kendall": "Kendall τ",
            "dist_heading": "How the similarities spread (0.01 steps; the dotted line is the threshold)",
            "dist_clip_title": f"Each image's best recognition similarity ({rec})", "dist_clip_x": "similarity",
            "dist_cells_title": f"Each cell's best match ({real})", "dist_cells_x": "similarity",
            "dist_clip_y": "share of its images", "dist_cells_y": "share of its cells",
            "undefined_note": "A grey cell: Kendall τ is undefined there (every model has the same CRT, e.g. 0 when "
                              "nothing is recognised). One recognition τ for both kinds of reference.",
        },
        "correlations": {
            "variant_label": "Prompt variant", "cov_label": "Covariate", "metric_label": "Metric",
            "note": "Spearman ρ over the references of the \"{variant}\" prompt; 95 % CIs from {n} percentile-bootstrap "
                    "resamples, computed once the settings rest (the page draws its own resamples, so a CI may "
                    "differ from Python's in the second decimal).",
            "scatter_title": "{metric} against {covariate} (one point per reference and model)",
            "log_note": "(log scale)",
            "none": "The references have no numeric covariates.",
        },
        "reference": {
            "heading": "One reference", "pick": "reference", "static": "static", "dynamic": "dynamic",
            "reference_image": "reference image", "reference_images": "Reference images",
            "no_images": "No generated image of this reference is embedded.",
            "generated": "Generated images — red outline: a cell reused at patch τ {tau} ({match})",
            "roles": {"most reused": "most reused", "least reused": "least reused", "generation": "generation"},
            "recognised": "recognised", "not_recognised": "not recognised", "labelled": "labelled {label}",
        },
        "share": {
            "badge_good": "✓ equal to iconicity metrics at the starting settings, every model",
            "badge_bad": "⚠ differs from iconicity metrics: ",
            "reset": "Reset", "address": "The address bar holds this view: copy it to send it back.",
            "thresholds_heading": "Thresholds", "correlations_heading": "Correlations with the references' covariates",
            "provenance": "Provenance", "what": "what", "value": "value",
        },
    }
