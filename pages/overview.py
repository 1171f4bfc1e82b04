import streamlit as st

from iconicity_core import db
from iconicity_core.dashboard import page
from iconicity_core.viz import figures

with page("Overview") as ctx:
    per_ref = db.metrics.metrics_table(ctx.con, "reference", ctx.thresholds, ctx.filters, ctx.run_id)
    models = db.metrics.model_table_from_references(ctx.con, per_ref)
    kind = st.segmented_control("References", ["all", "static", "dynamic"], default="all", key="ov_kind") or "all"
    shown = models[models["kind"] == kind]
    means = shown[["cra", "vr", "vi", "crt"]].mean()
    for c, m in zip(st.columns(4), means.index):
        c.metric(m.upper() + f" ({kind}, mean over models)", "–" if len(shown) == 0 else f"{means[m]:.3f}")
    st.dataframe(shown.drop(columns=["pooling"]), hide_index=True, width="stretch",
                 column_config={m: st.column_config.NumberColumn(format="%.3f") for m in ("cra", "vr", "vi", "crt")})
    if len(shown):
        st.plotly_chart(figures.overview_bars(shown), key="ov_bars")

    refs = db.views.references_table(ctx.con, ctx.run_id, ctx.thresholds, ctx.filters, per_ref)
    if kind != "all":
        refs = refs[refs["kind"] == kind]
    refs["quadrant"] = [figures.quadrant(c, v) for c, v in zip(refs["cra"], refs["vr"])]
    left, right = st.columns([3, 1])
    with left:
        event = st.plotly_chart(figures.overview_scatter(refs), key="ov_scatter", on_select="rerun",
                                selection_mode="points")
    with right:
        st.subheader("Quadrants")
        st.caption("CRA > 0.5 = recognised; VR > 0.5 = high reuse (VR pooled as chosen in the sidebar).")
        counts = refs["quadrant"].value_counts().reindex(figures.QUADRANTS, fill_value=0)
        st.dataframe(counts.rename("points").to_frame(), width="stretch")
    points = event.selection.points if event else []
    if points:
        st.session_state["ref"] = points[0]["customdata"][0]
        st.switch_page("pages/references.py")
    st.caption("Click a point to open that reference.")
