import streamlit as st

from iconicity_core.dashboard import live, page, widgets

with page("Overview") as ctx:
    ss = st.session_state
    variants = ctx.options["variants"]
    if ss.get("ov_variant") not in variants:
        ss["ov_variant"] = "title" if "title" in variants else variants[0]
    if ss.get("ov_kind") not in ("all", "static", "dynamic"):
        ss["ov_kind"] = "all"
    shown = live.view(ctx, "overview", {"kind": ss["ov_kind"], "variant": ss["ov_variant"]})
    if shown.open_ref in ctx.options["slugs"]:
        ss["ref"] = shown.open_ref
        st.switch_page("pages/references.py")
    widgets.run_details(ctx)
