import streamlit as st

from iconicity_core import figures, ui
from iconicity_core.views import gallery, image_path, image_row, patch_matches, reference_images

with ui.page("Patch matches") as ctx:
    slugs = ctx.options["slugs"]
    cur = st.session_state.get("ref")
    slug = st.selectbox("Reference", slugs, index=slugs.index(cur) if cur in slugs else 0, key="pm_ref")
    st.session_state["ref"] = slug
    gal = gallery(ctx.con, ctx.run_id, ctx.thresholds, slug, ctx.filters, "vr", True)
    if gal.empty:
        st.info("No scored generations for this reference with the current filters.")
        st.stop()
    ids = gal["file_id"].tolist()
    cur = st.session_state.get("image")
    names = {r.file_id: f"{r.model} · {r.image} · VR {r.vr:.2f}" for r in gal.itertuples()}
    labels = list(names.values())
    fid = ids[labels.index(st.selectbox("Generated image (sorted by VR)", labels,
                                        index=ids.index(cur) if cur in ids else 0, key="pm_image"))]
    st.session_state["image"] = fid
    same = st.toggle("Same-position similarity (instead of best match anywhere)", key="pm_same")
    rows, cols = (int(x) for x in ctx.info["grid"].split("x"))
    m = patch_matches(ctx.con, ctx.run_id, fid)
    row = image_row(ctx.con, ctx.run_id, fid)
    refs = reference_images(ctx.con, ctx.run_id, slug)
    ref_index = {f: k for k, f in enumerate(refs["file_id"])}
    sims = (m["same_pos_sim"] if same else m["sim"]).to_numpy()
    labels = None if same else [f"R{ref_index.get(f, '?')}c{c}" for f, c in zip(m["ref_file"], m["ref_cell"])]
    gen = figures.load_image(image_path(ctx.con, fid))
    overlay = figures.patch_overlay(gen, sims, ctx.thresholds.patch_tau, rows, cols, labels)
    vr = float((m["sim"] > ctx.thresholds.patch_tau).mean())
    c1, c2, c3 = st.columns(3)
    c1.metric("CLIP similarity s_i", f"{row['clip_sim']:.3f}")
    c2.metric("VR (reused cells)", f"{vr:.2f}")
    c3.metric("Same-position mean", f"{m['same_pos_sim'].mean():.3f}")
    left, right = st.columns(2)
    with left:
        st.image(overlay, caption=f"{row['relpath']} — red outline: reused (> patch τ {ctx.thresholds.patch_tau:.2f}); "
                                  "text: cell, similarity, > matched reference (R#) cell (c#)")
    with right:
        for k, r in enumerate(refs.itertuples()):
            if not r.kept:
                continue
            matched: dict[int, list[int]] = {}
            if not same:
                for gc, (f, c, s) in enumerate(zip(m["ref_file"], m["ref_cell"], m["sim"])):
                    if f == r.file_id and s > ctx.thresholds.patch_tau:
                        matched.setdefault(int(c), []).append(gc)
            ref_img = figures.load_image(image_path(ctx.con, r.file_id))
            st.image(figures.reference_overlay(ref_img, matched, rows, cols),
                     caption=f"R{k}: {r.relpath} — outlined: cells reused by the generated cells listed")
    st.dataframe(m.drop(columns=["ref_file"]), hide_index=True, width="stretch")
