"""A notebook-style walkthrough of the Python API (run it as a script, or cell by cell in Jupyter):

    python examples/notebook_walkthrough.py [results.duckdb]

Without an argument it uses the demo database (`iconicity demo` builds it). CI runs this file.
"""
# %% Open a scores database (read-only; the latest scoring run unless run="..." names one)
import sys

import iconicity_core
from iconicity_core.config import demo_db_path
from iconicity_core.core.metrics import quadrants

path = sys.argv[1] if len(sys.argv) > 1 else str(demo_db_path())
res = iconicity_core.open(path)
print(res)
print("thresholds (the run's operating point):", res.thresholds())

# %% Per-model CRA / VR / VI / CRT — the same table as `iconicity metrics --by model --format json`
models = res.metrics(by="model")
print(models[models["kind"] == "all"].round(3).to_string(index=False))

# %% Move a threshold: nothing is re-embedded, it is a new query over the stored similarities
strict = res.metrics(by="model", clip_tau=0.8, patch_tau=0.7)
print("CRA at CLIP τ 0.8:", strict[strict["kind"] == "all"][["model", "cra"]].round(3).to_dict("records"))

# %% Position independence: reuse counted only at the same grid position
same = res.metrics(by="model", match="same-position")
print("VR any vs same-position:",
      list(zip(models["model"], models["vr"].round(3), same["vr"].round(3), strict=True)))

# %% Per reference, with the recognition x realization quadrant
refs = res.metrics(by="reference")
refs["quadrant"] = quadrants(refs["cra"], refs["vr"])
print(refs[["model", "slug", "cra", "vr", "crt", "quadrant"]].head(8).round(3).to_string(index=False))

# %% One generated image: its cells and the patch-match heatmap
img = res.images().sort_values("vr", ascending=False).iloc[0]
print("top-VR image:", img["image"], "CLIP s =", round(img["clip_sim"], 3), "VR =", img["vr"])
print(res.cells(img["image"])[["cell", "sim", "same_pos_sim", "reused"]].head(4).round(3).to_string(index=False))
res.patch_overlay(img["image"]).save("walkthrough_overlay.png")

# %% Threshold sensitivity: CRA vs CLIP τ per model (macro over references)
sweep = res.sweep(taus=[0.5, 0.6, 0.7, 0.8])
print(sweep["cra"].pivot(index="tau", columns="model", values="cra").round(3).to_string())
