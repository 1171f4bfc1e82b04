import streamlit as st

from iconicity_core.dashboard import data, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import figures

with page("Overview") as ctx:
    variants = ctx.options["variants"]
    ss = st.session_state
    if ss.get("ov_variant") not in variants:
        ss["ov_variant"] = "title" if "title" in variants else variants[0]
    if ss.get("ov_kind") not in ("all", "static", "dynamic"):
        ss["ov_kind"] = "all"
    left, right = st.columns([11, 9], gap="medium")
    with right:
        c1, c2 = st.columns(2)
        kind = c1.selectbox("References", ["all", "static", "dynamic"], key="ov_kind",
                            format_func={"all": "static and dynamic", "static": "static", "dynamic": "dynamic"}.get)
        variant = c2.selectbox("Prompt", variants, key="ov_variant")
        summary = data.overview_summary(ctx, kind, variant)
        st.markdown(f"**Per model** · {literal(data.scope_words(kind, variant))} · "
                    f"means over {data.refs_words(summary)}")
        widgets.show_table(summary.drop(columns=["n_refs"]), key="ov_summary")
        st.markdown(literal(data.scatter_reading(summary)))
        with st.expander("What CRA, VR, VI and CRT are"):
            st.markdown(data.definitions(ctx))
    refs = data.reference_points(ctx, kind, variant)
    with left:
        event = widgets.chart(figures.overview_scatter(refs, ctx.colours, height=440), "ov_scatter",
                              on_select="rerun", selection_mode="points")
    row = figures.clicked_row(event.selection.points if event else [], len(refs))
    if row is not None:
        ss["ref"] = refs["slug"].iloc[row]
        st.switch_page("pages/references.py")
    st.caption("A point is one reference and one model; click it to open that reference. Recognised: CRA > 0.5 · "
               "reused: VR > 0.5 (a reference with nothing recognised counts as no reuse).")
    c1, c2 = st.columns([11, 9], gap="medium")
    with c1:
        shown, _ = data.model_summary(ctx, kind)
        if len(shown):
            widgets.chart(figures.overview_bars(shown), "ov_bars")
    with c2:
        st.markdown(f"**Quadrants** · {literal(data.scope_words(kind, variant))}")
        widgets.show_table(data.quadrant_counts(refs).reset_index(names="quadrant"), key="ov_quadrants")
        widgets.run_details(ctx)
