import streamlit as st

from iconicity_core.dashboard import page, run_comparison, widgets
from iconicity_core.dashboard.state import literal
from iconicity_core.viz import charts

with page("Compare runs") as ctx:
    others = [r for r in ctx.options["runs"] if r != ctx.run_id]
    if not others:
        st.info("This database has one scoring run. Score the same data with another embedder, patch mode, grid or "
                "preset (e.g. `iconicity score DATA --db ... --patch-mode token`) to compare the two here.")
        st.stop()
    ss = st.session_state
    if ss.get("cmp_run") not in others:
        ss["cmp_run"] = others[0]
    c1, c2, c3 = st.columns(3)
    run_b = c1.selectbox("Run B (run A is the sidebar's)", others, key="cmp_run", format_func=run_comparison.run_label(ctx))
    metric = c2.selectbox("Metric", ["crt", "cra", "vr"], key="cmp_metric", format_func=str.upper)
    same = c3.toggle("The sidebar's thresholds for both", False, key="cmp_same",
                     help="Off: each run at its own operating point (its embedders' thresholds).")
    out = run_comparison.compare_runs(ctx, run_b, same)
    st.caption(f"Run A ({literal(run_comparison.run_label(ctx)(ctx.run_id))}) at τ {ctx.thresholds.clip_tau:.2f} / patch τ "
               f"{ctx.thresholds.patch_tau:.2f}; run B ({literal(run_comparison.run_label(ctx)(run_b))}) at τ "
               f"{out['t_b'].clip_tau:.2f} / patch τ {out['t_b'].patch_tau:.2f}.")
    widgets.chart(charts.compare_scatter(out["refs"], metric, ctx.run_id, run_b, ctx.colours), "cmp_scatter")
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Do the rankings survive?")
        widgets.show_table(out["rankings"], key="cmp_rankings")
        st.subheader("Per-image agreement")
        widgets.show_table(out["agreement"], key="cmp_agreement")
    with c2:
        st.subheader("References that move most (CRT, mean over models)")
        widgets.show_table(out["movers"], key="cmp_movers")
