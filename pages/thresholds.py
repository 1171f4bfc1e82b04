import streamlit as st

from iconicity_core.dashboard import data, live, page, sidebar, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import charts

with page("Thresholds") as ctx:
    rec = ctx.recognition
    live.view(ctx, "thresholds")

    st.subheader("Robustness: do the conclusions survive other thresholds?")
    clip_taus, patch_taus = data.grid_taus(ctx)
    rob = data.robustness(ctx, clip_taus, patch_taus)
    st.caption(f"The paper's check: every model's CRA / VR / CRT at recognition τ {', '.join(map(str, clip_taus))} × patch τ "
               f"{', '.join(map(str, patch_taus))} (the grid around the current thresholds; {literal(rob['variant'])} "
               "prompt; 95 % bootstrap CIs over references), and which statements hold across the whole grid.")
    c1, c2 = st.columns([3, 2])
    with c1:
        widgets.show_table(rob["conclusions"], key="th_conclusions")
    with c2:
        widgets.show_table(rob["points"], key="th_points")
        st.caption("Kendall τ: the model ranking by CRT against the ranking at the current thresholds (1: the "
                   "same order); quadrant changed: share of (model, reference) points in another quadrant.")
    with st.expander("Per-model numbers at every grid point (with CIs)"):
        widgets.show_table(data.with_ci(rob["table"]), key="th_robust_table")
        st.download_button("CSV", data.csv(rob["table"]), "robustness.csv", "text/csv", key="th_rob_csv")
    pi = data.position_independence(ctx)
    st.markdown("**Position independence** — reuse counted anywhere (the paper) against only at the same grid "
                "position: a reference reused anywhere but not in place was recomposed (collage), not copied.")
    c1, c2 = st.columns([2, 3])
    with c1:
        widgets.show_table(pi["per_model"], key="th_pi")
    with c2:
        widgets.show_table(pi["movers"].drop(columns=["kind"]), key="th_pi_movers", height=220)

    seps, auc_table, roc = data.headline_roc(ctx)
    if seps:
        st.subheader("Calibration against ground-truth labels")
        st.caption("Which thresholds do the labels support? Recognition τ: recognisable vs miss; patch τ: replica "
                   "vs reinterpretation (an image counts as a replica when more than half of its cells are reused). "
                   "Youden's point maximises true-positive rate − false-positive rate; the last columns give the "
                   "lowest τ reaching 90 % precision.")
        cal = data.calibration(ctx)
        widgets.show_table(cal, key="th_cal")
        best = cal.set_index("threshold")["youden_tau"]
        if best.notna().all():
            st.button(f"Apply the suggested thresholds (recognition τ {best['clip_tau']:.2f}, patch τ "
                      f"{best['patch_tau']:.2f})", key="th_apply", on_click=sidebar.apply_thresholds,
                      args=(best["clip_tau"], best["patch_tau"]))
        widgets.show_table(auc_table, key="th_auc")
        widgets.chart(charts.lines(roc, "fpr", "tpr", "ROC curves", color="analysis", x_title="false-positive rate",
                                    y_title="true-positive rate"), "th_roc")

    curves = data.measure_rocs(ctx)
    if curves is not None:
        st.subheader("Against plain similarity measures (from `iconicity evaluate`)")
        widgets.show_table(curves.groupby(["separation", "measure"])["auc"].first().unstack(0).reset_index(),
                           key="th_measures")
        for sep, d in curves.groupby("separation"):
            widgets.chart(charts.lines(d, "fpr", "tpr", f"ROC: {sep} — VR / {rec} similarity vs plain measures",
                                        color="measure", x_title="false-positive rate", y_title="true-positive rate"),
                          f"th_measure_roc_{sep.replace(' ', '_')}")
    else:
        st.caption("Run `iconicity evaluate --db ...` to compare with pHash, SSIM, tiled L2 and other plain measures "
                   "here.")
