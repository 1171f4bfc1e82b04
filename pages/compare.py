import streamlit as st

from iconicity_core.dashboard import explore, page
from iconicity_core.viz import figures

with page("Compare runs") as ctx:
    others = [r for r in ctx.options["runs"] if r != ctx.run_id]
    if not others:
        st.info("This database has one scoring run. Score the same data with another embedder, patch mode, grid or "
                "preset (e.g. `iconicity score DATA --db ... --patch-mode token`) to compare the two here.")
        st.stop()
    c1, c2, c3 = st.columns(3)
    run_b = c1.selectbox("Run B (run A is the sidebar's)", others, key="cmp_run")
    metric = c2.selectbox("Metric", ["crt", "cra", "vr"], key="cmp_metric")
    same = c3.toggle("The sidebar's thresholds for both", False, key="cmp_same",
                     help="Off: each run at its own operating point (its embedders' thresholds).")
    out = explore.compare_runs(ctx, run_b, same)
    st.caption(f"Run A at CLIP τ {ctx.thresholds.clip_tau:.2f}, patch τ {ctx.thresholds.patch_tau:.2f}; run B at CLIP τ "
               f"{out['t_b'].clip_tau:.2f}, patch τ {out['t_b'].patch_tau:.2f}.")
    st.plotly_chart(figures.compare_scatter(out["refs"], metric, ctx.run_id, run_b), key="cmp_scatter")
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Do the rankings survive?")
        st.dataframe(out["rankings"], hide_index=True, width="stretch")
        st.subheader("Per-image agreement")
        st.dataframe(out["agreement"], hide_index=True, width="stretch")
    with c2:
        st.subheader("References that move most (CRT, mean over models)")
        st.dataframe(out["movers"], hide_index=True, width="stretch")
