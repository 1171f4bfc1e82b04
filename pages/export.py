import json

import streamlit as st

from iconicity_core import db
from iconicity_core.dashboard import cards, page, widgets
from iconicity_core.viz import figures

with page("Export") as ctx:
    t = ctx.thresholds
    suffix = f"clip{t.clip_tau:.2f}_patch{t.patch_tau:.2f}_{t.pooling}"
    st.subheader("Tables (CSV, at the current thresholds and filters)")
    for by in ("model", "reference", "image"):
        df = db.metrics.metrics_table(ctx.con, by, t, ctx.filters, ctx.run_id)
        st.download_button(f"metrics by {by} ({len(df)} rows)", df.to_csv(index=False), f"metrics_{by}_{suffix}.csv",
                           "text/csv", key=f"dl_{by}")
    st.subheader("Plots (standalone HTML)")
    refs = db.views.references_table(ctx.con, ctx.run_id, t, ctx.filters)
    st.download_button("recognition × realization scatter", figures.overview_scatter(refs).to_html(include_plotlyjs=True),
                       f"scatter_{suffix}.html", "text/html", key="ex_scatter")
    st.subheader("Finding card")
    slug, fid, gal = widgets.pick_generation(ctx, "ex")
    card, overlay = cards.finding_card(ctx, slug, fid, gal)
    st.image(overlay, caption="preview of the card's heatmap")
    st.download_button("finding card (HTML)", card, f"finding_{slug}_{fid}.html", "text/html", key="ex_card")
    st.download_button("thresholds + provenance (JSON)", json.dumps({"thresholds": t.as_dict(),
                       "run": {k: str(v) for k, v in ctx.info.items()}}, indent=2), "settings.json", key="ex_json")
