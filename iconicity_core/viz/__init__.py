"""Figures: patch-match overlays (PIL), Plotly charts, and the shareable finding card."""
