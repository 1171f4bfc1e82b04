import streamlit as st

from iconicity_core import db
from iconicity_core.analysis.correlation import correlation_table, multivariable
from iconicity_core.dashboard import page
from iconicity_core.viz import figures

with page("Correlations") as ctx:
    covs = db.refs.numeric_covariates(ctx.con)
    if not covs:
        st.info("The references have no numeric covariates (add columns such as sitelinks or year to references.csv).")
        st.stop()
    refs = db.views.references_table(ctx.con, ctx.run_id, ctx.thresholds, ctx.filters)
    if any(c.startswith("demo_") for c in covs):
        st.warning("Columns starting with `demo_` are fictional demo values, not facts.")
    variants = sorted(refs["variant"].unique())
    variant = st.selectbox("Prompt variant (one point per reference and model)", variants,
                           index=variants.index("title") if "title" in variants else 0, key="co_variant")
    refs = refs[refs["variant"] == variant]
    c1, c2 = st.columns(2)
    n_boot = c1.select_slider("Bootstrap resamples", [199, 499, 999], 499, key="co_boot")
    correction = c2.radio("p-value correction across the table", ["holm", "bh"], horizontal=True, key="co_corr")
    table = correlation_table(refs, covs, n_resamples=n_boot, correction=correction)
    st.caption("ρ: Spearman with a percentile-bootstrap 95% CI; partial ρ controls for the other covariates; "
               "'pooled' averages each reference over models.")
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
    for model, g in refs.groupby("model"):
        mv = multivariable(g, covs, mv_metric)
        st.markdown(f"**{model}** — {mv['model'].iloc[0] if len(mv) else 'too few references'}")
        if len(mv):
            st.dataframe(mv.drop(columns=["model"]), hide_index=True, width="stretch")
    with st.expander("Where the covariates come from"):
        st.dataframe(db.refs.sources(ctx.con), hide_index=True, width="stretch")
