"""Iconicity Explorer dashboard.  streamlit run app.py [-- --db results.duckdb]"""
import streamlit as st

from iconicity_core.dashboard import opening, registry, sidebar

st.set_page_config(page_title="Iconicity Explorer", page_icon="🖼️", layout="wide")

PAGES = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(registry.PAGES)]

# Resolve the page first: widgets drawn after st.navigation get the page's identity, so the first slider
# move after landing on "/" is not lost (drawn before it, they belong to app.py on the first run only). The pages
# are along the top; the sidebar holds what every page reads: database, run, thresholds and filters.
current = st.navigation(PAGES, position="top")
st.session_state[opening.ENTRY_FLAG] = True      # tells the page that the shared sidebar is already drawn
opening.first_start()                            # the demo, built in the main area on the very first start
with st.sidebar:
    sidebar.sidebar()
current.run()
