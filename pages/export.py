import json

import streamlit as st

from iconicity_core import figures, ui
from iconicity_core.queries import metrics_table, thresholds_dict
from iconicity_core.grid import parse_grid
from iconicity_core.views import image_path, image_row, patch_matches, reference_images, references_table

with ui.page("Export") as ctx:
    t = ctx.thresholds
    suffix = f"clip{t.clip_tau:.2f}_patch{t.patch_tau:.2f}_{t.pooling}"
    st.subheader("Tables (CSV, at the current thresholds and filters)")
    for by in ("model", "reference", "image"):
        df = metrics_table(ctx.con, by, t, ctx.filters, ctx.run_id)
        st.download_button(f"metrics by {by} ({len(df)} rows)", df.to_csv(index=False), f"metrics_{by}_{suffix}.csv",
                           "text/csv", key=f"dl_{by}")
    st.subheader("Plots (standalone HTML)")
    refs = references_table(ctx.con, ctx.run_id, t, ctx.filters)
    fig = figures.overview_scatter(refs)
    st.download_button("recognition × realization scatter", fig.to_html(include_plotlyjs=True),
                       f"scatter_{suffix}.html", "text/html", key="ex_scatter")
    st.subheader("Finding card")
    slug, fid, gal = ui.pick_generation(ctx, "ex")
    row = image_row(ctx.con, ctx.run_id, fid)
    m = patch_matches(ctx.con, ctx.run_id, fid)
    rows, cols = parse_grid(ctx.info["grid"])
    gen = figures.load_image(image_path(ctx.con, fid))
    overlay = figures.patch_overlay(gen, m["sim"].to_numpy(), t.patch_tau, rows, cols)
    ref_imgs = [figures.load_image(image_path(ctx.con, f)) for f in reference_images(ctx.con, ctx.run_id, slug)
                .query("kept")["file_id"]]
    g = gal.set_index("file_id").loc[fid]
    card = figures.finding_card(gen, overlay, ref_imgs, row,
                                {"clip_sim": round(float(g.clip_sim), 4), "recognised": bool(g.recognised),
                                 "vr": round(float(g.vr), 4), "vi": round(float(g.vi), 4)},
                                thresholds_dict(t),
                                {"run": ctx.run_id, "recognition": ctx.info["clip_key"],
                                 "realization": ctx.info["dino_key"], "grid": ctx.info["grid"],
                                 "patch mode": ctx.info["patch_mode"],
                                 "semantic": "yes" if ctx.info["semantic"] else "no (appearance baseline)"})
    st.image(overlay, caption="preview of the card's heatmap")
    st.download_button("finding card (HTML)", card, f"finding_{slug}_{fid}.html", "text/html", key="ex_card")
    st.download_button("thresholds + provenance (JSON)", json.dumps({"thresholds": thresholds_dict(t),
                       "run": {k: str(v) for k, v in ctx.info.items()}}, indent=2), "settings.json", key="ex_json")
