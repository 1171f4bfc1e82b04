"""Hardening the exploration features: no lost labels or vectors, no file removed outside its database, no
crash on a hand-edited sidecar, escaped chart text, spreadsheet-safe CSVs, workers that die with their parent,
and numbers that do not depend on how images were batched. One test (or more) per finding of the review."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import APP, BASELINE, build_small_dataset, cli, invoke, live_data, save, texture
from streamlit.testing.v1 import AppTest

from iconicity_core import db
from iconicity_core.analysis import maps
from iconicity_core.io import labels

PIXELS = ["--clip-model", "pixels", "--dino-model", "pixels", "--quiet"]


def _con(database):
    return db.connect(database, read_only=True)


def _gen_vectors(database, key_like: str) -> int:
    con = _con(database)
    try:
        return con.execute("""SELECT count(*) FROM embeddings e WHERE e.embedder LIKE ? AND e.image_id IN
                              (SELECT image_id FROM files WHERE role = 'generation')
                              AND e.image_id NOT IN (SELECT image_id FROM files WHERE role = 'reference')""",
                           [key_like]).fetchone()[0]
    finally:
        con.close()


@pytest.fixture()
def dataset(tmp_path) -> Path:
    return build_small_dataset(tmp_path / "ds")


# -- 1. a run never deletes the vectors another run keeps -------------------------------------------------
def test_a_second_run_with_keep_none_keeps_the_vectors_a_first_run_kept(dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    kept = _gen_vectors(database, "baseline:global%")
    assert kept > 0
    # run B: the same recognition embedder, another cell embedder, nothing kept
    cli("score", dataset, "--db", database, "--clip-model", "baseline", "--dino-model", "pixels", "--quiet",
        "--keep-embeddings", "none")
    assert _gen_vectors(database, "baseline:global%") == kept            # A's CLIP vectors are still there
    assert _gen_vectors(database, "pixels:cells%") == 0                   # B's own were dropped
    con = _con(database)
    assert con.execute("SELECT count(*) FROM embeddings WHERE embedder LIKE 'pixels:cells%'").fetchone()[0] == 0
    con.close()
    # deleting run A leaves nothing that no run wants: the CLIP vectors of generated images go (B keeps none)
    run_a = [r for r in json.loads(cli("runs", "--db", database, "--format", "json"))["rows"]
             if r["kind"] == "score" and r["dino_key"].startswith("baseline")][0]["run_id"]
    cli("runs", "delete", run_a, "--db", database, "--yes")
    assert _gen_vectors(database, "baseline:global%") == 0


# -- 2. runs delete in a copy never touches the original's files -----------------------------------------
def test_runs_delete_in_a_copy_keeps_the_originals_map_and_exports(dataset, tmp_path):
    orig = tmp_path / "orig" / "s.duckdb"
    orig.parent.mkdir()
    cli("score", dataset, "--db", orig, *BASELINE, "--keep-embeddings", "all")
    cli("map", "--db", orig)
    cli("export", "--db", orig, "--out", tmp_path / "exp")
    parquet = maps.sidecar(orig, json.loads(cli("runs", "--db", orig, "--format", "json"))["rows"][-1]["run_id"], "pca")
    parquet = next((orig.parent / (orig.name + ".maps")).glob("*.parquet"))
    copy = tmp_path / "copy" / "s.duckdb"
    copy.parent.mkdir()
    shutil.copy(orig, copy)
    rows = json.loads(cli("runs", "--db", copy, "--format", "json"))["rows"]
    for kind in ("map", "export"):
        rid = next(r["run_id"] for r in rows if r["kind"] == kind)
        out = cli("runs", "delete", rid, "--db", copy, "--yes")
        assert "deleted run" in out
    assert parquet.is_file() and (tmp_path / "exp" / "iconicity_images.csv").is_file()
    assert "not this one" in out                                         # says why the export files stayed
    # in the original itself, deleting the map run removes its own sidecar
    rid = next(r["run_id"] for r in json.loads(cli("runs", "--db", orig, "--format", "json"))["rows"] if r["kind"] == "map")
    cli("runs", "delete", rid, "--db", orig, "--yes")
    assert not parquet.exists()


# -- 3/4/10. labels files a person edited -----------------------------------------------------------------
EDITS = {
    "spreadsheet (BOM, CRLF)": lambda rows: ("\ufeff" + "\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8"),
    "semicolons": lambda rows: ("\n".join(";".join(r) for r in rows) + "\n").encode(),
    "capitalised header": lambda rows: ("\n".join(",".join(r) for r in [[c.upper() for c in rows[0]], *rows[1:]])
                                        ).encode(),          # and no final newline
    "no header": lambda rows: ("\n".join(",".join(r) for r in rows[1:]) + "\n").encode(),
    "Windows-1252 and an extra column": lambda rows: ("\n".join(",".join([*r, "note é"]) for r in rows) + "\n"
                                                      ).encode("cp1252"),
    "UTF-16": lambda rows: ("\n".join(",".join(r) for r in rows) + "\n").encode("utf-16"),
}
ROWS = [labels.COLUMNS, ["gen/a.png", "replica", "f1", "ana", "2026-01-01T00:00:00+00:00"],
        ["gen/b.png", "miss", "f2", "bo", "2026-01-02T00:00:00+00:00"]]


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_hand_edited_sidecar_is_read_and_appended_to_never_rewritten(tmp_path, edit):
    database = tmp_path / "s.duckdb"
    original = EDITS[edit](ROWS)
    labels.sidecar(database).write_bytes(original)
    assert labels.current(database) == {"gen/a.png": "replica", "gen/b.png": "miss"}, edit
    labels.append(database, [("gen/c.png", "partial", "f3", "cy")])
    after = labels.sidecar(database).read_bytes()
    assert after.startswith(original)                                    # appended: every earlier byte kept
    assert labels.current(database) == {"gen/a.png": "replica", "gen/b.png": "miss", "gen/c.png": "partial"}
    labels.append(database, [("gen/a.png", "miss", "f1", "dee")])
    assert labels.current(database)["gen/a.png"] == "miss"


def test_a_sidecar_that_cannot_be_parsed_is_left_untouched_with_the_line(tmp_path):
    database = tmp_path / "s.duckdb"
    broken = b'image,label\ngen/a.png,replica\n"gen/b.png,miss\ngen/c.png,miss\n'       # an unclosed quote
    labels.sidecar(database).write_bytes(broken)
    assert labels.current(database) == {"gen/a.png": "replica"}        # the rows before it are read
    assert any(":3" in item and "quote" in msg for item, msg in labels.problems(database))
    with pytest.raises(labels.LabelsFileError, match=r"s.duckdb.labels.csv:3.*left as it is"):
        labels.append(database, [("gen/d.png", "partial", "", "x")])
    assert labels.sidecar(database).read_bytes() == broken
    labels.sidecar(database).write_bytes(b"\x00\x01garbage\xff\n")
    assert labels.current(database) == {} and labels.problems(database)
    with pytest.raises(labels.LabelsFileError, match="first line"):
        labels.append(database, [("gen/d.png", "partial", "", "x")])


def test_import_files_report_why_rows_are_skipped(tmp_path):
    f = tmp_path / "in.csv"
    f.write_bytes("image,label\na.png,replica\nb.png,maybe\na.png,miss\n".encode("utf-16"))
    given, problems = labels.read_labels(f)
    assert given == {"a.png": "miss"}
    assert any("maybe" in m for _, m in problems) and any("labelled 'replica' on line 2" in m for _, m in problems)
    f.write_text('image,label\n"a.png,replica\n')
    with pytest.raises(labels.LabelsFileError, match="quote"):
        labels.read_labels(f)
    for bad in (tmp_path, Path("/dev/zero")):
        with pytest.raises(labels.LabelsFileError, match="folder|regular file"):
            labels.read_labels(bad)


def test_labels_commands_fail_cleanly(dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", dataset, "--db", database, *BASELINE)
    for bad in (tmp_path, Path("/dev/zero")):
        r = invoke("labels", "import", "--db", database, bad)
        assert r.exit_code == 2 and "Traceback" not in r.output and "error:" in r.output
    r = invoke("labels", "export", "--db", database, "--out", tmp_path)
    assert r.exit_code == 2 and "is a folder" in r.output
    lock = Path(str(labels.sidecar(database)) + ".lock")
    lock.symlink_to(tmp_path / "elsewhere")
    good = tmp_path / "good.csv"
    good.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\n")
    r = invoke("labels", "import", "--db", database, good)
    assert r.exit_code == 2 and "link" in r.output and not (tmp_path / "elsewhere").exists()
    lock.unlink()
    if os.geteuid() != 0:                          # root can write anywhere: a read-only folder means nothing
        ro = tmp_path / "ro"
        ro.mkdir()
        shutil.copy(database, ro / "s.duckdb")
        ro.chmod(0o555)
        try:
            r = invoke("labels", "import", "--db", ro / "s.duckdb", good)
            assert r.exit_code == 2 and "cannot be written" in r.output
        finally:
            ro.chmod(0o755)


def test_spreadsheet_formula_cells_are_neutralised_on_export(dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", dataset, "--db", database, *BASELINE)
    labels.append(database, [("generations/model_a/mona/copy.png", "replica", "", "=HYPERLINK(\"http://x\")")])
    raw = labels.sidecar(database).read_text()
    assert "'=HYPERLINK" in raw and labels.rows(database)[0]["who"].startswith("=HYPERLINK")   # read back as given
    shutil.copy(dataset / "generations" / "model_a" / "mona" / "copy.png", dataset / "generations" / "model_a" / "mona" / "=1+1.png")
    cli("score", dataset, "--db", database, *BASELINE)
    labels.append(database, [("generations/model_a/mona/=1+1.png", "miss", "", "x")])
    out = cli("labels", "export", "--db", database)
    assert all(not c.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(out)) for c in row)
    given, _ = labels.read_labels(_write(tmp_path / "back.csv", out))
    assert "generations/model_a/mona/=1+1.png" in given                    # importing the export reads it back
    metrics = cli("metrics", "--db", database, "--by", "image")
    assert all(not c.startswith(("=", "+", "@")) for row in csv.reader(io.StringIO(metrics)) for c in row)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- 5. a structurally wrong map sidecar is recomputed, never trusted -------------------------------------
@pytest.fixture()
def mapped(dataset, tmp_path):
    database = tmp_path / "m.duckdb"
    cli("score", dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    cli("map", "--db", database)
    return database, next((tmp_path / "m.duckdb.maps").glob("*.parquet"))


BREAKS = {
    "renamed column": lambda df: df.rename(columns={"x": "px"}),
    "missing column": lambda df: df.drop(columns=["y"]),
    "strings": lambda df: df.assign(x=df["x"].astype(str)),
    "lists": lambda df: df.assign(y=[[v] for v in df["y"]]),
    "duplicated": lambda df: pd.concat([df, df, df], ignore_index=True),
    "foreign ids": lambda df: df.assign(image_id="img-" + df["image_id"]),
    "not finite": lambda df: df.assign(x=np.inf),
}


@pytest.mark.parametrize("how", list(BREAKS))
def test_a_broken_map_sidecar_is_recomputed(mapped, how):
    database, parquet = mapped
    good = pd.read_parquet(parquet)
    BREAKS[how](good).to_parquet(parquet)
    con = _con(database)
    run = db.runs.resolve(con, None)
    ids = set(db.views.map_files(con, run)["image_id"].dropna())
    con.close()
    stored, why = maps.load(database, run, "pca", ids)
    assert stored is None and why
    at = _map_page(database)
    assert any("computed again" in w.value for w in at.warning), [w.value for w in at.warning]
    fixed = pd.read_parquet(parquet)
    pd.testing.assert_frame_equal(fixed.sort_values("image_id").reset_index(drop=True),
                                  good.sort_values("image_id").reset_index(drop=True), check_exact=False)
    cli("map", "--db", database)                                   # `iconicity map` over it works too


def test_a_reordered_map_sidecar_still_places_each_image_where_it_was(mapped):
    database, parquet = mapped
    good = pd.read_parquet(parquet)
    good.iloc[::-1].to_parquet(parquet)
    con = _con(database)
    run = db.runs.resolve(con, None)
    ids = set(db.views.map_files(con, run)["image_id"].dropna())
    con.close()
    stored, why = maps.load(database, run, "pca", ids)
    assert why is None and stored.set_index("image_id").loc[good["image_id"]].reset_index().equals(good)


def test_a_folder_or_file_in_the_maps_place_does_not_break_the_map(mapped):
    database, parquet = mapped
    parquet.unlink()
    parquet.mkdir()                                              # a directory where the map file goes
    at = _map_page(database)
    assert not at.exception and any("is not a file" in w.value or "could not be stored" in w.value for w in at.warning)
    shutil.rmtree(parquet.parent)
    parquet.parent.write_text("not a folder")                   # <db>.maps is a file
    at = _map_page(database)
    assert not at.exception and any("could not be stored" in w.value for w in at.warning)
    r = invoke("map", "--db", database)
    assert r.exit_code == 2 and "could not be stored" in r.output


def _map_page(database) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    os.environ["ICONICITY_DB"] = str(database)
    try:
        at = AppTest.from_file(APP, default_timeout=180).run()
        at.switch_page("pages/map.py").run()
    finally:
        os.environ.pop("ICONICITY_DB", None)
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- 6. switching run or database ---------------------------------------------------------------------------
@pytest.fixture()
def two_runs(dataset, tmp_path, monkeypatch):
    database = tmp_path / "two.duckdb"
    cli("score", dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    cli("score", dataset, "--db", database, *PIXELS)
    monkeypatch.setenv("ICONICITY_DB", str(database))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return database


def test_switching_the_scoring_run_applies_its_operating_point_without_a_crash(two_runs):
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    runs = at.sidebar.selectbox(key="w_run").options
    first = live_data(at, "controls")["state"]["clip_tau"]
    at.sidebar.selectbox(key="w_run").set_value(runs[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    second = live_data(at, "controls")["state"]["clip_tau"]
    assert {first, second} == {0.47, 0.7}                        # baseline's and pixels' (the paper's) operating points
    at.switch_page("pages/label.py").run()
    assert not at.exception
    at.sidebar.selectbox(key="w_run").set_value(runs[0]).run()
    assert not at.exception, [e.value for e in at.exception]   # the Label page's queue follows the run


def test_switching_the_database_under_the_label_page(two_runs, small_demo_db, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "other.duckdb")
    monkeypatch.setenv("ICONICITY_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/label.py").run()
    assert not at.exception
    at.sidebar.selectbox(key="w_db").set_value("other.duckdb").run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/similar.py").run()
    assert not at.exception and not any("keep-embeddings" in i.value for i in at.info)


# -- 7. a run with no generated image ---------------------------------------------------------------------
def test_pages_render_for_a_run_without_generated_images(tmp_path, monkeypatch):
    root = build_small_dataset(tmp_path / "ds")
    shutil.rmtree(root / "generations")
    database = tmp_path / "empty.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all")
    monkeypatch.setenv("ICONICITY_DB", str(database))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    for page in ("pages/map.py", "pages/label.py", "pages/thresholds.py", "pages/references.py", "pages/similar.py",
                 "pages/export.py", "pages/correlations.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])


# -- 8. dataset text in charts is text ----------------------------------------------------------------------
def test_a_model_name_with_html_is_escaped_in_every_chart(tmp_path, monkeypatch):
    from iconicity_core.dashboard import context  # noqa: F401  (the page context the charts are made in)

    root = build_small_dataset(tmp_path / "ds")
    evil = '<a href="http://evil.invalid/">x</a><img src=x onerror=alert(1)>'
    rel = "generations/extra/mona/e.png"
    save(texture(77), root / rel)
    with open(root / "generations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "model", "slug", "variant", "prompt", "seed"])
        w.writerow([rel, evil, "mona", "title", "Mona", 1])
    database = tmp_path / "e.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all")
    monkeypatch.setenv("ICONICITY_DB", str(database))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180).run()
    charts = []
    for page in ("pages/overview.py", "pages/thresholds.py", "pages/map.py", "pages/correlations.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        charts += [c.proto.spec for c in at.get("plotly_chart")]
    text = "\n".join(charts)
    assert "&lt;a href" in text and "<a href" not in text.replace("\\u003c", "<").replace("&lt;", "")


# -- 10. what a run is, said on the page ----------------------------------------------------------------------
def test_an_interrupted_run_and_a_references_only_map_say_so(dataset, tmp_path, monkeypatch):
    database = tmp_path / "i.duckdb"
    cli("score", dataset, "--db", database, *BASELINE)                  # keeps only the references' vectors
    con = db.connect(database)
    con.execute("UPDATE runs SET status = 'interrupted' WHERE kind = 'score'")
    con.close()
    monkeypatch.setenv("ICONICITY_DB", str(database))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert any("interrupted" in w.value for w in at.warning)
    at.switch_page("pages/map.py").run()
    assert any("--keep-embeddings references" in c.value for c in [*at.caption, *at.info, *at.warning])


# -- 11. Ray: wrong address or no GPU say so at once ------------------------------------------------------
def test_a_wrong_ray_address_fails_at_once_with_what_to_do(dataset, tmp_path):
    t = time.monotonic()
    r = invoke("score", dataset, "--db", tmp_path / "r.duckdb", *BASELINE, "--backend", "ray",
               "--ray-address", "127.0.0.1:9")
    assert r.exit_code == 2 and "cannot reach a Ray cluster" in r.output and time.monotonic() - t < 60


@pytest.mark.slow
def test_ray_without_a_gpu_and_a_dying_actor_give_one_clear_message(dataset, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    r = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "score", str(dataset), "--db", str(tmp_path / "g.duckdb"),
                        *BASELINE, "--backend", "ray", "--gpus-per-worker", "1"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "needs a GPU" in r.stderr, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "score", str(dataset), "--db", str(tmp_path / "d.duckdb"),
                        *BASELINE, "--backend", "ray", "--ray-workers", "1"], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "ICONICITY_RAY_FAIL_ALWAYS": "1"})
    assert r.returncode == 2 and "run the same command again to resume" in r.stderr
    assert len(r.stderr.splitlines()) < 40, r.stderr[-3000:]


# -- 12. the workers die with a SIGKILLed scorer ------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


@pytest.mark.slow
def test_sigkill_of_the_scorer_takes_its_worker_processes_with_it(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    for i in range(400):
        save(texture(3000 + i, 256), root / "generations" / "m" / "mona" / f"{i:03d}.png")
    proc = subprocess.Popen([sys.executable, "-m", "iconicity_core.cli", "score", str(root), "--db", str(tmp_path / "k.duckdb"),
                             *BASELINE, "--workers", "2", "--batch-size", "8"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.2)
    assert len(workers) >= 2, "the worker processes never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# -- 13. numbers do not depend on how the images were batched -----------------------------------------------
def _sims(database) -> pd.DataFrame:
    con = _con(database)
    try:
        return con.execute("""SELECT f.relpath, c.sim, list(s.sim ORDER BY s.cell) AS cells
                              FROM clip_sims c JOIN files f USING (file_id) JOIN cell_sims s USING (run_id, file_id)
                              GROUP BY ALL ORDER BY 1""").df()
    finally:
        con.close()


def test_embeddings_do_not_depend_on_the_other_images_of_a_batch(tmp_path, tiny_models):
    """With one --batch-size, an image's stored numbers are bit-identical however the images fall into batches
    (a lone image in a last batch took another float path before). Across batch sizes the model's input
    shapes differ, and float32 results may differ in their last bits (not seen here on CPU): the stated
    tolerance is 1e-3 on a similarity (float16 storage can round one bit the other way)."""
    from conftest import model_args

    root = build_small_dataset(tmp_path / "ds")
    for i in range(9):
        save(texture(500 + i), root / "generations" / "model_c" / "mona" / f"{i}.png")
    whole, parts, other = tmp_path / "whole.duckdb", tmp_path / "parts.duckdb", tmp_path / "b32.duckdb"
    cli("score", root, "--db", whole, *model_args(tiny_models), "--batch-size", "4", "--workers", "0")
    hidden = root / "generations" / "model_c"
    shutil.move(hidden, tmp_path / "later")                        # score most images, then the rest: other batches
    cli("score", root, "--db", parts, *model_args(tiny_models), "--batch-size", "4", "--workers", "0")
    shutil.move(tmp_path / "later", hidden)
    cli("score", root, "--db", parts, *model_args(tiny_models), "--batch-size", "4", "--workers", "0")
    a, b = _sims(whole), _sims(parts)
    assert a["relpath"].tolist() == b["relpath"].tolist()
    assert (a["sim"].to_numpy() == b["sim"].to_numpy()).all()
    assert all(np.array_equal(x, y) for x, y in zip(a["cells"], b["cells"]))
    cli("score", root, "--db", other, *model_args(tiny_models), "--workers", "0")          # the default batch size
    c = _sims(other)
    np.testing.assert_allclose(c["sim"].to_numpy(), a["sim"].to_numpy(), atol=1e-3)
