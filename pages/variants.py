import streamlit as st

from iconicity_core.dashboard import data, page
from iconicity_core.viz import figures

with page("Prompt variants") as ctx:
    variants = ctx.options["variants"]
    if len(variants) < 2:
        st.info("Only one prompt variant in this database (add others with generations.csv).")
        st.stop()
    base = st.selectbox("Compare against", variants, index=variants.index("title") if "title" in variants else 0,
                        key="va_base")
    table = data.variants(ctx, base)
    st.dataframe(table, hide_index=True, width="stretch")
    deltas = [c for c in table.columns if c.startswith("d")]
    if deltas:
        long = table.melt(id_vars=["model", "slug"], value_vars=deltas, var_name="change", value_name="value")
        st.plotly_chart(figures.box(long, "change", "value", f"Change from the '{figures.esc(base)}' prompt, per reference"),
                        key="va_box")
