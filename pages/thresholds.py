import plotly.express as px
import streamlit as st

from iconicity_core import db
from iconicity_core.analysis.calibration import calibration, calibration_table, roc_curves, roc_frame
from iconicity_core.analysis.evaluate import baseline_measures, stored_baselines
from iconicity_core.core import sweeps
from iconicity_core.dashboard import page
from iconicity_core.dashboard.cache import sweep_data

with page("Thresholds") as ctx:
    t = ctx.thresholds
    data = sweep_data(ctx)
    images, cells = data["images"], data["cells"]
    if images.empty:
        st.info("Nothing scored with the current filters.")
        st.stop()
    c1, c2 = st.columns(2)
    fig = px.line(data["cra"], x="tau", y="cra", color="model", title="CRA vs CLIP τ")
    fig.add_vline(x=t.clip_tau, line_dash="dot")
    c1.plotly_chart(fig, key="th_cra")
    fig = px.line(data["vr"], x="tau", y="vr", color="model", title="VR (all generations) vs patch τ")
    fig.add_vline(x=t.patch_tau, line_dash="dot")
    c2.plotly_chart(fig, key="th_vr")

    st.subheader("CRT over the threshold grid")
    grid = data["grid"]
    model = st.selectbox("Model", sorted(grid["model"].unique()), key="th_model")
    g = grid[grid["model"] == model].pivot(index="clip_tau", columns="patch_tau", values="crt")
    c1, c2 = st.columns(2)
    c1.plotly_chart(px.imshow(g, text_auto=".2f", origin="lower", aspect="auto", color_continuous_scale="viridis",
                              labels=dict(x="patch τ", y="CLIP τ", color="CRT"), title=f"CRT of {model}"), key="th_crt")
    stab = sweeps.ranking_stability(grid, t.clip_tau, t.patch_tau).pivot(index="clip_tau", columns="patch_tau",
                                                                          values="kendall_tau")
    c2.plotly_chart(px.imshow(stab, text_auto=".2f", origin="lower", aspect="auto", zmin=-1, zmax=1,
                              color_continuous_scale="RdBu", labels=dict(x="patch τ", y="CLIP τ", color="Kendall τ"),
                              title="Model ranking by CRT vs the ranking at the current thresholds"), key="th_rank")

    st.subheader("Distributions")
    c1, c2 = st.columns(2)
    fig = px.histogram(images, x="clip_sim", color="model", nbins=60, barmode="overlay", opacity=0.6,
                       title="Best CLIP similarity s_i")
    fig.add_vline(x=t.clip_tau, line_dash="dot")
    c1.plotly_chart(fig, key="th_hist_s")
    flat = images[["model"]].loc[images.index.repeat(cells.shape[1])].assign(sim=cells.ravel())
    fig = px.histogram(flat, x="sim", color="model", nbins=60, barmode="overlay", opacity=0.6,
                       title="Per-cell best similarity")
    fig.add_vline(x=t.patch_tau, line_dash="dot")
    c2.plotly_chart(fig, key="th_hist_c")

    per_image = db.metrics.metrics_table(ctx.con, "image", t, ctx.filters, ctx.run_id)
    seps = calibration(per_image)
    if seps:
        st.subheader("Calibration against ground-truth labels")
        st.dataframe(calibration_table(per_image), hide_index=True)
        st.plotly_chart(px.line(roc_frame(seps), x="fpr", y="tpr", color="analysis", title="ROC curves"), key="th_roc")

    base = stored_baselines(ctx.con, t, ctx.run_id, ctx.filters)
    if base is not None:
        st.subheader("Against plain similarity measures (from `iconicity evaluate`)")
        curves = roc_curves(base, baseline_measures(base))
        st.dataframe(curves.groupby(["separation", "measure"])["auc"].first().unstack(0).round(3), width="stretch")
        st.plotly_chart(px.line(curves, x="fpr", y="tpr", color="measure", facet_col="separation",
                                title="ROC curves: VR / CLIP similarity vs baselines"), key="th_base_roc")
    else:
        st.caption("Run `iconicity evaluate --db ...` to compare with pHash, SSIM, tiled L2 and other baselines here.")
