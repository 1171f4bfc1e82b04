import getpass

import streamlit as st

from iconicity_core.config import LABELS
from iconicity_core.core import metrics as K
from iconicity_core.core.grid import parse_grid
from iconicity_core.core.similarity import reuse_map
from iconicity_core.dashboard import cache, labelling, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.io import labels
from iconicity_core.viz import figures

with page("Patch matches") as ctx:
    slug, fid, gal = widgets.pick_generation(ctx, "pm")
    same = st.toggle("Same-position similarity (instead of best match anywhere)", key="pm_same")
    rows, cols = parse_grid(ctx.info["grid"])
    m, row = cache.patch_matches(*ctx.key, ctx.run_id, fid)
    refs = cache.reference_images(*ctx.key, ctx.run_id, slug)
    paths = cache.image_paths(*ctx.key, (fid, *refs["file_id"]))
    ref_index = {f: k for k, f in enumerate(refs["file_id"])}
    sims = (m["same_pos_sim"] if same else m["sim"]).to_numpy()
    cell_names = None if same else [f"R{ref_index.get(f, '?')}c{c}" for f, c in zip(m["ref_file"], m["ref_cell"])]
    gen = figures.display_image(paths[fid])
    t = ctx.thresholds
    hit = K.reused(sims.astype("float32"), t.patch_tau, t.rule)
    overlay = figures.patch_overlay(gen, sims, hit, rows, cols, cell_names)
    vr = float(gal.set_index("file_id").loc[fid, "vr"])
    c1, c2, c3 = st.columns(3)
    c1.metric("CLIP similarity s_i", f"{row['clip_sim']:.3f}")
    c2.metric("VR (reused cells)", f"{vr:.2f}")
    c3.metric("Same-position mean", f"{m['same_pos_sim'].mean():.3f}")
    b1, b2 = st.columns([1, 3])
    if b1.button("Find similar images", key="pm_similar", help="Its nearest images by CLIP, across every model"):
        st.session_state["similar_to"] = fid
        st.switch_page("pages/similar.py")
    if st.session_state.get("label_error"):
        st.error(st.session_state["label_error"])
    with b2.popover(f"Label this image ({labelling.sidecar_labels(ctx).get(fid) or 'no label of yours yet'})"):
        st.caption(f"Written to `{labels.sidecar(ctx.db).name}` beside the database, as on the Label page.")
        for c, choice in zip(st.columns(len(LABELS)), LABELS):
            c.button(choice, key=f"pm_lab_{choice}", on_click=labelling.save_label,
                     args=(ctx, fid, choice, st.session_state.get("label_who") or getpass.getuser()))
    reused = {} if same else reuse_map(m["ref_file"].tolist(), m["ref_cell"].tolist(), hit)
    left, right = st.columns(2)
    with left:
        st.image(overlay, caption=f"{literal(row['relpath'])} — red outline: reused (> patch τ {ctx.thresholds.patch_tau:.2f}); "
                                  "text: cell, similarity, > matched reference (R#) cell (c#)")
    with right:
        for k, r in enumerate(refs.itertuples()):
            if not r.kept:
                continue
            ref_img = figures.display_image(paths[r.file_id])
            st.image(figures.reference_overlay(ref_img, reused.get(r.file_id, {}), rows, cols),
                     caption=f"R{k}: {literal(r.relpath)} — outlined: cells reused by the generated cells listed")
    st.dataframe(m.drop(columns=["ref_file"]), hide_index=True, width="stretch")
