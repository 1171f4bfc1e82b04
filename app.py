"""Iconicity Explorer dashboard.  streamlit run app.py [-- --db results.duckdb]"""
import streamlit as st

from iconicity_core import ui

st.set_page_config(page_title="Iconicity Explorer", page_icon="🖼️", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
    st.Page("pages/references.py", title="References", icon="🗂️"),
    st.Page("pages/patches.py", title="Patch matches", icon="🧩"),
    st.Page("pages/thresholds.py", title="Thresholds", icon="🎚️"),
    st.Page("pages/correlations.py", title="Correlations", icon="📈"),
    st.Page("pages/variants.py", title="Prompt variants", icon="✏️"),
    st.Page("pages/export.py", title="Export", icon="📤"),
]

with st.sidebar:
    ui.sidebar()
st.navigation(PAGES).run()
