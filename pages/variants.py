import plotly.express as px
import streamlit as st

from iconicity_core import db
from iconicity_core.dashboard import page

with page("Prompt variants") as ctx:
    variants = ctx.options["variants"]
    if len(variants) < 2:
        st.info("Only one prompt variant in this database (add others with generations.csv).")
        st.stop()
    base = st.selectbox("Compare against", variants, index=variants.index("title") if "title" in variants else 0,
                        key="va_base")
    table = db.views.variants_table(ctx.con, ctx.run_id, ctx.thresholds, ctx.filters, base)
    st.dataframe(table, hide_index=True, width="stretch")
    deltas = [c for c in table.columns if c.startswith("d")]
    if deltas:
        long = table.melt(id_vars=["model", "slug"], value_vars=deltas, var_name="change", value_name="value")
        st.plotly_chart(px.box(long, x="change", y="value", color="model", points="all",
                               title=f"Change from the '{base}' prompt, per reference"), key="va_box")
