"""The dashboard's pages, in the order of the navigation along the top: file, title, icon (``app.py`` builds the
navigation from it; tests and benches walk every page from it)."""
from __future__ import annotations

#: The dashboard's pages: file, title, icon (app.py builds the navigation along the top from it, in this order).
PAGES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/references.py", "References", ":material/photo_library:"),
    ("pages/patches.py", "Patch matches", ":material/grid_on:"),
    ("pages/thresholds.py", "Thresholds", ":material/tune:"),
    ("pages/correlations.py", "Correlations", ":material/trending_up:"),
    ("pages/map.py", "Map", ":material/scatter_plot:"),
    ("pages/similar.py", "Find similar", ":material/image_search:"),
    ("pages/variants.py", "Prompt variants", ":material/edit_note:"),
    ("pages/compare.py", "Compare runs", ":material/compare_arrows:"),
    ("pages/label.py", "Label", ":material/label:"),
    ("pages/export.py", "Export", ":material/download:"),
)
