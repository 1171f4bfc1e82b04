import json

import streamlit as st

from iconicity_core.dashboard import cards, data, page, widgets
from iconicity_core.viz import figures

with page("Export") as ctx:
    t = ctx.thresholds
    suffix = f"clip{t.clip_tau:.2f}_patch{t.patch_tau:.2f}_{t.pooling}"
    st.subheader("Tables (CSV, at the current thresholds and filters)")
    tables = {"model": ctx.engine.model_table(t, ctx.filters), "reference": ctx.engine.reference_table(t, ctx.filters)}
    for by, df in tables.items():
        st.download_button(f"metrics by {by} ({len(df)} rows)", df.to_csv(index=False), f"metrics_{by}_{suffix}.csv",
                           "text/csv", key=f"dl_{by}")
    n_images = int(ctx.engine.mask(ctx.filters).sum())
    if st.toggle(f"prepare the per-image table ({n_images:,} rows)", key="ex_images"):
        st.download_button(f"metrics by image ({n_images:,} rows)", data.image_csv(ctx), f"metrics_image_{suffix}.csv",
                           "text/csv", key="dl_image")
    st.subheader("Plots (standalone HTML)")
    st.download_button("recognition × realization scatter",
                       figures.overview_scatter(data.references(ctx)).to_html(include_plotlyjs=True),
                       f"scatter_{suffix}.html", "text/html", key="ex_scatter")
    st.subheader("Finding card")
    slug, fid, gal = widgets.pick_generation(ctx, "ex")
    card, overlay = cards.finding_card(ctx, slug, fid, gal)
    st.image(overlay, caption="preview of the card's heatmap")
    st.download_button("finding card (HTML)", card, f"finding_{slug}_{fid}.html", "text/html", key="ex_card")
    st.download_button("thresholds + provenance (JSON)", json.dumps({"thresholds": t.as_dict(),
                       "run": {k: str(v) for k, v in ctx.info.items()}}, indent=2), "settings.json", key="ex_json")
