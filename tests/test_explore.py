"""Exploring a run: the map of its images (computed once, stored beside the database), find similar,
compare two runs, and labelling into a sidecar the scores database never sees."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import BASELINE, cli, fresh_app, invoke
from streamlit.testing.v1 import AppTest

from iconicity_core import db
from iconicity_core.analysis import maps
from iconicity_core.io import labels


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _open(database: Path, monkeypatch, page: str | None = None, **state) -> AppTest:
    at = fresh_app(database, monkeypatch)
    assert not at.exception, at.exception
    for k, v in state.items():
        at.session_state[k] = v
    if page:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
    return at


@pytest.fixture
def demo_copy(small_demo_db, tmp_path) -> Path:
    database = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, database)
    return database


@pytest.fixture
def scored(small_dataset, tmp_path) -> Path:
    """The small dataset (exact copies, shuffled tiles, unrelated images), every embedding kept."""
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    return database


def _file_id(database: Path, relpath: str) -> str:
    con = db.connect(database, read_only=True)
    try:
        return con.execute("SELECT file_id FROM files WHERE relpath = ?", [relpath]).fetchone()[0]
    finally:
        con.close()


def _run(database: Path) -> str:
    con = db.connect(database, read_only=True)
    try:
        return db.runs.resolve(con, None)
    finally:
        con.close()


def _relpaths(database: Path) -> list[str]:
    con = db.connect(database, read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT relpath FROM files WHERE role = 'generation' ORDER BY relpath "
                                          "LIMIT 5").fetchall()]
    finally:
        con.close()


def test_every_explore_page_renders(demo_copy, monkeypatch):
    for page in ("pages/map.py", "pages/similar.py", "pages/compare.py", "pages/label.py"):
        _open(demo_copy, monkeypatch, page)


def test_the_map_is_computed_once_stored_beside_the_database_and_read_back(demo_copy, monkeypatch):
    out = cli("map", "--db", demo_copy)
    con = db.connect(demo_copy, read_only=True)
    run = db.runs.resolve(con, None)
    kinds = list(db.runs.table(con)["kind"])
    n_files = len(db.views.map_files(con, run))
    con.close()
    path = maps.sidecar(demo_copy, run, "pca")
    assert path.is_file()
    assert str(path) in out
    stored = pd.read_parquet(path)
    assert list(stored.columns) == ["image_id", "x", "y"]
    assert stored["image_id"].is_unique
    assert 0 < len(stored) <= n_files
    assert stored[["x", "y"]].notna().all().all()
    assert "map" in kinds
    mtime, digest = path.stat().st_mtime_ns, sha(demo_copy)
    at = _open(demo_copy, monkeypatch, "pages/map.py")
    assert len(at.get("plotly_chart")) == 1
    assert path.stat().st_mtime_ns == mtime                       # read, not recomputed
    assert sha(demo_copy) == digest                               # and the database is untouched

    path.unlink()                                                 # without it the page computes and stores it
    _open(demo_copy, monkeypatch, "pages/map.py")
    again = pd.read_parquet(path)
    pd.testing.assert_frame_equal(again, stored)                  # deterministic

    stored.iloc[1:].to_parquet(path)                              # a map from before a resumed run added images
    _open(demo_copy, monkeypatch, "pages/map.py")
    pd.testing.assert_frame_equal(pd.read_parquet(path), stored)  # mapped again, every image on it


def test_map_without_kept_embeddings_says_what_to_do(small_dataset, tmp_path, monkeypatch):
    database = tmp_path / "refs_only.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--keep-embeddings", "none")
    r = invoke("map", "--db", database)
    assert r.exit_code != 0
    assert "--keep-embeddings all" in r.output
    at = _open(database, monkeypatch, "pages/map.py")
    assert any("--keep-embeddings all" in i.value for i in at.info)


def test_find_similar_puts_identical_images_first(scored, monkeypatch):
    copy = _file_id(scored, "generations/model_a/mona/copy.png")
    at = _open(scored, monkeypatch, "pages/similar.py", similar_to=copy)
    near = at.dataframe[0].value
    top = near.head(2)
    assert (top["cosine"] > 0.9999).all(), near
    assert set(top["image"]) == {"generations/model_b/mona/copy.png", "references/mona/mona.png"}
    assert (near["cosine"].diff().dropna() <= 1e-9).all()        # best first
    assert "generations/model_a/mona/copy.png" not in set(near["image"])     # not itself

    # reached from the patch view and from the References gallery too
    at = _open(scored, monkeypatch, "pages/patches.py", ref="mona", image=copy)
    at.button(key="pm_similar").click().run()
    assert at.session_state["similar_to"] == copy
    assert not at.exception
    assert any("Find similar" in t.value for t in at.title)
    at = _open(scored, monkeypatch, "pages/references.py", ref="mona")
    at.button(key=f"sim_{copy}").click().run()
    assert at.session_state["similar_to"] == copy
    assert any("Find similar" in t.value for t in at.title)


def test_compare_runs_agrees_with_itself_and_sees_a_different_grid(scored, small_dataset, monkeypatch):
    cli("score", small_dataset, "--db", scored, *BASELINE, "--threshold-rule", "ge")   # same similarities
    at = _open(scored, monkeypatch, "pages/compare.py")
    runs = at.selectbox(key="cmp_run").options
    assert len(runs) == 1
    at.toggle(key="cmp_same").set_value(True).run()
    agreement = at.dataframe[1].value
    assert (agreement["agree"] == 1.0).all(), agreement
    movers = at.dataframe[2].value
    assert len(movers) == 2, movers
    assert (movers["change"] == 0).all(), movers

    cli("score", small_dataset, "--db", scored, *BASELINE, "--grid", "2x2")
    # low thresholds for both runs: the tiny dataset recognises little at the baseline's operating point
    at = _open(scored, monkeypatch, "pages/compare.py", clip_tau=0.2, clip_tau_dynamic=0.2, patch_tau=0.3)
    at.toggle(key="cmp_same").set_value(True).run()
    con = db.connect(scored, read_only=True)
    other = [r for r in db.runs.score_run_ids(con) if r != at.session_state["run"]]
    con.close()
    assert len(at.selectbox(key="cmp_run").options) == len(other) == 2
    changed = False
    for r in other:
        at.selectbox(key="cmp_run").set_value(r).run()
        refs = at.get("plotly_chart")
        assert refs
        assert not at.exception
        changed |= bool((at.dataframe[2].value["change"].abs() > 1e-9).any())
    assert changed                                                # a different grid moves some reference's CRT


def test_labelling_writes_the_sidecar_only_and_evaluate_reads_it(demo_copy, monkeypatch):
    digest = sha(demo_copy)
    at = _open(demo_copy, monkeypatch, "pages/label.py")
    at.text_input(key="label_who").set_value("ana").run()
    at.button(key="lab_replica").click().run()
    at.button(key="lab_skip").click().run()
    at.button(key="lab_miss").click().run()
    got = labels.rows(demo_copy)
    assert [r["label"] for r in got] == ["replica", "miss"]
    assert {r["who"] for r in got} == {"ana"}
    assert got[0]["file_id"] != got[1]["file_id"]                  # the queue moved on
    assert sha(demo_copy) == digest

    # the CLI sees them: export, then evaluate uses the sidecar over the database's labels
    exported = cli("labels", "export", "--db", demo_copy)
    assert exported.splitlines()[0] == "image,label"
    assert len(exported.splitlines()) == 3
    extra = demo_copy.parent / "more.csv"
    first = got[0]["image"]
    extra.write_text(f"image,label\n{first},partial\nnot/a/file.png,replica\nbroken,whatever\n")
    out = invoke("labels", "import", "--db", demo_copy, extra)
    assert out.exit_code == 0, out.output
    assert labels.current(demo_copy)[first] == "partial"             # the latest labelling wins
    assert "whatever" in out.output
    assert "not/a/file.png" in out.output
    assert "not/a/file.png" not in labels.current(demo_copy)
    assert "1 label(s) added" in out.output
    assert sha(demo_copy) == digest

    # the dashboard sees the import (by path) over its own earlier label (by file): the latest wins
    from iconicity_core.dashboard import cache

    version = cache.file_version(demo_copy)
    seen = cache.sidecar_labels(str(demo_copy), version, cache.file_version(labels.sidecar(demo_copy)),
                                _run(demo_copy))
    assert seen[got[0]["file_id"]] == "partial"
    assert seen[got[1]["file_id"]] == "miss"


def test_importing_labels_in_the_dashboard_names_every_row_it_skips(demo_copy):
    from types import SimpleNamespace

    from iconicity_core.dashboard import cache, labeller

    ctx = SimpleNamespace(db=demo_copy, key=(str(demo_copy), cache.file_version(demo_copy)))
    image = _relpaths(demo_copy)[0]
    csv = f"image,label\n{image},miss\nnope.png,replica\n{image}x,maybe\n".encode()
    n, problems = labeller.import_labels(ctx, csv, "mine.csv", "ana")
    assert n == 1
    assert labels.current(demo_copy) == {image: "miss"}
    assert [p[0] for p in problems] == ["mine.csv:4", "nope.png"]
    n, problems = labeller.import_labels(ctx, b"picture,verdict\na.png,miss\n", "wrong.csv", "ana")
    assert n == 0
    assert problems[0][0] == "wrong.csv"
    assert "image,label" in problems[0][1]
    n, problems = labeller.import_labels(ctx, b"\xff\xfe\x00garbage", "binary.csv", "ana")
    assert n == 0
    assert problems
    assert labels.current(demo_copy) == {image: "miss"}


def test_sidecar_labels_override_the_database_in_calibrate(demo_copy):
    con = db.connect(demo_copy, read_only=True)
    rows = con.execute("SELECT relpath FROM files WHERE label = 'replica' ORDER BY relpath LIMIT 40").fetchall()
    con.close()
    import json

    before = json.loads(cli("calibrate", "--db", demo_copy, "--format", "json"))
    labels.append(demo_copy, [(r[0], "miss", "", "test") for r in rows])   # contradict 40 replicas
    after = json.loads(cli("calibrate", "--db", demo_copy, "--format", "json"))
    assert before != after


def test_a_region_selects_every_mapped_image_inside_it_drawn_or_not():
    import numpy as np

    from iconicity_core.analysis.maps import drawn as map_drawn
    from iconicity_core.analysis.maps import selected as map_selection

    rng = np.random.default_rng(3)
    pts = pd.DataFrame({"x": rng.uniform(-1, 1, 5000), "y": rng.uniform(-1, 1, 5000),
                        "role": np.where(np.arange(5000) < 40, "reference", "generation")})
    drawn = map_drawn(pts, 500)
    assert len(drawn) == 500
    assert (drawn["role"] == "reference").sum() == 40
    assert drawn.index.equals(map_drawn(pts, 500).index)                   # the same sample every time
    box = {"box": [{"x": [0.5, 0.0], "y": [0.0, 0.5]}], "lasso": [], "points": []}
    got = map_selection(pts, box)
    want = pts[(pts.x >= 0) & (pts.x <= 0.5) & (pts.y >= 0) & (pts.y <= 0.5)]
    assert got.index.equals(want.index)
    assert len(got) > len(got.index.intersection(drawn.index))
    tri = {"lasso": [{"x": [0, 1, 0], "y": [0, 0, 1]}], "points": [{"customdata": 7}]}
    got = map_selection(pts, tri)
    inside = (pts.x > 0) & (pts.y > 0) & (pts.x + pts.y < 1)
    assert set(got.index) == set(pts.index[inside]) | {7}
    assert map_selection(pts, None).empty
    assert map_selection(pts, {"points": [{"customdata": 10**6}]}).empty


def _label_many(database: str, who: str, n: int) -> None:
    for i in range(n):
        labels.append(database, [(f"gen/{who}/{i}.png", "miss", "", who)])


def test_people_labelling_at_once_lose_no_label(tmp_path):
    import multiprocessing as mp

    database = str(tmp_path / "s.duckdb")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_label_many, args=(database, f"p{k}", 15)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(labels.rows(database)) == 60
    assert len(labels.current(database)) == 60


def test_labelling_from_the_patch_view_writes_the_sidecar_only(demo_copy, monkeypatch):
    digest = sha(demo_copy)
    at = _open(demo_copy, monkeypatch, "pages/patches.py")
    at.button(key="pm_lab_partial").click().run()
    assert not at.exception
    got = labels.rows(demo_copy)
    assert [r["label"] for r in got] == ["partial"]
    assert got[0]["file_id"]
    assert any(c.value.startswith("Your label: partial.") for c in at.caption)     # the popover shows it
    assert sha(demo_copy) == digest


def test_the_label_queue_spreads_over_models_and_similarity_and_skips_what_is_labelled():
    import numpy as np

    from iconicity_core.analysis.engine import Arrays, Engine
    from iconicity_core.analysis.label_queue import label_queue

    rng = np.random.default_rng(1)
    n = 150                                                             # 3 models x 50 images, 10 labelled each
    model = np.repeat(["m-a", "m-b", "m-c"], 50)
    label = np.array([("replica" if i % 5 == 0 else None) for i in range(n)], object)
    eng = Engine(Arrays.from_columns({
        "file_id": np.array([f"f{i:05d}" for i in range(n)]), "model": model.astype(object),
        "slug": np.array([f"w{i % 7}" for i in range(n)], object), "variant": np.array(["title"] * n, object),
        "label": label, "sim": rng.random(n), "cells": rng.random(n * 16).astype(np.float32),
        "kinds": {f"w{k}": "static" for k in range(7)}}))
    mask = np.ones(n, bool)
    mask[140:] = False                                                  # filtered out
    done = {"f00001", "f00052"}                                         # labelled in the sidecar
    q = label_queue(eng, mask, done, n=60, seed=0)
    rows = eng.rows_of(q)
    assert len(q) == len(set(q)) == 60
    assert not done & set(q)
    assert (rows < 140).all()
    assert all(label[r] is None for r in rows)
    first = rows[:15]                                                   # one per (CLIP-similarity quintile, model)
    for m in ("m-a", "m-b", "m-c"):
        pool = np.flatnonzero(mask & (model == m) & (label == None))    # noqa: E711
        pool = pool[~np.isin(eng.a.file_id[pool].astype(str), sorted(done))]
        quintile = np.searchsorted(np.quantile(eng.a.clip[pool], [0.2, 0.4, 0.6, 0.8]), eng.a.clip[first])
        assert sorted(quintile[model[first] == m]) == [0, 1, 2, 3, 4], m
    assert label_queue(eng, mask, done, n=60, seed=0) == q
    assert label_queue(eng, mask, done, n=60, seed=1) != q
    everything = label_queue(eng, mask & (label != None), set(), n=500)  # noqa: E711  only labelled images left
    assert sorted(everything) == sorted(eng.a.file_id[mask & (label != None)].astype(str))  # noqa: E711


def test_the_labels_sidecar_is_spreadsheet_safe_and_read_back_exactly(tmp_path):
    """Image paths a spreadsheet would run (``=…``, ``@…``, ``+…``, ``-…``, and a path that itself starts with
    ``'=``) go into DB.labels.csv neutralised — by `labels import` as by the Label page — and come back exactly."""
    import csv
    import io
    from types import SimpleNamespace

    from helpers import build_small_dataset, save, texture

    from iconicity_core.dashboard import cache, labeller
    from iconicity_core.io.csvfiles import FORMULA_START, neutralise

    root = build_small_dataset(tmp_path / "ds")
    names = ["=HYPERLINK(1).png", "@SUM(1).png", "+1.png", "-1.png", "'=quoted.png"]
    for i, name in enumerate(names):                        # at the dataset's root: the relative path is the name
        save(texture(900 + i), root / name)
    with open(root / "generations.csv", "w", newline="") as g:
        csv.writer(g).writerows([["path", "model", "slug"], *[[n, "model_c", "mona"] for n in names]])
    database = tmp_path / "s.duckdb"
    cli("score", root, "--db", database, *BASELINE)
    rel = names
    f = tmp_path / "in.csv"
    buf = io.StringIO()
    csv.writer(buf).writerows([["image", "label"], *[[r, "replica"] for r in rel[:3]]])        # as a person types them
    f.write_text(buf.getvalue())
    r = invoke("labels", "import", "--db", database, f)
    assert r.exit_code == 0, r.output
    assert "3 label(s) added" in r.output, r.output
    ctx = SimpleNamespace(db=database, key=(str(database), cache.file_version(database)))
    buf = io.StringIO()
    csv.writer(buf).writerows([["image", "label"], *[[neutralise(r), "miss"] for r in rel[3:]]])  # as `labels export` writes
    n, problems = labeller.import_labels(ctx, buf.getvalue().encode(), "page.csv", "=cmd|' /C calc'!A0")
    assert n == 2
    assert not problems
    raw = list(csv.reader(io.StringIO(labels.sidecar(database).read_text())))
    assert all(not c.startswith(FORMULA_START) for row in raw for c in row), raw
    assert labels.current(database) == {**{r: "replica" for r in rel[:3]}, **{r: "miss" for r in rel[3:]}}
    assert {r["who"] for r in labels.rows(database)} == {"import", "=cmd|' /C calc'!A0"}
    exported = cli("labels", "export", "--db", database)
    assert all(not c.startswith(FORMULA_START) for row in csv.reader(io.StringIO(exported)) for c in row)
    assert labels.read_labels(_write(tmp_path / "back.csv", exported))[0] == labels.current(database)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_labels_export_of_a_sidecar_without_usable_labels_says_so(tmp_path, small_dataset):
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE)
    labels.sidecar(database).write_text("picture;verdict\nx;y\n")
    r = invoke("labels", "export", "--db", database)
    assert r.exit_code == 0
    assert r.stdout == "image,label\n"
    assert "no usable label" in r.stderr, r.stderr
    assert "problem:" in r.stderr, r.stderr
