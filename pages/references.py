import streamlit as st

from iconicity_core import db
from iconicity_core.dashboard import page, widgets
from iconicity_core.viz import figures

PAGE = 12

with page("References") as ctx:
    table = db.views.references_table(ctx.con, ctx.run_id, ctx.thresholds, ctx.filters)
    query = st.text_input("Search titles and slugs", key="ref_search")
    if query:
        q = query.lower()
        table = table[table["title"].str.lower().str.contains(q, regex=False) | table["slug"].str.contains(q, regex=False)]
    event = st.dataframe(table.drop(columns=["pooling"]), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="ref_table")
    rows = event.selection.rows if event else []
    if rows:
        st.session_state["ref"] = table.iloc[rows[0]]["slug"]
    slug = widgets.pick_reference(ctx, "ref_pick", sorted(table["slug"].unique()))

    st.subheader("Reference images")
    ref_imgs = db.views.reference_images(ctx.con, ctx.run_id, slug)
    cols = st.columns(min(4, max(1, len(ref_imgs))))
    for k, r in enumerate(ref_imgs.itertuples()):
        badge = "kept" if r.kept else (f"error: {r.error}" if r.error else f"dropped (pHash dup, Hamming {r.hamming})")
        cols[k % len(cols)].image(figures.display_image(db.views.image_path(ctx.con, r.file_id)),
                                  caption=f"{r.relpath} · {badge}")

    st.subheader("Generations")
    c1, c2 = st.columns(2)
    sort = c1.selectbox("Sort by", ["clip_sim", "vr", "image"], key="gal_sort")
    desc = c2.toggle("Descending", True, key="gal_desc")
    gal = db.views.gallery(ctx.con, ctx.run_id, ctx.thresholds, slug, ctx.filters, sort, desc)
    for model, g in gal.groupby("model", sort=True):
        pages = max(1, -(-len(g) // PAGE))
        st.markdown(f"**{model}** — {len(g)} images, CRA {g['recognised'].mean():.2f}")
        p = st.number_input(f"page ({pages})", 1, pages, 1, key=f"gal_page_{model}") - 1
        cols = st.columns(6)
        for k, r in enumerate(g.iloc[p * PAGE:(p + 1) * PAGE].itertuples()):
            badges = ("✅ recognised" if r.recognised else "✖ not recognised") + (" · ♻ reused" if r.vr > 0.5 else "")
            label = f" · label: {r.label}" if isinstance(r.label, str) else ""
            with cols[k % 6]:
                st.image(figures.display_image(db.views.image_path(ctx.con, r.file_id)),
                         caption=f"s={r.clip_sim:.2f} · VR {r.vr:.2f} · {badges}{label}")
                if st.button("patch matches", key=f"pm_{r.file_id}"):
                    st.session_state["image"] = r.file_id
                    st.switch_page("pages/patches.py")
