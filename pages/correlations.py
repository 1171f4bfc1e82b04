import streamlit as st

from iconicity_core.config import N_RESAMPLES
from iconicity_core.dashboard import data, live, page, widgets
from iconicity_core.dashboard.state import literal

with page("Correlations") as ctx:
    covs, sources = data.covariates(ctx)
    if not covs:
        st.info("The references have no numeric covariates (add columns such as sitelinks or year to references.csv, "
                "or run `iconicity covariates ...`).")
        st.stop()
    if any(c.startswith("demo_") for c in covs):
        st.warning("Columns starting with `demo_` are fictional demo values, not facts: `demo_sitelinks` is the "
                   "simulator's fame of each reference, `demo_year` is noise. `title_*` columns are real: computed from "
                   "the titles with wordfreq. Read each ρ with its confidence interval.")
    ss = st.session_state
    variants = ctx.options["variants"]
    if ss.get("co_variant") not in variants:
        ss["co_variant"] = "title" if "title" in variants else variants[0]
    live.view(ctx, "correlations", {"corr_variant": ss["co_variant"]})
    st.caption("ρ: Spearman over the references of one prompt variant, per model and 'pooled' (each reference's mean "
               "over models), with a percentile-bootstrap 95 % CI; n: the number of references. Computed in the browser "
               "as the thresholds move.")
    if st.toggle("Significance: corrected p-values, partial ρ and the multivariable model", key="co_more",
                 help="Computed by Python at the released thresholds (takes a moment on large runs)."):
        variant = ss["co_variant"]
        c1, c2 = st.columns(2)
        n_boot = c1.select_slider("Bootstrap resamples", [199, 499, N_RESAMPLES], 499, key="co_boot")
        correction = c2.radio("p-value correction across the table", ["holm", "bh"], horizontal=True, key="co_corr",
                              format_func={"holm": "Holm", "bh": "Benjamini–Hochberg"}.get)
        refs, table = data.correlations(ctx, variant, n_boot, correction)
        st.caption(f"{literal(variant)} prompt · partial ρ controls for the other covariates · with few references most "
                   "corrected p-values are large: read the CIs.")
        widgets.show_table(table, key="co_table")
        st.subheader("Multivariable model (standardised covariates)")
        mv_metric = st.selectbox("Outcome", ["cra", "vr", "crt"], key="co_mv_metric", format_func=str.upper,
                                 help="CRA: binomial GLM on recognised counts; VR / CRT: OLS.")
        for model, mv in data.multivariable(ctx, refs, covs, mv_metric, variant).items():
            st.markdown(f"**{literal(model)}** — {literal(mv['model'].iloc[0]) if len(mv) else 'too few references'}")
            if len(mv):
                widgets.show_table(mv.drop(columns=["model"]), key=f"co_mv_{model}")
    with st.expander("Where the covariates come from"):
        widgets.show_table(sources, key="co_sources")
