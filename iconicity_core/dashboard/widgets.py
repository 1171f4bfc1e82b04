"""Streamlit widgets shared by ``app.py`` and every page: the sidebar (database, run, thresholds,
pooling, filters), the URL mirror, notices, reference / image pickers and the provenance line.

Shared state lives in ``st.session_state`` under the keys of :class:`state.ViewState` and is mirrored
in ``st.query_params`` as plain values, so a copied URL reproduces the view. The database is opened
read-only only when what it holds may have changed (see :mod:`.cache`), so a CLI writer is never locked
out between interactions.
"""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from .. import db as database
from ..config import MATCHES, POOLINGS, run_thresholds
from ..core import metrics as K
from . import cache, databases, state

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
    ss["_url_checked"] = False
    ss[INIT_FLAG] = True


def current_view():
    """Open the chosen database's metadata (building the demo on first start); returns
    ``(path, choices, run_info)`` or None after showing why it cannot be opened."""
    opts = _db_options()
    _init_from_url(opts)
    ss = st.session_state
    path = opts.get(ss["db"], next(iter(opts.values())))
    if not path.exists():
        bar = st.progress(0.0, "First start: building the demo database (about a minute, offline)…")
        databases.ensure_demo(path, lambda f, m: bar.progress(min(1.0, f), m))
        bar.empty()
    try:
        choices, infos = cache.meta(str(path), cache.file_version(path))
    except (database.DatabaseBusy, FileNotFoundError, database.SchemaError) as e:
        st.error(str(e))
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


def _apply_operating_point(info: dict) -> None:
    """Start at the run's thresholds (its embedders' defaults, recorded with the run) — except those
    the URL set — and take its threshold rule. Called before the sliders are drawn."""
    ss = st.session_state
    t = run_thresholds(info.get("config"))
    given = ss.pop("_given", set())
    for k, v in (("clip_tau", t.clip_tau), ("clip_tau_dynamic", t.dynamic_tau), ("patch_tau", t.patch_tau)):
        if k not in given:
            ss[k] = round(float(v), 2)
            ss[f"w_{k}"] = ss[k]
    ss["rule"] = t.rule
    ss["_op_run"] = ss["run"]


def _db_changed() -> None:
    """Callback (runs before the script): another database — its first run, at that run's operating point,
    applied by :func:`current_view` before any slider is drawn."""
    ss = st.session_state
    ss["db"], ss["run"], ss["ref"] = ss["w_db"], None, None
    for k in ("_op_run", "image", "similar_to", "w_run"):
        ss.pop(k, None)
    for k in state.LIST_KEYS:
        ss[k] = []
        ss.pop(f"w_{k}", None)


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
        lit = state.literal
        st.caption(f"recognition: {lit(info['clip_info']['model'])} ({lit(info['clip_info']['family'])})  \n"
                   f"realization: {lit(info['dino_info']['model'])} ({lit(info['dino_info']['family'])}, "
                   f"{lit(info['patch_mode'])}, {lit(info['grid'])})")
    cmp = K.symbol(ss.get("rule", "gt"))
    for k, label, help_ in (("clip_tau", "CLIP τ (static)", f"A generation is recognised when its best CLIP similarity "
                                                              f"is {cmp} τ."),
                            ("clip_tau_dynamic", "CLIP τ (dynamic)", "The same for dynamic references (films, series)."),
                            ("patch_tau", "Patch τ", f"A cell is reused when its best match is {cmp} τ.")):
        ss.setdefault(f"w_{k}", ss[k])           # the widget's state (set from the run's defaults or the URL)
        ss[k] = st.slider(label, 0.0, 1.0, step=0.01, key=f"w_{k}", help=help_)
    ss["pooling"] = st.radio("VI pooled over", POOLINGS, POOLINGS.index(ss["pooling"]), key="w_pooling",
                             horizontal=True,
                             help="CRT = CRA × VI, with VI the mean over recognised generations or over all.")
    ss["match"] = st.radio("Patch matching", MATCHES, MATCHES.index(ss.get("match", "any")), key="w_match",
                           horizontal=True, help="any: a generated cell matches any cell of any reference image (the "
                                                 "paper); same-position: only the cell at the same grid position.")
    ss["models"] = st.multiselect("Models", choices["models"], ss["models"], key="w_models", placeholder="all models")
    ss["kinds"] = st.multiselect("Kinds", choices["kinds"], ss["kinds"], key="w_kinds",
                                 placeholder="static and dynamic")
    ss["variants"] = st.multiselect("Prompt variants", choices["variants"], ss["variants"], key="w_variants",
                                    placeholder="all variants")
    sync_url()


def sync_url() -> None:
    """Mirror the shared state into the URL (plain values only; rewritten only when it changed)."""
    ss = st.session_state
    view = state.ViewState(db=ss["db"], run=ss.get("run"), ref=ss.get("ref"), clip_tau=ss["clip_tau"],
                           clip_tau_dynamic=ss["clip_tau_dynamic"], patch_tau=ss["patch_tau"], pooling=ss["pooling"],
                           match=ss.get("match", "any"),
                           models=tuple(ss["models"]), kinds=tuple(ss["kinds"]), variants=tuple(ss["variants"]))
    params = state.to_params(view)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: (v if isinstance(v, list) else [v]) for k, v in params.items()}:
        st.query_params.from_dict(params)


def apply_thresholds(clip_tau: float, patch_tau: float) -> None:
    """Button callback: move the sidebar's threshold sliders (runs before the next script run)."""
    for k, v in (("clip_tau", clip_tau), ("clip_tau_dynamic", clip_tau), ("patch_tau", patch_tau)):
        st.session_state[k] = st.session_state[f"w_{k}"] = round(float(v), 2)


def pick_reference(ctx, key: str, slugs: list[str] | None = None) -> str:
    """A reference selector that starts at, and updates, the shared current reference."""
    slugs = slugs or ctx.options["slugs"]
    cur = st.session_state.get("ref")
    slug = st.selectbox("Reference", slugs, index=slugs.index(cur) if cur in slugs else 0, key=key)
    st.session_state["ref"] = slug
    return slug


def pick_generation(ctx, key: str):
    """Reference + generated-image selectors (images sorted by VR), sharing the current reference and
    image; returns ``(slug, file_id, gallery)`` or stops the page when nothing is scored."""
    from . import data

    slug = pick_reference(ctx, f"{key}_ref")
    gal = data.gallery(ctx, slug, "vr", True)
    if gal.empty:
        st.info("No scored generations for this reference with the current filters.")
        st.stop()
    ids = gal["file_id"].tolist()
    labels = [f"{r.model} · {r.image} · VR {r.vr:.2f}" for r in gal.itertuples()]
    cur = st.session_state.get("image")
    choice = st.selectbox("Generated image (sorted by VR)", labels, index=ids.index(cur) if cur in ids else 0,
                          key=f"{key}_image")
    st.session_state["image"] = ids[labels.index(choice)]
    return slug, st.session_state["image"], gal


def provenance(ctx) -> None:
    """Which embedders produced these scores (always visible)."""
    i = ctx.info
    lit = state.literal
    st.caption(f"Scores from run {lit(i['run_id'])} — recognition: {lit(i['clip_key'][:60])} · realization: "
               f"{lit(i['dino_key'][:60])} · grid {lit(i['grid'])} · {lit(i['patch_mode'])} mode · VI pooled over "
               f"**{ctx.thresholds.pooling}** generations")
    op = (i.get("config") or {}).get("operating_point") or {}
    src = op.get("source") or {}
    if op:
        st.caption(f"Thresholds start at the run's operating point: CLIP τ {op.get('clip_tau')} "
                   f"({lit(src.get('recognition', ''))}), patch τ {op.get('patch_tau')} "
                   f"({lit(src.get('realization', ''))}); a value {K.symbol(ctx.thresholds.rule)} τ "
                   "passes. Links and the sidebar can move them.")
    if i.get("status") not in (None, "done"):
        st.warning(f"Run {lit(i['run_id'])} is **{lit(i['status'])}**: these numbers cover only the images it "
                   "scored so far — run the same `iconicity score` command again to finish it.", icon="⚠️")
    if not i["semantic"]:
        st.warning("These scores come from a weight-free **appearance baseline** (colour layout + gradient "
                   "orientations): it measures low-level visual similarity, **not semantic recognition** like "
                   "CLIP/DINOv3. Score with pretrained models for real findings.", icon="⚠️")
