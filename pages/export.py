import json

import streamlit as st

from iconicity_core.dashboard import cards, data, page, widgets
from iconicity_core.viz import charts

with page("Export") as ctx:
    t = ctx.thresholds
    suffix = data.export_suffix(ctx)
    st.subheader("Tables (CSV, at the current settings)")
    for by, df in data.export_tables(ctx).items():
        st.download_button(f"metrics by {by} ({len(df)} rows)", data.csv(df), f"metrics_{by}_{suffix}.csv",
                           "text/csv", key=f"dl_{by}")
    n_images = int(ctx.engine.mask(ctx.filters).sum())
    if st.toggle(f"prepare the per-image table ({n_images:,} rows)", key="ex_images"):
        st.download_button(f"metrics by image ({n_images:,} rows)", data.image_csv(ctx), f"metrics_image_{suffix}.csv",
                           "text/csv", key="dl_image")
    with st.expander("What the columns mean"):
        st.markdown(data.column_docs())
    st.download_button("settings and run record (JSON)", json.dumps(cards.settings(ctx), indent=2), "settings.json",
                       "application/json", key="ex_json")
    st.subheader("Share: one HTML file with live thresholds")
    st.caption("A collaborator double-clicks it — offline, no server, no Python — and moves the thresholds; the "
               "page recomputes CRA, VR, VI and CRT exactly as here. It starts at these settings and filters.")
    images = st.radio("images in the file", ["evidence", "none", "all"], horizontal=True, key="ex_share_images",
                      format_func={"evidence": "evidence (references, most and least reused per model)",
                                   "none": "none (smallest)", "all": "all (up to 40 MB)"}.get)
    st.download_button("findings explorer (HTML)", cards.share_later(ctx, images, st.session_state),
                       f"findings_{suffix}.html", "text/html", key="ex_share", on_click="ignore")
    st.subheader("Plots (standalone HTML, offline)")
    st.caption("Every chart of the dashboard also has its own ⤓ HTML button beside it.")
    refs = data.references(ctx)
    c1, c2 = st.columns(2)
    c1.download_button("recognition × realization scatter",
                       widgets.standalone_html(charts.overview_scatter, refs, ctx.colours), f"scatter_{suffix}.html",
                       "text/html", key="ex_scatter", on_click="ignore")
    shown, _ = data.model_summary(ctx, "all")
    c2.download_button("per-model bars", widgets.standalone_html(charts.overview_bars, shown),
                       f"bars_{suffix}.html", "text/html", key="ex_bars", on_click="ignore")
    st.subheader("Finding card")
    slug, fid, gal = widgets.pick_generation(ctx, "ex")
    card, overlay = cards.finding_card(ctx, slug, fid, gal)
    c1, c2 = st.columns([1, 2])
    c1.image(overlay, caption="the card's heatmap", width="stretch")
    c2.download_button("finding card (HTML)", card, f"finding_{slug}_{fid}.html", "text/html", key="ex_card")
    c2.caption("One HTML file: the generated image and its heatmap, the references with the reused cells outlined, "
               "its scores and matched cells, the thresholds and the embedders.")
