import getpass

import streamlit as st

from iconicity_core.config import LABELS
from iconicity_core.dashboard import data, labeller, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.io import labels
from iconicity_core.viz import overlays

with page("Patch matches") as ctx:
    c1, c2 = st.columns([3, 1])
    with c1:
        slug, fid, gal = widgets.pick_generation(ctx, "pm")
    alpha = c2.slider("Tint opacity", 0.0, 1.0, 0.45, 0.05, key="pm_alpha",
                      help="How strongly each cell is tinted by its similarity (0: the image itself).")
    view = data.patch_view(ctx, slug, fid, alpha)
    row, t = view["row"], ctx.thresholds
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Recognition similarity", f"{row['clip_sim']:.3f}", help=f"Best {ctx.recognition} cosine to the "
              "reference's images")
    c2.metric("VR", f"{view['vr']:.2f}", help="The share of its cells that are reused")
    c2.caption(f"{view['n_reused']} of {view['k']} cells reused")
    c3.metric("Same-position similarity", f"{view['same_mean']:.3f}", help="Mean over the cells of the best "
              "similarity to the cell at the same position")
    with c4:
        if st.button("Find similar images", key="pm_similar", help=f"Its nearest images by {ctx.recognition}, "
                                                                      "across every model"):
            st.session_state["similar_to"] = fid
            st.switch_page("pages/similar.py")
        if st.session_state.get("label_error"):
            st.error(st.session_state["label_error"])
        with st.popover("Label this image"):
            st.caption(f"Your label: {labeller.sidecar_labels(ctx).get(fid) or 'none yet'}. Written to "
                       f"`{labels.sidecar(ctx.db).name}` beside the database, as on the Label page.")
            for c, choice in zip(st.columns(len(LABELS)), LABELS, strict=True):
                c.button(choice, key=f"pm_lab_{choice}", on_click=labeller.save_label,
                         args=(ctx, fid, choice, st.session_state.get("label_who") or getpass.getuser()))
    left, right = st.columns(2)
    with left:
        st.image(view["overlay"], caption=f"{literal(row['relpath'])} — red outline: reused cell ({ctx.realization} "
                                          f"similarity passes {t.patch_tau:.2f}, {t.match} matching); in each cell its "
                                          "index, similarity and the reference image (R#) and cell (c#) it matched",
                 width="stretch")
        st.image(overlays.colour_scale(), width="stretch")
    with right:
        if t.match != "any":
            st.caption("Same-position matching compares each cell with the cell at the same place only, so there is "
                       "no matched cell elsewhere to outline.")
        for k, r, im in view["references"]:
            st.image(im, caption=f"R{k}: {literal(r.relpath)} — yellow: its cells that the generated cells listed "
                                 "matched", width="stretch")
    widgets.show_table(view["table"], key="pm_cells")
