"""Streamlit widgets shared by ``app.py`` and every page: the sidebar (database, run, thresholds,
pooling, filters), the URL mirror, notices, reference / image pickers and the provenance line.

Shared state lives in ``st.session_state`` under the keys of :class:`state.ViewState` and is mirrored
in ``st.query_params`` as plain values, so a copied URL reproduces the view. The database is opened
read-only only when what it holds may have changed (see :mod:`.cache`), so a CLI writer is never locked
out between interactions.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from .. import db as database
from ..config import run_thresholds
from ..core import metrics as K
from . import cache, databases, live, state

#: The dashboard's pages: file, title, icon (app.py builds the navigation along the top from it, in this order).
PAGES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/references.py", "References", ":material/photo_library:"),
    ("pages/patches.py", "Patch matches", ":material/grid_on:"),
    ("pages/thresholds.py", "Thresholds", ":material/tune:"),
    ("pages/correlations.py", "Correlations", ":material/trending_up:"),
    ("pages/map.py", "Map", ":material/scatter_plot:"),
    ("pages/similar.py", "Find similar", ":material/image_search:"),
    ("pages/variants.py", "Prompt variants", ":material/edit_note:"),
    ("pages/compare.py", "Compare runs", ":material/compare_arrows:"),
    ("pages/label.py", "Label", ":material/label:"),
    ("pages/export.py", "Export", ":material/download:"),
)
NOTICES = "_notices"
ENTRY_FLAG = "_entry_ran"
INIT_FLAG = "_initialised"


def _notice(msg: str) -> None:
    st.session_state.setdefault(NOTICES, []).append(msg)


def show_notices() -> None:
    """Show (once) the notices about ignored URL values. They repeat text from the URL, so they are
    shown as plain text (``st.text``: no Markdown, no links, no images), under one warning."""
    notes = st.session_state.pop(NOTICES, [])
    if notes:
        st.warning("Some values in the link were ignored (shown as plain text below).", icon="⚠️")
        for msg in notes:
            st.text(msg)


def _db_options() -> dict[str, Path]:
    return databases.options(sys.argv[1:])


def _init_from_url(opts: dict[str, Path]) -> None:
    """Copy validated URL parameters into session state (once per session)."""
    ss = st.session_state
    if ss.get(INIT_FLAG):
        return
    qp = st.query_params
    view, notes = state.parse({k: qp.get_all(k) for k in qp}, list(opts))
    for n in notes:
        _notice(n)
    for k, v in asdict(view).items():
        if k != "given":
            ss[k] = list(v) if isinstance(v, tuple) else v
    ss["_given"] = set(view.given)                # thresholds from the URL win over the run's defaults
    page, more = state.parse_page({k: qp.get_all(k) for k in qp})
    for k, v in page.items():
        ss[k] = v
    for n in more:
        _notice(n)
    ss["_url_checked"] = False
    ss[INIT_FLAG] = True


def current_view():
    """Open the chosen database's metadata (building the demo on first start); returns
    ``(path, choices, run_info)`` or None after showing why it cannot be opened."""
    opts = _db_options()
    _init_from_url(opts)
    ss = st.session_state
    path = opts.get(ss["db"], next(iter(opts.values())))
    failed = ss.get(DEMO_FAILED)
    if failed and failed[0] == str(path):           # this run's first start could not build it: say why, once a page
        st.error(failed[1])
        return None
    try:
        if databases.needs_demo(path):
            _build_demo(path)
        choices, infos = cache.meta(str(path), cache.file_version(path))
    except Exception as e:
        msg = opening_error(e, path)
        if msg is None:
            raise
        st.error(msg)
        return None
    current = state.ViewState(db=ss["db"], run=ss.get("run"), ref=ss.get("ref"),
                              models=tuple(ss.get("models", ())), kinds=tuple(ss.get("kinds", ())),
                              variants=tuple(ss.get("variants", ())))
    checked, notes = state.restrict(current, choices)
    if not ss.get("_url_checked"):
        for n in notes:
            _notice(n)
        ss["_url_checked"] = True
    for k in ("run", "ref", *state.LIST_KEYS):
        v = getattr(checked, k)
        ss[k] = list(v) if isinstance(v, tuple) else v
    info = infos.get(ss["run"]) if ss["run"] else None
    if info is not None and ss.get("_op_run") != ss["run"]:
        _apply_operating_point(info)
    return path, choices, info


#: A denser page than Streamlit's default (static CSS, no data in it): the first screen shows the point.
COMPACT_CSS = """<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
h1 {font-size: 2rem !important; padding-top: 0 !important; padding-bottom: 0.2rem !important;}
</style>"""


def compact() -> None:
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)


DEMO_FAILED = "_demo_failed"


def opening_error(e: BaseException, path: Path) -> str | None:
    """The one line the page shows when the chosen database cannot be opened (or the demo cannot be built):
    the project's own errors and OS errors say what to do; a DuckDB error on a damaged file says so. None for
    anything else (a bug: re-raised)."""
    import duckdb

    from ..errors import DatabaseBusy, IconicityError

    if isinstance(e, DatabaseBusy):
        return f"{e} (the page opens it as soon as it is free: reload in a moment)"
    if isinstance(e, IconicityError):
        return str(e)
    if isinstance(e, OSError):
        where = e.filename or path
        return (f"cannot use {where} ({e.strerror or e}) — check that the data folder ($ICONICITY_DATA, "
                f"{path.parent}) is a folder you can write to, or open another database with --db")
    if isinstance(e, duckdb.Error):
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return f"{path} cannot be read ({first}) — is it damaged or truncated? Open a backup copy"
    return None


def first_start() -> None:
    """Build the demo database in the main area when it is the chosen database and it is missing (or was built
    by another version). Call before the sidebar is drawn. When it cannot be built (or another process is
    writing it), the pages say why (:func:`current_view`) instead of failing."""
    opts = _db_options()
    _init_from_url(opts)
    path = opts.get(st.session_state["db"], next(iter(opts.values())))
    st.session_state.pop(DEMO_FAILED, None)
    try:
        if databases.needs_demo(path):
            _build_demo(path)
    except Exception as e:
        msg = opening_error(e, path)
        if msg is None:
            raise
        st.session_state[DEMO_FAILED] = (str(path), msg)


def _build_demo(path: Path) -> None:
    """First start: build the demo in the main area, with what it is and a progress bar (about 45 s)."""
    box = st.empty()
    try:
        with box.container():
            st.title("Iconicity Explorer")
            st.markdown("**First start: building the demo database** (about 45 seconds, offline). It scores 1,600 "
                        "images of four simulated text-to-image models against ten freely licensed reference images, "
                        "so every page has something to show.")
            bar = st.progress(0.0, "starting…")
            databases.ensure_demo(path, lambda f, m: bar.progress(min(1.0, f), m))
    finally:
        box.empty()


def _apply_operating_point(info: dict) -> None:
    """Start at the run's thresholds (its embedders' defaults, recorded with the run) — except those
    the URL set — and take its threshold rule. Called before the sliders are drawn."""
    ss = st.session_state
    t = run_thresholds(info.get("config"))
    given = ss.pop("_given", set())
    for k, v in (("clip_tau", t.clip_tau), ("clip_tau_dynamic", t.dynamic_tau), ("patch_tau", t.patch_tau)):
        if k not in given:
            ss[k] = round(float(v), 2)
    ss["rule"] = t.rule
    ss["_op_run"] = ss["run"]
    live.bump()


def _db_changed() -> None:
    """Callback (runs before the script): another database — its first run, at that run's operating point,
    applied by :func:`current_view` before any slider is drawn."""
    ss = st.session_state
    ss["db"], ss["run"], ss["ref"] = ss["w_db"], None, None
    for k in ("_op_run", "image", "similar_to", "w_run"):
        ss.pop(k, None)
    for k in state.LIST_KEYS:
        ss[k] = []
    live.bump()


def _run_changed() -> None:
    """Callback (runs before the script): another scoring run of the same database — at its operating
    point, applied before the sliders are drawn (applying it after raised StreamlitWidgetAlreadyInstantiated)."""
    ss = st.session_state
    ss["run"] = ss["w_run"]
    ss.pop("_op_run", None)


def sidebar() -> None:
    """The shared sidebar (drawn by ``app.py`` on every run, or by a page run on its own)."""
    opts = _db_options()
    _init_from_url(opts)
    ss = st.session_state
    names = list(opts)
    ss["db"] = st.selectbox("Database", names, index=names.index(ss["db"]) if ss["db"] in names else 0,
                            key="w_db", on_change=_db_changed,
                            help="$ICONICITY_DATA/*.duckdb, or `streamlit run app.py -- --db FILE`")
    view = current_view()
    if view is None:
        return
    _, choices, info = view
    if choices["runs"]:
        if ss.get("w_run") not in choices["runs"]:
            ss.pop("w_run", None)
        ss["run"] = st.selectbox("Scoring run", choices["runs"], index=choices["runs"].index(ss["run"]), key="w_run",
                                 on_change=_run_changed)
        info = cache.meta(str(view[0]), cache.file_version(view[0]))[1][ss["run"]]
        from ..core.display import embedder_name

        lit = state.literal
        st.caption(f"recognition: {lit(embedder_name(info['clip_info']))}  \n"
                   f"realization: {lit(embedder_name(info['dino_info']))} ({lit(info['patch_mode'])}, {lit(info['grid'])})")
    if info is not None:
        live.sidebar(view[0], ss["run"], choices)
    sync_url()


def sync_url() -> None:
    """Mirror the shared state into the URL (plain values only; rewritten only when it changed)."""
    ss = st.session_state
    view = state.ViewState(db=ss["db"], run=ss.get("run"), ref=ss.get("ref"), clip_tau=ss["clip_tau"],
                           clip_tau_dynamic=ss["clip_tau_dynamic"], patch_tau=ss["patch_tau"], pooling=ss["pooling"],
                           match=ss.get("match", "any"),
                           models=tuple(ss["models"]), kinds=tuple(ss["kinds"]), variants=tuple(ss["variants"]))
    params = state.to_params(view) | state.page_params(ss)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: (v if isinstance(v, list) else [v]) for k, v in params.items()}:
        st.query_params.from_dict(params)


def apply_thresholds(clip_tau: float, patch_tau: float) -> None:
    """Button callback: move the sidebar's threshold sliders (runs before the next script run)."""
    for k, v in (("clip_tau", clip_tau), ("clip_tau_dynamic", clip_tau), ("patch_tau", patch_tau)):
        st.session_state[k] = round(float(v), 2)
    live.bump()


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
                          args=(f"{key}_image", "image"), format_func=dict(zip(ids, labels)).get)
    st.session_state["image"] = choice
    return slug, st.session_state["image"], gal


def settings_line(ctx) -> str:
    """The active settings in words, for the main area of every page (a screenshot carries them)."""
    t, f = ctx.thresholds, ctx.filters
    cmp = K.symbol(t.rule)
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
NAME_COLUMNS = ("metric", "threshold", "covariate", "column", "term")


def show_table(df, key: str | None = None, formats: dict | None = None, **kw):
    """``st.dataframe`` with the columns people read: headers in words (:func:`..core.display.column_label`), the
    project's names among the values in words too (``cra`` → CRA, ``clip_tau`` → recognition τ), fractions to three
    decimals, counts as integers, p-values as :func:`fmt_p` text, and an undefined number as "–" (never "None")."""
    import pandas as pd

    from ..core.display import column_label

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
