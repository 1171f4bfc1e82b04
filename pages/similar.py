import streamlit as st

from iconicity_core.dashboard import cache, neighbours, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import overlays

with page("Find similar") as ctx:
    query = neighbours.known_image(ctx, st.session_state.get("similar_to"))
    if query is None:
        st.session_state.pop("similar_to", None)
        _slug, query, _gal = widgets.pick_generation(ctx, "sim")
        st.session_state["similar_to"] = query
    else:
        st.caption("From the Map, a gallery or a link; clear it to pick another image.")
        if st.button("pick another image", key="sim_clear"):
            st.session_state.pop("similar_to", None)
            st.rerun()
    k = st.slider("Neighbours", 4, 48, 12, 4, key="sim_k")
    near = neighbours.similar(ctx, query, k)
    if near.empty:
        st.info(f"No stored {ctx.recognition} embedding for this image: score with `--keep-embeddings all` to find "
                "similar images.")
        st.stop()
    paths = cache.image_paths(*ctx.key, (query, *near["file_id"]))
    left, right = st.columns([1, 3])
    left.image(overlays.tile(overlays.display_image(paths.get(query)), 256), caption="this image", width="stretch")
    with right:
        st.caption(f"Nearest by {ctx.recognition} cosine, across every model and the references (ties by file).")
        cols = st.columns(4)
        for i, r in enumerate(near.itertuples()):
            who = "reference" if r.role == "reference" else literal(r.model)
            cols[i % 4].image(overlays.tile(overlays.display_image(paths.get(r.file_id))),
                              caption=f"{r.cosine:.3f} · {who} · {literal(r.slug)}", width="stretch")
    widgets.show_table(neighbours.similar_table(near), key="sim_table")
