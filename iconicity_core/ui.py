"""Streamlit glue shared by ``app.py`` and every page: database choice, shared state, sidebar.

Shared state lives in ``st.session_state`` (widget keys below) and is mirrored in
``st.query_params`` as plain values, so a copied URL reproduces the view. URL values are checked
against allow-lists; bad ones fall back to defaults with a notice. Each page opens its own
read-only connection (:func:`page`) and closes it when it is done, so a CLI writer is never locked
out between interactions.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from . import store
from .queries import Filters, Thresholds
from .views import choices, run_info

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEMO_DB = DATA_DIR / "demo.duckdb"
FLOAT_KEYS = {"clip_tau": 0.70, "clip_tau_dynamic": 0.70, "patch_tau": 0.60}
LIST_KEYS = ("models", "kinds", "variants")
POOLINGS = ("recognised", "all")
NOTICES = "_notices"
ENTRY_FLAG = "_entry_ran"


@dataclass
class Context:
    con: object
    db: Path
    run_id: str
    info: dict
    thresholds: Thresholds
    filters: Filters
    options: dict = field(default_factory=dict)


def _cli_db() -> Path | None:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--db")
    args, _ = ap.parse_known_args(sys.argv[1:])
    return Path(args.db).expanduser().resolve() if args.db else None


def db_options() -> dict[str, Path]:
    """The databases a user may pick: ``--db``/``ICONICITY_DB`` and every ``data/*.duckdb``."""
    opts: dict[str, Path] = {}
    for p in (_cli_db(), Path(os.environ["ICONICITY_DB"]).resolve() if os.environ.get("ICONICITY_DB") else None):
        if p is not None:
            opts[p.name] = p
    for p in sorted(DATA_DIR.glob("*.duckdb")):
        opts.setdefault(p.name, p.resolve())
    opts.setdefault(DEMO_DB.name, DEMO_DB)
    return opts


def _notice(msg: str) -> None:
    st.session_state.setdefault(NOTICES, []).append(msg)


def _init_from_url(opts: dict[str, Path]) -> None:
    """Copy validated URL parameters into session state (once per session)."""
    if st.session_state.get("_initialised"):
        return
    qp = st.query_params
    name = qp.get("db")
    if name is not None and name not in opts:
        _notice(f"unknown database {name!r} in the URL — showing {next(iter(opts))}")
        name = None
    st.session_state["db"] = name or next(iter(opts))
    for k, default in FLOAT_KEYS.items():
        st.session_state[k] = default
        if k in qp:
            try:
                v = round(float(qp[k]), 2)
                if not 0.0 <= v <= 1.0:
                    raise ValueError
                st.session_state[k] = v
            except ValueError:
                _notice(f"ignored {k}={qp[k]!r} from the URL (must be a number in [0, 1])")
    if "clip_tau_dynamic" not in qp:
        st.session_state["clip_tau_dynamic"] = st.session_state["clip_tau"]
    pooling = qp.get("pooling", "recognised")
    if pooling not in POOLINGS:
        _notice(f"ignored pooling={pooling!r} from the URL (recognised or all)")
        pooling = "recognised"
    st.session_state["pooling"] = pooling
    for k in LIST_KEYS + ("run", "ref"):
        if k in qp:
            st.session_state[f"_url_{k}"] = qp.get_all(k) if k in LIST_KEYS else qp[k]
    st.session_state["_initialised"] = True


def _validate_lists(opts: dict) -> None:
    """Check list filters and ids from the URL against what the database holds."""
    for k in LIST_KEYS:
        if f"_url_{k}" in st.session_state:
            vals = st.session_state.pop(f"_url_{k}")
            bad = [v for v in vals if v not in opts[k]]
            if bad:
                _notice(f"ignored unknown {k} {bad} from the URL")
            st.session_state[k] = [v for v in vals if v in opts[k]]
        st.session_state.setdefault(k, [])
        st.session_state[k] = [v for v in st.session_state[k] if v in opts[k]]
    run = st.session_state.pop("_url_run", None)
    if run is not None and run not in opts["runs"]:
        _notice(f"ignored unknown run {run!r} from the URL")
        run = None
    if run is not None:
        st.session_state["run"] = run
    if st.session_state.get("run") not in opts["runs"]:
        st.session_state["run"] = opts["runs"][0] if opts["runs"] else None
    ref = st.session_state.pop("_url_ref", None)
    if ref is not None:
        if ref in opts["slugs"]:
            st.session_state["ref"] = ref
        else:
            _notice(f"ignored unknown reference {ref!r} from the URL")


def sync_url() -> None:
    """Mirror the shared state into the URL (plain values only)."""
    ss = st.session_state
    params: dict = {"db": ss["db"], "pooling": ss["pooling"]}
    for k in FLOAT_KEYS:
        params[k] = f"{ss[k]:.2f}"
    for k in LIST_KEYS:
        if ss.get(k):
            params[k] = list(ss[k])
    for k in ("run", "ref"):
        if ss.get(k):
            params[k] = ss[k]
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: (v if isinstance(v, list) else [v]) for k, v in params.items()}:
        st.query_params.from_dict(params)


def ensure_demo(path: Path) -> None:
    """Build the demo database on first start (with a progress bar)."""
    if path.resolve() != DEMO_DB.resolve() or path.exists():
        return
    from .demo.build import build_demo

    bar = st.progress(0.0, "First start: building the demo database (about a minute, offline)…")
    build_demo(path, progress=lambda f, m: bar.progress(min(1.0, f), m), quiet=True)
    bar.empty()


def _open_chosen():
    """The chosen database (built first if it is the missing demo), opened read-only; shows the
    error and returns ``(path, None)`` when it cannot be opened."""
    opts = db_options()
    _init_from_url(opts)
    db = opts.get(st.session_state["db"], next(iter(opts.values())))
    ensure_demo(db)
    try:
        return db, store.connect(db, read_only=True)
    except (store.DatabaseBusy, FileNotFoundError) as e:
        st.error(str(e))
        return db, None


@contextlib.contextmanager
def page(title: str):
    """Open the chosen database read-only for one page run and yield a :class:`Context`.

    A page run without ``app.py`` before it (Streamlit serves a deep link to a freshly started server
    from the ``pages/`` folder directly; ``AppTest.switch_page`` runs the page alone) draws the shared
    sidebar itself, so every page works on its own."""
    if not st.session_state.pop(ENTRY_FLAG, False):
        st.set_page_config(page_title="Iconicity Explorer", layout="wide")
        with st.sidebar:
            sidebar()
    db, con = _open_chosen()
    if con is None:
        st.stop()
    try:
        values = choices(con)
        _validate_lists(values)
        for msg in st.session_state.pop(NOTICES, []):
            st.warning(msg)
        if st.session_state["run"] is None:
            st.info("This database has no scores yet — run `iconicity score DATASET --db ...` first.")
            st.stop()
        ss = st.session_state
        ctx = Context(
            con, db, ss["run"], run_info(con, ss["run"]),
            Thresholds(ss["clip_tau"], ss["clip_tau_dynamic"], ss["patch_tau"], ss["pooling"]),
            Filters(tuple(ss["models"]), tuple(ss["kinds"]), tuple(ss["variants"])), values)
        st.title(title)
        provenance(ctx)
        yield ctx
    finally:
        con.close()


def pick_reference(ctx: Context, key: str, slugs: list[str] | None = None) -> str:
    """A reference selector that starts at, and updates, the shared current reference."""
    slugs = slugs or ctx.options["slugs"]
    cur = st.session_state.get("ref")
    slug = st.selectbox("Reference", slugs, index=slugs.index(cur) if cur in slugs else 0, key=key)
    st.session_state["ref"] = slug
    return slug


def pick_generation(ctx: Context, key: str):
    """Reference + generated-image selectors (images sorted by VR), sharing the current reference and
    image; returns ``(slug, file_id, gallery)`` or stops the page when nothing is scored."""
    from .views import gallery

    slug = pick_reference(ctx, f"{key}_ref")
    gal = gallery(ctx.con, ctx.run_id, ctx.thresholds, slug, ctx.filters, "vr", True)
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


def provenance(ctx: Context) -> None:
    """Which embedders produced these scores (always visible)."""
    i = ctx.info
    text = (f"Scores from run `{i['run_id']}` — recognition: `{i['clip_key'][:60]}` · realization: "
            f"`{i['dino_key'][:60]}` · grid {i['grid']} · {i['patch_mode']} mode · VI pooled over "
            f"**{ctx.thresholds.pooling}** generations")
    st.caption(text)
    if not i["semantic"]:
        st.warning("These scores come from the weight-free **appearance baseline** (colour layout + gradient "
                   "orientations): it measures low-level visual similarity, **not semantic recognition** like "
                   "CLIP/DINOv3. Score with pretrained models for real findings.", icon="⚠️")


def sidebar() -> None:
    """The shared sidebar (called from ``app.py`` on every run)."""
    opts = db_options()
    _init_from_url(opts)
    ss = st.session_state
    names = list(opts)
    ss["db"] = st.selectbox("Database", names, index=names.index(ss["db"]) if ss["db"] in names else 0,
                            key="w_db", help="data/*.duckdb, or `streamlit run app.py -- --db FILE`")
    _, con = _open_chosen()
    if con is None:
        return
    try:
        values = choices(con)
        _validate_lists(values)
        if values["runs"]:
            ss["run"] = st.selectbox("Scoring run", values["runs"], index=values["runs"].index(ss["run"]), key="w_run")
            info = run_info(con, ss["run"])
            st.caption(f"recognition: `{info['clip_info']['model']}` ({info['clip_info']['family']})  \n"
                       f"realization: `{info['dino_info']['model']}` ({info['dino_info']['family']}, "
                       f"{info['patch_mode']}, {info['grid']})")
        ss["clip_tau"] = st.slider("CLIP τ (static)", 0.0, 1.0, ss["clip_tau"], 0.01, key="w_clip_tau",
                                   help="A generation is recognised when its best CLIP similarity is > τ.")
        ss["clip_tau_dynamic"] = st.slider("CLIP τ (dynamic)", 0.0, 1.0, ss["clip_tau_dynamic"], 0.01,
                                           key="w_clip_tau_dynamic")
        ss["patch_tau"] = st.slider("Patch τ", 0.0, 1.0, ss["patch_tau"], 0.01, key="w_patch_tau",
                                    help="A cell is reused when its best match is > τ.")
        ss["pooling"] = st.radio("VI pooled over", POOLINGS, POOLINGS.index(ss["pooling"]), key="w_pooling",
                                 horizontal=True,
                                 help="CRT = CRA × VI, with VI the mean over recognised generations or over all.")
        ss["models"] = st.multiselect("Models", values["models"], ss["models"], key="w_models",
                                      placeholder="all models")
        ss["kinds"] = st.multiselect("Kinds", values["kinds"], ss["kinds"], key="w_kinds",
                                     placeholder="static and dynamic")
        ss["variants"] = st.multiselect("Prompt variants", values["variants"], ss["variants"], key="w_variants",
                                        placeholder="all variants")
    finally:
        con.close()
    sync_url()


@st.cache_data(max_entries=4, show_spinner="Loading raw similarities…")
def _sweep_data(db: str, mtime: float, run_id: str, filters: tuple, pooling: str) -> dict:
    import numpy as np

    from . import sweeps
    from .views import raw_images

    con = store.connect(db, read_only=True)
    try:
        images, cells = raw_images(con, run_id, Filters(*filters))
    finally:
        con.close()
    taus = np.round(np.linspace(0, 1, 101), 2)
    grid_taus = np.round(np.linspace(0.3, 0.9, 7), 2)
    empty = images.empty
    return {"images": images, "cells": cells,
            "cra": None if empty else sweeps.cra_curve(images, taus),
            "vr": None if empty else sweeps.vr_curve(images, cells, taus),
            "grid": None if empty else sweeps.crt_grid(images, cells, grid_taus, grid_taus, pooling)}


def sweep_data(ctx: Context) -> dict:
    """Raw per-image numbers and the threshold sweeps for the Thresholds page, cached per database
    file version, run, filters and pooling (the sweeps do not depend on the current thresholds)."""
    f = ctx.filters
    return _sweep_data(str(ctx.db), ctx.db.stat().st_mtime, ctx.run_id, (f.models, f.kinds, f.variants, f.slugs),
                       ctx.thresholds.pooling)
