"""Iconicity Explorer dashboard.  streamlit run app.py [-- --db results.duckdb]"""
import streamlit as st

from iconicity_core.dashboard import widgets

st.set_page_config(page_title="Iconicity Explorer", page_icon="🖼️", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/references.py", title="References", icon=":material/photo_library:"),
    st.Page("pages/patches.py", title="Patch matches", icon=":material/grid_on:"),
    st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:"),
    st.Page("pages/similar.py", title="Find similar", icon=":material/image_search:"),
    st.Page("pages/thresholds.py", title="Thresholds", icon=":material/tune:"),
    st.Page("pages/correlations.py", title="Correlations", icon=":material/trending_up:"),
    st.Page("pages/variants.py", title="Prompt variants", icon=":material/edit_note:"),
    st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
    st.Page("pages/label.py", title="Label", icon=":material/label:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
]

# Resolve the page first: widgets drawn after st.navigation get the page's identity, so the first slider
# move after landing on "/" is not lost (drawn before it, they belong to app.py on the first run only).
current = st.navigation(PAGES)
st.session_state[widgets.ENTRY_FLAG] = True      # tells the page that the shared sidebar is already drawn
with st.sidebar:
    widgets.sidebar()
current.run()
