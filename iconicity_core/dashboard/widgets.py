"""Widgets the pages share: reference and image pickers that follow the shared current reference and image, the
provenance and settings lines every page shows, tables with headers in words, and charts with their standalone
HTML download.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from .. import db as database
from ..core import metrics as kernel
from . import cache, state

#: A denser page than Streamlit's default (static CSS, no data in it): the first screen shows the point.
COMPACT_CSS = """<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
h1 {font-size: 2rem !important; padding-top: 0 !important; padding-bottom: 0.2rem !important;}
</style>"""


def compact() -> None:
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)


def _follow(widget_key: str, shared_key: str) -> None:
    """Callback: a selector moved — the shared value (in the URL) follows it."""
    st.session_state[shared_key] = st.session_state[widget_key]


def _ref_changed(widget_key: str) -> None:
    """Callback: another reference — its own images, not the image chosen for the last one."""
    st.session_state["ref"] = st.session_state[widget_key]
    st.session_state.pop("image", None)


def pick_reference(ctx, key: str, slugs: list[str] | None = None) -> str:
    """A reference selector that shows, and moves, the shared current reference (``ref`` in the URL)."""
    ss = st.session_state
    slugs = slugs or ctx.options["slugs"]
    ss[key] = ss["ref"] if ss.get("ref") in slugs else (ss.get(key) if ss.get(key) in slugs else slugs[0])
    slug = st.selectbox("Reference", slugs, key=key, on_change=_ref_changed, args=(key,))
    ss["ref"] = slug
    return slug


def pick_generation(ctx, key: str):
    """Reference + generated-image selectors (images sorted by VR), sharing the current reference and
    image (both in the URL, so a copied link shows the same image); returns ``(slug, file_id, gallery)`` or
    stops the page when nothing is scored."""
    from . import data

    cur = st.session_state.get("image")
    if cur is not None:                        # an image from a link or another page: open its reference
        row = cache.patch_matches(*ctx.key, ctx.run_id, cur)[1]
        if row is not None and row.get("slug") in ctx.options["slugs"] and row.get("clip_sim") is not None:
            st.session_state["ref"] = row["slug"]
    slug = pick_reference(ctx, f"{key}_ref")
    gal = data.gallery(ctx, slug, "vr", True)
    if gal.empty:
        st.info("No scored generations for this reference with the current filters.")
        st.stop()
    ids = gal["file_id"].tolist()
    labels = [f"{r.model} · {r.image} · VR {r.vr:.2f}" for r in gal.itertuples()]
    cur = st.session_state.get("image")
    st.session_state[f"{key}_image"] = cur if cur in ids else ids[0]
    choice = st.selectbox("Generated image (sorted by VR)", ids, key=f"{key}_image", on_change=_follow,
                          args=(f"{key}_image", "image"), format_func=dict(zip(ids, labels, strict=True)).__getitem__)
    st.session_state["image"] = choice
    return slug, st.session_state["image"], gal


def settings_line(ctx) -> str:
    """The active settings in words, for the main area of every page (a screenshot carries them)."""
    t, f = ctx.thresholds, ctx.filters
    cmp = kernel.symbol(t.rule)
    dyn = "" if t.dynamic_tau == t.clip_tau else f" (dynamic {t.dynamic_tau:.2f})"
    pool = "recognised generations" if t.pooling == "recognised" else "all generations"
    match = "best match anywhere" if t.match == "any" else "same position only"
    def which(vals, all_):
        return ", ".join(map(state.literal, vals)) if vals else all_
    return (f"**Settings** — recognised when {ctx.recognition} similarity {cmp} **{t.clip_tau:.2f}**{dyn} · cell reused "
            f"when {ctx.realization} similarity {cmp} **{t.patch_tau:.2f}** ({match}) · VI over {pool} · "
            f"models: {which(f.models, 'all')} · kinds: {which(f.kinds, 'static and dynamic')} · prompts: "
            f"{which(f.variants, 'all')}")


def provenance(ctx) -> None:
    """Which run and embedders produced these scores and the active settings, one line each (details in an
    expander); the baseline and unfinished-run notices, one line each."""
    i = ctx.info
    lit = state.literal
    baseline = "" if i["semantic"] else (" · :orange[**⚠ appearance baseline**: low-level visual similarity, not "
                                         "semantic recognition — score with CLIP + DINOv3 for findings]")
    st.caption(f"Run {lit(i['run_id'])} · recognition: **{lit(ctx.recognition)}** · realization: "
               f"**{lit(ctx.realization)}** ({lit(i['patch_mode'])} mode, {lit(i['grid'])} grid){baseline}")
    st.caption(settings_line(ctx))
    if i.get("status") not in (None, "done"):
        st.warning(f"Run {lit(i['run_id'])} is **{lit(i['status'])}**: these numbers cover only the images it "
                   "scored so far — run the same `iconicity score` command again to finish it.", icon="⚠️")
    for w in database.runs.warnings_for(i):
        if not w.startswith("status"):
            st.warning(lit(w), icon="⚠️")


def run_details(ctx) -> None:
    """The run's embedder keys and where its starting thresholds come from (an expander)."""
    i = ctx.info
    lit = state.literal
    op = (i.get("config") or {}).get("operating_point") or {}
    src = op.get("source") or {}
    with st.expander("Run details"):
        st.markdown(f"- recognition embedder: `{lit(i['clip_key'])}`\n- realization embedder: `{lit(i['dino_key'])}`"
                    + (f"\n- the thresholds start at the run's operating point: τ {op.get('clip_tau')} "
                       f"({lit(src.get('recognition', ''))}), patch τ {op.get('patch_tau')} "
                       f"({lit(src.get('realization', ''))}); links and the sidebar move them" if op else ""))


def fmt_p(p) -> str:
    """A p-value as people write it: ``< 0.001``, ``0.042``, ``1.000``; empty when undefined.

    >>> fmt_p(3e-11), fmt_p(0.0421), fmt_p(float("nan"))
    ('< 0.001', '0.042', '')
    """
    try:
        p = float(p)
    except (TypeError, ValueError):
        return ""
    if p != p:
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


#: Columns whose values are the project's own names (a metric, a threshold, a covariate): shown in words too.
NAME_COLUMNS = ("metric", "threshold", "covariate", "column", "term", "measure")


def show_table(df, key: str | None = None, formats: dict | None = None, **kw):
    """``st.dataframe`` with the columns people read: headers in words (:func:`iconicity_core.display.column_label`), the
    project's names among the values in words too (``cra`` → CRA, ``clip_tau`` → recognition τ), fractions to three
    decimals, counts as integers, p-values as :func:`fmt_p` text, and an undefined number as "–" (never "None")."""
    import pandas as pd

    from ..display import column_label

    df = df.copy()
    cfg = {}
    for c in df.columns:
        name, label = str(c), column_label(str(c))
        if name in NAME_COLUMNS and (df[c].dtype == object or pd.api.types.is_string_dtype(df[c])):
            df[c] = df[c].map(lambda v: column_label(v) if isinstance(v, str) else v)
        if name == "p" or name.startswith(("p_", "p (")) or name.endswith("_p_wilcoxon") or name.endswith("_p"):
            df[c] = df[c].map(fmt_p)
            cfg[c] = st.column_config.TextColumn(label)
        elif pd.api.types.is_bool_dtype(df[c]):
            cfg[c] = st.column_config.CheckboxColumn(label)
        elif pd.api.types.is_integer_dtype(df[c]):
            cfg[c] = st.column_config.NumberColumn(label, format="%d")
        elif pd.api.types.is_float_dtype(df[c]) and df[c].isna().any():
            fmt = (formats or {}).get(name, "%.3f")
            df[c] = df[c].map(lambda v, fmt=fmt: "–" if v != v else fmt % v)
            cfg[c] = st.column_config.TextColumn(label)
        elif pd.api.types.is_float_dtype(df[c]):
            cfg[c] = st.column_config.NumberColumn(label, format=(formats or {}).get(name, "%.3f"))
        else:
            df[c] = df[c].map(lambda v: "–" if v is None or (isinstance(v, float) and v != v) else v)
            cfg[c] = st.column_config.TextColumn(label)
    kw.setdefault("width", "stretch")
    return st.dataframe(df, hide_index=True, column_config=cfg, key=key, **kw)


def standalone_html(build: Callable, *args, **kw) -> Callable[[], str]:
    """A zero-argument callable for a download button: the figure ``build(*args, **kw)`` as one offline HTML
    file, built only when called (Streamlit calls it on another thread when the button is clicked)."""
    return functools.partial(_figure_html, build, args, kw)


def _figure_html(build: Callable, args: tuple, kw: dict) -> str:
    return build(*args, **kw).to_html(include_plotlyjs=True, full_html=True)


def chart(fig, key: str, **kw):
    """A Plotly chart with its standalone-HTML download beside it (every chart can go into a paper).

    The file (Plotly's 4.6 MB script inlined) is written only when the button is clicked, not on every rerun."""
    out = st.plotly_chart(fig, key=key, **kw)
    st.download_button("⤓ HTML", standalone_html(lambda: fig), f"{key}.html", "text/html", key=f"{key}_dl",
                       on_click="ignore", help="This chart as a standalone HTML file (works offline).")
    return out
