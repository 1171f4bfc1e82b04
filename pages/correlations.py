import streamlit as st

from iconicity_core.dashboard import data, page, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import figures

with page("Correlations") as ctx:
    covs, sources = data.covariates(ctx)
    if not covs:
        st.info("The references have no numeric covariates (add columns such as sitelinks or year to references.csv, "
                "or run `iconicity covariates ...`).")
        st.stop()
    if any(c.startswith("demo_") for c in covs):
        st.warning("Columns starting with `demo_` are fictional demo values, not facts: `demo_sitelinks` is the "
                   "simulator's fame of each reference (famous works are replicated more, so it should correlate "
                   "with VR), `demo_year` is noise (it should not). `title_*` columns are real: computed from the "
                   "titles with wordfreq.")
    variants = ctx.options["variants"]
    variant = st.selectbox("Prompt variant (one point per reference and model)", variants,
                           index=variants.index("title") if "title" in variants else 0, key="co_variant")
    c1, c2 = st.columns(2)
    n_boot = c1.select_slider("Bootstrap resamples", [199, 499, 999], 499, key="co_boot")
    correction = c2.radio("p-value correction across the table", ["holm", "bh"], horizontal=True, key="co_corr",
                          format_func={"holm": "Holm", "bh": "Benjamini–Hochberg"}.get)
    refs, table = data.correlations(ctx, variant, n_boot, correction)
    st.caption("ρ: Spearman with a percentile-bootstrap 95 % CI; partial ρ controls for the other covariates; "
               "'pooled' averages each reference over models. With few references most corrected p-values are "
               "large: read the CIs. Updates when a threshold moves.")
    widgets.show_table(table, key="co_table")
    c1, c2 = st.columns(2)
    cov = c1.selectbox("Covariate", covs, key="co_cov")
    metric = c2.selectbox("Metric", ["cra", "vr", "crt"], key="co_metric", format_func=str.upper)
    widgets.chart(figures.correlation_scatter(refs, cov, metric, ctx.colours), "co_scatter")

    st.subheader("Multivariable model (standardised covariates)")
    mv_metric = st.selectbox("Outcome", ["cra", "vr", "crt"], key="co_mv_metric", format_func=str.upper,
                             help="CRA: binomial GLM on recognised counts; VR / CRT: OLS.")
    for model, mv in data.multivariable(ctx, refs, covs, mv_metric, variant).items():
        st.markdown(f"**{literal(model)}** — {literal(mv['model'].iloc[0]) if len(mv) else 'too few references'}")
        if len(mv):
            widgets.show_table(mv.drop(columns=["model"]), key=f"co_mv_{model}")
    with st.expander("Where the covariates come from"):
        widgets.show_table(sources, key="co_sources")
