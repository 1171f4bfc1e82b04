import streamlit as st

from iconicity_core.analysis import maps
from iconicity_core.analysis.projection import available_methods
from iconicity_core.dashboard import cache, mapping, page, widgets
from iconicity_core.dashboard.state import MAP_COLOURS, literal
from iconicity_core.viz import overlays

GALLERY = 24

with page("Map") as ctx:
    ss = st.session_state
    if ss.get("map_colour") not in MAP_COLOURS:
        ss["map_colour"] = "model"
    c1, c2, c3 = st.columns([1, 2, 1.2])
    method = c1.selectbox("Projection", available_methods(), key="map_method", format_func=str.upper,
                          help="PCA always; UMAP when umap-learn is installed. Computed once and stored beside the "
                               "database (`iconicity map` does it ahead of time).")
    colour = c2.segmented_control("Colour by", MAP_COLOURS, key="map_colour", format_func=mapping.colour_label(ctx),
                                  help=f"similarity: each image's best {ctx.recognition} similarity to its "
                                       "reference") or "model"
    n_draw = c3.select_slider("Points drawn", maps.DRAW_CHOICES, maps.DRAW_DEFAULT, key="map_draw",
                              format_func="{:,}".format,
                              help="More points cost the browser more on every lasso move. A selection always "
                                   "takes every image inside it, drawn or not.")
    points = mapping.map_frame(ctx, method)
    notice = mapping.map_notice(ctx, method)
    if notice:
        st.warning(literal(notice))
    if points is None:
        st.info(f"This run kept no {ctx.recognition} embeddings to map: score with `--keep-embeddings all` (the demo "
                "does), then open this page again or run `iconicity map --db ...`.")
        st.stop()
    fig = mapping.map_chart(ctx, points, method, n_draw, colour)
    n_gen = int((points["role"] != "reference").sum())
    hint = mapping.unmapped_hint(ctx, n_gen)
    if hint:
        st.info(hint)
    event = st.plotly_chart(fig, key="map_chart", on_select="rerun", selection_mode=("lasso", "box", "points"))
    sel = maps.selected(points, event.selection if event else None)
    if sel.empty:
        st.caption(f"{n_gen:,} generated and {len(points) - n_gen:,} reference images placed by their "
                   f"{ctx.recognition} embedding. Draw a lasso or a box around points (or click one) to see those "
                   "images, their scores, and the selection's CRA / VR / CRT next to the whole set's.")
        st.stop()
    gen = sel[sel["role"] != "reference"]
    st.subheader(f"Selection: {len(gen):,} generated and {len(sel) - len(gen)} reference image(s)")

    widgets.show_table(mapping.selection_summary(ctx, gen), key="map_summary")
    shown = sel.head(GALLERY)
    paths = cache.image_paths(*ctx.key, tuple(shown["file_id"]))
    cols = st.columns(6)
    for k, r in enumerate(shown.itertuples()):
        with cols[k % 6]:
            st.image(overlays.tile(overlays.display_image(paths.get(r.file_id))),
                     caption=(f"{literal(r.model)} · {literal(r.slug)}  \ns={r.clip_sim:.2f} · VR {r.vr:.2f}"
                              if r.role != "reference" else f"reference · {literal(r.slug)}"), width="stretch")
            b1, b2 = st.columns(2)
            if r.role != "reference" and b1.button("patches", key=f"map_pm_{r.file_id}"):
                ss["image"], ss["ref"] = r.file_id, r.slug
                st.switch_page("pages/patches.py")
            if b2.button("similar", key=f"map_sim_{r.file_id}"):
                ss["similar_to"] = r.file_id
                st.switch_page("pages/similar.py")
    if len(sel) > GALLERY:
        st.caption(f"… and {len(sel) - GALLERY:,} more.")
