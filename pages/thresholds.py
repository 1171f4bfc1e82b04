import streamlit as st

from iconicity_core.dashboard import data, page, widgets
from iconicity_core.viz import figures

with page("Thresholds") as ctx:
    t = ctx.thresholds
    sweeps = data.sweeps(ctx)
    if sweeps["cra"].empty:
        st.info("Nothing scored with the current filters.")
        st.stop()
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.lines(sweeps["cra"], "tau", "cra", "CRA vs CLIP τ", t.clip_tau), key="th_cra")
    c2.plotly_chart(figures.lines(sweeps["vr"], "tau", "vr", "VR (all generations) vs patch τ", t.patch_tau),
                    key="th_vr")

    st.subheader("CRT over the threshold grid")
    grid = sweeps["grid"]
    model = st.selectbox("Model", sorted(grid["model"].unique()), key="th_model")
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.heatmap(grid[grid["model"] == model].pivot(index="clip_tau", columns="patch_tau", values="crt"),
                                    f"CRT of {model}", "CRT"), key="th_crt")
    stab = ctx.engine.ranking_stability(grid, t).pivot(index="clip_tau", columns="patch_tau", values="kendall_tau")
    c2.plotly_chart(figures.heatmap(stab, "Model ranking by CRT vs the ranking at the current thresholds", "Kendall τ",
                                    "RdBu", -1, 1), key="th_rank")

    st.subheader("Distributions")
    hist = ctx.engine.histograms(ctx.filters)
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.count_histogram(hist["clip_sim"], "Best CLIP similarity s_i", t.clip_tau), key="th_hist_s")
    c2.plotly_chart(figures.count_histogram(hist["cell_sim"], "Per-cell best similarity", t.patch_tau), key="th_hist_c")

    seps, auc_table, roc = data.headline_roc(ctx)
    if seps:
        st.subheader("Calibration against ground-truth labels")
        st.caption("Which thresholds do the labels support? CLIP τ: recognisable vs miss; patch τ: replica vs "
                   "reinterpretation (an image counts as a replica when more than half of its cells are reused). "
                   "Youden's point maximises TPR − FPR; the last columns give the lowest τ reaching 90 % precision.")
        cal = data.calibration(ctx)
        st.dataframe(cal, hide_index=True, width="stretch")
        best = cal.set_index("threshold")["youden_tau"]
        if best.notna().all():
            st.button(f"Apply the suggested thresholds (CLIP τ {best['clip_tau']:.2f}, patch τ {best['patch_tau']:.2f})",
                      key="th_apply", on_click=widgets.apply_thresholds, args=(best["clip_tau"], best["patch_tau"]))
        st.dataframe(auc_table, hide_index=True)
        st.plotly_chart(figures.lines(roc, "fpr", "tpr", "ROC curves", color="analysis"), key="th_roc")

    curves = data.measure_rocs(ctx)
    if curves is not None:
        st.subheader("Against plain similarity measures (from `iconicity evaluate`)")
        st.dataframe(curves.groupby(["separation", "measure"])["auc"].first().unstack(0).round(3), width="stretch")
        for sep, d in curves.groupby("separation"):
            st.plotly_chart(figures.lines(d, "fpr", "tpr", f"ROC: {sep} — VR / CLIP similarity vs baselines",
                                          color="measure"), key=f"th_base_roc_{sep}")
    else:
        st.caption("Run `iconicity evaluate --db ...` to compare with pHash, SSIM, tiled L2 and other baselines here.")
