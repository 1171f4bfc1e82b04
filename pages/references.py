import streamlit as st

from iconicity_core.dashboard import cache, data, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import charts, overlays

PAGE = 12

with page("References") as ctx:
    table = data.reference_summary(ctx)
    query = st.text_input("Search titles and references", key="ref_search")
    if query:
        q = query.lower()
        table = table[table["title"].str.lower().str.contains(q, regex=False) | table["slug"].str.contains(q, regex=False)]
    st.caption("One row per reference: mean scores over the selected models and prompt variants. Select a row for "
               "its breakdown.")
    event = widgets.show_table(table, key="ref_table", on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows if event else []
    if rows:
        st.session_state["ref"] = table.iloc[rows[0]]["slug"]
    slug = widgets.pick_reference(ctx, "ref_pick", list(table["slug"]) or ctx.options["slugs"])
    widgets.show_table(data.reference_breakdown(ctx, slug), key="ref_breakdown")

    st.subheader("Reference images")
    ref_imgs = cache.reference_images(*ctx.key, ctx.run_id, slug)
    paths = cache.image_paths(*ctx.key, tuple(ref_imgs["file_id"]))
    cols = st.columns(6)
    for k, r in enumerate(ref_imgs.itertuples()):
        badge = "kept" if r.kept else (f"error: {r.error}" if r.error else f"dropped (pHash duplicate, distance {r.hamming})")
        cols[k % 6].image(overlays.tile(overlays.display_image(paths[r.file_id])),
                          caption=f"{literal(r.relpath)} · {literal(badge)}", width="stretch")
    cons = data.consistency(ctx, slug)
    if cons is not None:
        st.subheader("How consistent are its images?")
        st.caption(f"Pairwise {ctx.recognition} similarity of the kept images; an image is an outlier when its mean "
                   f"similarity to the others is below {ctx.thresholds.clip_tau:.2f} or its robust z-score below −3.5. "
                   "Right: CRA with the outliers dropped (how much the score depends on the web-image filtering).")
        c1, c2 = st.columns([3, 2])
        with c1:
            widgets.chart(charts.heatmap(cons.matrix, f"{slug}: similarity between its images", "cosine", zmin=0,
                                          zmax=1, x_title="", y_title=""), "ref_consistency")
        with c2:
            widgets.show_table(cons.images.drop(columns=["file_id"]), key="ref_cons_images")
            widgets.show_table(cons.cra, key="ref_cons_cra")
            if not cons.cra["exact"].all():
                st.caption("Not exact: the run kept no vectors of its generated images, so an image whose best match "
                           "is an outlier counts as not recognised (an upper bound on the drop).")

    st.subheader("Generations")
    c1, c2 = st.columns(2)
    sort = c1.selectbox("Sort by", ["clip_sim", "vr", "image"], key="gal_sort",
                        format_func={"clip_sim": "recognition similarity", "vr": "VR", "image": "file name"}.get)
    desc = c2.toggle("Descending", True, key="gal_desc")
    gal = data.gallery(ctx, slug, sort, desc)
    pages = {m: st.session_state.get(f"gal_page_{m}", 1) - 1 for m in gal["model"].unique()}
    paths = cache.image_paths(*ctx.key, tuple(f for m, g in gal.groupby("model") for f in
                                              g["file_id"].iloc[pages[m] * PAGE:(pages[m] + 1) * PAGE]))
    for model, g in gal.groupby("model", sort=True):
        n_pages = max(1, -(-len(g) // PAGE))
        st.markdown(f"**{literal(model)}** — {len(g)} images, CRA {g['recognised'].mean():.2f}")
        p = st.number_input(f"page (of {n_pages})", 1, n_pages, 1, key=f"gal_page_{model}") - 1
        cols = st.columns(6)
        for k, r in enumerate(g.iloc[p * PAGE:(p + 1) * PAGE].itertuples()):
            badges = ("✅ recognised" if r.recognised else "✖ not recognised") + (" · ♻ reused" if r.high_reuse else "")
            label = f"  \nlabelled **{literal(r.label)}**" if isinstance(r.label, str) else ""
            with cols[k % 6]:
                st.image(overlays.tile(overlays.display_image(paths[r.file_id] if r.file_id in paths else
                                                            cache.image_path(*ctx.key, r.file_id))),
                         caption=f"s={r.clip_sim:.2f} · VR {r.vr:.2f}  \n{badges}{label}", width="stretch")
                if st.button("patch matches", key=f"pm_{r.file_id}", width="stretch"):
                    st.session_state["image"] = r.file_id
                    st.switch_page("pages/patches.py")
                if st.button("similar", key=f"sim_{r.file_id}", width="stretch"):
                    st.session_state["similar_to"] = r.file_id
                    st.switch_page("pages/similar.py")
