import streamlit as st

from iconicity_core import display
from iconicity_core.dashboard import data, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import charts

with page("Prompt variants") as ctx:
    variants = ctx.options["variants"]
    if len(variants) < 2:
        st.info("Only one prompt variant in this database (add others with generations.csv).")
        st.stop()
    base = st.selectbox("Compare against", variants, index=variants.index("title") if "title" in variants else 0,
                        key="va_base")
    st.subheader(f"Per model: does recognition hold when the prompt is not the {literal(base)}?")
    summary = data.perturbation(ctx, base)
    st.caption("Mean change (variant − base) over the references both prompts have, with 95 % paired bootstrap "
               "CIs and Wilcoxon signed-rank p-values; 'still recognised': of the references recognised under the "
               "base (CRA > 0.5), the share still recognised; ΔVR where recognition holds: does the model "
               "transform more when the title changes?")
    widgets.show_table(data.with_ci(summary.drop(columns=["base"]), signed=True), key="va_summary")
    st.subheader("Per reference")
    table = data.variants(ctx, base)
    widgets.show_table(table, key="va_table")
    deltas = [c for c in table.columns if c.startswith("d")]
    if deltas:
        long = table.melt(id_vars=["model", "slug"], value_vars=deltas, var_name="change",
                          value_name="variant − base")
        long["change"] = long["change"].map({d: data.column_name(d) for d in deltas})
        widgets.chart(charts.box(long, "change", "variant − base",
                                  f"Change from the '{display.esc(base)}' prompt, per reference", ctx.colours), "va_box")
