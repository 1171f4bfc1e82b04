import streamlit as st

from iconicity_core.dashboard import data, page
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import figures

with page("Correlations") as ctx:
    covs, sources = data.covariates(ctx)
    if not covs:
        st.info("The references have no numeric covariates (add columns such as sitelinks or year to references.csv).")
        st.stop()
    if any(c.startswith("demo_") for c in covs):
        st.warning("Columns starting with `demo_` are fictional demo values, not facts.")
    variants = ctx.options["variants"]
    variant = st.selectbox("Prompt variant (one point per reference and model)", variants,
                           index=variants.index("title") if "title" in variants else 0, key="co_variant")
    c1, c2 = st.columns(2)
    n_boot = c1.select_slider("Bootstrap resamples", [199, 499, 999], 499, key="co_boot")
    correction = c2.radio("p-value correction across the table", ["holm", "bh"], horizontal=True, key="co_corr")
    refs, table = data.correlations(ctx, variant, n_boot, correction)
    st.caption("ρ: Spearman with a percentile-bootstrap 95% CI; partial ρ controls for the other covariates; "
               "'pooled' averages each reference over models. Updates when a threshold moves.")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("rho", "ci_low", "ci_high", "partial_rho", "p", f"p_{correction}")})
    c1, c2 = st.columns(2)
    cov = c1.selectbox("Covariate", covs, key="co_cov")
    metric = c2.selectbox("Metric", ["cra", "vr", "crt"], key="co_metric")
    st.plotly_chart(figures.correlation_scatter(refs, cov, metric), key="co_scatter")

    st.subheader("Multivariable model (standardised covariates)")
    mv_metric = st.selectbox("Outcome", ["cra", "vr", "crt"], key="co_mv_metric",
                             help="CRA: binomial GLM on recognised counts; VR / CRT: OLS.")
    for model, mv in data.multivariable(ctx, refs, covs, mv_metric, variant).items():
        st.markdown(f"**{literal(model)}** — {mv['model'].iloc[0] if len(mv) else 'too few references'}")
        if len(mv):
            st.dataframe(mv.drop(columns=["model"]), hide_index=True, width="stretch")
    with st.expander("Where the covariates come from"):
        st.dataframe(sources, hide_index=True, width="stretch")
