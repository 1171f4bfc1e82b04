import streamlit as st

from iconicity_core.dashboard import data, page
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import figures

with page("Overview") as ctx:
    kind = st.segmented_control("References", ["all", "static", "dynamic"], default="all", key="ov_kind") or "all"
    shown, means = data.model_summary(ctx, kind)
    for c, m in zip(st.columns(4), means.index):
        c.metric(m.upper() + f" ({kind}, mean over models)", "–" if len(shown) == 0 else f"{means[m]:.3f}")
    st.dataframe(shown.drop(columns=["pooling"]), hide_index=True, width="stretch",
                 column_config={m: st.column_config.NumberColumn(format="%.3f") for m in ("cra", "vr", "vi", "crt")})
    if len(shown):
        st.plotly_chart(figures.overview_bars(shown), key="ov_bars")
    variants = ctx.options["variants"]
    left, right = st.columns([3, 1])
    variant = right.selectbox("Prompt variant of the points", variants, key="ov_variant",
                              index=variants.index("title") if "title" in variants else 0)
    refs = data.reference_points(ctx, kind, variant)
    with left:
        event = st.plotly_chart(figures.overview_scatter(refs), key="ov_scatter", on_select="rerun",
                                selection_mode="points")
    with right:
        st.subheader(f"Quadrants ({literal(variant)})")
        st.caption("CRA > 0.5 = recognised; VR > 0.5 = high reuse (VR pooled as chosen in the sidebar).")
        st.dataframe(data.quadrant_counts(refs), width="stretch")
    points = event.selection.points if event else []
    if points:
        st.session_state["ref"] = points[0]["customdata"]
        st.switch_page("pages/references.py")
    st.caption("Click a point to open that reference.")
