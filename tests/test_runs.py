"""Every computation is a recorded run: listed, shown, deleted with what it produced; the schema is
versioned (old databases are migrated, newer ones refused)."""
from __future__ import annotations

import io
import json
import shutil

import duckdb
import pandas as pd
import pytest
from helpers import BASELINE, cli, invoke

from iconicity_core import db as database


@pytest.fixture
def scored_db(tmp_path, small_dataset):
    db = tmp_path / "r.duckdb"
    out = json.loads(cli("score", small_dataset, "--db", db, "--clip-model", "baseline", "--dino-model", "baseline",
                         "--quiet", "--format", "json"))
    assert out["n_generations_scored"] == 10
    assert out["n_refs_dropped"] == 1
    return db


def test_every_computation_is_listed_shown_and_deletable(scored_db, tmp_path):
    db = scored_db
    labels = tmp_path / "labels.csv"
    labels.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\n"
                      "generations/model_a/mona/shuffled.png,reinterpretation\n"
                      "generations/model_a/mona/other.png,miss\ngenerations/model_b/mona/copy.png,replica\n")
    cli("evaluate", "--db", db, "--labels", labels, "--out", tmp_path / "e.csv", "--n-resamples", "10", "--quiet")
    cli("covariates", "dates", "--db", db, "--column", "inception")
    cli("analyze", "--db", db, "--out", tmp_path / "an", "--n-resamples", "10", "--covariates", "sitelinks,year")
    cli("export", "--db", db, "--out", tmp_path / "ex")
    runs = json.loads(cli("runs", "--db", db, "--format", "json"))["rows"]
    kinds = {r["kind"]: r for r in runs}
    assert set(kinds) == {"score", "evaluate", "covariate", "analyze", "export"}
    assert all(r["status"] == "done" for r in runs)
    score_id = kinds["score"]["run_id"]
    assert kinds["evaluate"]["parent_run"] == score_id
    assert kinds["analyze"]["parent_run"] == score_id

    shown = json.loads(cli("runs", "show", kinds["evaluate"]["run_id"][:12], "--db", db))
    assert shown["inputs"]["labels_sha256"].startswith("sha256:")
    assert shown["config"]["precision"] == 0.9
    assert shown["versions"]["duckdb"]
    assert shown["produced"]["measure_scores"] > 0
    score = json.loads(cli("runs", "show", score_id, "--db", db))
    assert score["config"]["clip_model"] == "baseline"
    assert score["outputs"]["n_generations_scored"] == 10

    # a covariate run: deleting it drops its columns
    cov = kinds["covariate"]["run_id"]
    cli("runs", "delete", cov, "--db", db, "--yes")
    con = database.connect(db, read_only=True)
    assert "year" not in database.refs.columns(con)
    assert "sitelinks" in database.refs.columns(con)
    con.close()

    # an analyze run: asked first, in words, with its files counted; "no" keeps everything
    an = kinds["analyze"]["run_id"]
    n_files = len(list((tmp_path / "an").iterdir()))
    r = invoke("runs", "delete", an, "--db", db, typed="n\n")
    assert r.exit_code == 1
    assert f"up to {n_files} file(s) it wrote" in r.output, r.output
    assert "--yes" in r.output
    assert "{" not in r.output                                                    # words, not a dict
    assert len(list((tmp_path / "an").iterdir())) == n_files
    # unchanged files go, a file edited since is kept
    (tmp_path / "an" / "correlations.tex").write_text("my edits")
    out = cli("runs", "delete", an, "--db", db, "--yes")
    assert not (tmp_path / "an" / "correlations.csv").exists()
    assert (tmp_path / "an" / "correlations.tex").exists()
    assert "kept" in out

    # the score run: its similarities, its child runs and their rows, and unused embeddings go
    cli("runs", "delete", score_id, "--db", db, "--yes")
    con = duckdb.connect(str(db), read_only=True)
    for table in ("clip_sims", "cell_sims", "ref_dedup", "measure_scores", "embeddings", "runs"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert con.execute("SELECT count(*) FROM files").fetchone()[0] > 0          # the dataset stays registered
    con.close()
    cli("runs", "delete", "nope", "--db", db, "--yes", code=2)


def test_a_failed_computation_is_recorded_as_failed(scored_db, tmp_path):
    con = database.connect(scored_db)
    with pytest.raises(RuntimeError):
        with database.runs.recorded(con, "analyze", {"x": 1}) as rec:
            raise RuntimeError("boom")
    got = database.runs.get(con, rec.run_id)
    assert got["status"] == "failed"
    assert "boom" in got["message"]


V1_SCHEMA = """
CREATE TABLE meta(key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs(run_id VARCHAR PRIMARY KEY, clip_key VARCHAR, dino_key VARCHAR, clip_info JSON, dino_info JSON,
    grid VARCHAR, patch_mode VARCHAR, phash_max INTEGER, semantic BOOLEAN, versions JSON, device VARCHAR,
    created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE covariate_sources(name VARCHAR PRIMARY KEY, source VARCHAR, details JSON);
CREATE TABLE baseline_scores(run_id VARCHAR, file_id VARCHAR, measure VARCHAR, value DOUBLE);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO runs VALUES ('abc', 'k1', 'k2', '{}', '{}', '4x4', 'crop', 18, false, '{}', 'cpu', now(), now());
INSERT INTO baseline_scores VALUES ('abc', 'f1', 'phash', 0.5);
"""


def test_old_schema_is_migrated_and_a_newer_one_refused(tmp_path):
    db = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(db))
    con.execute(V1_SCHEMA)
    con.close()
    with pytest.raises(database.SchemaError, match="iconicity db upgrade"):
        database.connect(db, read_only=True)                  # a reader cannot migrate: it says how
    cli("db", "upgrade", "--db", db)
    con = database.connect(db, read_only=True)
    assert database.schema.version_of(con) == database.schema.VERSION
    assert database.runs.get(con, "abc")["kind"] == "score"
    ev = database.measure_scores.latest_evaluate_run(con, "abc")
    assert database.measure_scores.read(con, ev).set_index("file_id").loc["f1", "phash"] == 0.5
    con.close()
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    for ro in (True, False):
        with pytest.raises(database.SchemaError, match="newer"):
            database.connect(db, read_only=ro)


def test_metrics_reads_a_prefix_of_the_run_id(scored_db):
    run = json.loads(cli("runs", "--db", scored_db, "--format", "json"))["rows"][0]["run_id"]
    a = pd.read_csv(io.StringIO(cli("metrics", "--db", scored_db, "--run", run[:5])))
    b = pd.read_csv(io.StringIO(cli("metrics", "--db", scored_db)))
    pd.testing.assert_frame_equal(a, b)


# -- runs delete by ownership -------------------------------------------------------------------------------------
@pytest.fixture
def original(tmp_path, small_dataset):
    """A database with a run of every kind that writes files: a map (``DB.maps/``), an export beside it (keys
    relative to its folder) and an analysis in another folder (absolute keys), plus evaluate, calibrate and a
    covariate run; every file it wrote, with its bytes."""
    home = tmp_path / "home"
    home.mkdir()
    db = home / "study.duckdb"
    cli("score", small_dataset, "--db", db, "--clip-model", "baseline", "--dino-model", "baseline", "--quiet",
        "--keep-embeddings", "all")
    labels = tmp_path / "labels.csv"
    labels.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\n"
                      "generations/model_a/mona/shuffled.png,reinterpretation\ngenerations/model_a/mona/other.png,miss\n")
    cli("map", "--db", db)
    cli("export", "--db", db, "--out", home / "exports")
    (tmp_path / "elsewhere").mkdir()
    cli("analyze", "--db", db, "--out", tmp_path / "elsewhere" / "an", "--n-resamples", "5", "--covariates",
        "sitelinks")
    cli("evaluate", "--db", db, "--labels", labels, "--out", tmp_path / "ev.csv", "--n-resamples", "5", "--quiet")
    cli("calibrate", "--db", db, "--labels", labels, "--n-resamples", "5")
    cli("covariates", "dates", "--db", db, "--column", "inception")
    files = {p: p.read_bytes() for p in [*home.rglob("*"), *(tmp_path / "elsewhere").rglob("*")]
             if p.is_file() and p != db and not p.name.endswith((".wal", ".lock", ".labels.csv"))}
    assert any(".maps" in str(p) for p in files)
    assert any("exports" in str(p) for p in files)
    assert any("elsewhere" in str(p) for p in files)
    return db, files


def _runs(db) -> dict[str, str]:
    return {r["kind"]: r["run_id"] for r in json.loads(cli("runs", "--db", db, "--format", "json"))["rows"]}


@pytest.mark.parametrize("where", ["same folder", "other folder"])
def test_runs_delete_in_a_copy_keeps_every_file_of_the_original(original, tmp_path, where):
    db, files = original
    copy = (db.parent / "copy.duckdb") if where == "same folder" else (tmp_path / "other" / "copy.duckdb")
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(db, copy)
    kinds = _runs(copy)
    assert {"score", "map", "export", "analyze", "evaluate", "calibrate", "covariate"} <= set(kinds)
    said = ""
    for kind in ("map", "export", "analyze", "evaluate", "calibrate", "covariate", "score"):
        if kind != "score" and kind not in _runs(copy):
            continue
        asked = invoke("runs", "delete", kinds[kind], "--db", copy, typed="n\n").output
        assert "file(s) it wrote" not in asked, (kind, asked)             # the question counts only what may go
        out = cli("runs", "delete", kinds[kind], "--db", copy, "--yes")
        said += out
        assert "deleted run" in out, (kind, out)
        assert "removed" not in out, (kind, out)
        assert {p: p.read_bytes() for p in files if p.exists()} == files, kind      # every byte of the original
    assert "not this one" in said                                                    # says why it kept them
    # the original itself removes what it wrote
    out = cli("runs", "delete", _runs(db)["score"], "--db", db, "--yes")
    assert "removed" in out, out
    assert not [p for p in files if p.exists()], out


def test_runs_delete_never_reaches_outside_through_a_recorded_path(original, tmp_path):
    db, _files = original
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    outside = tmp_path / "outside"
    outside.mkdir()
    (db.parent / "link").symlink_to(outside)
    (outside / "v2.txt").write_text("precious too")
    from iconicity_core.io.provenance import sha256_file

    rid = _runs(db)["export"]
    con = database.connect(db)
    outputs = {"files": {"../victim.txt": sha256_file(victim), "link/v2.txt": sha256_file(outside / "v2.txt"),
                         str(victim): sha256_file(victim)}, "database": str(db), "folders": [str(db.parent)]}
    con.execute("UPDATE runs SET outputs = ? WHERE run_id = ?", [json.dumps(outputs), rid])
    con.close()
    out = cli("runs", "delete", rid, "--db", db, "--yes")
    assert victim.read_text() == "precious"
    assert (outside / "v2.txt").read_text() == "precious too"
    assert "climbs out" in out, out
    assert "outside the database's folder" in out, out


def test_a_moved_database_still_deletes_the_files_it_wrote(original, tmp_path):
    db, files = original
    moved = db.parent / "renamed.duckdb"
    db.rename(moved)
    out = cli("runs", "delete", _runs(moved)["map"], "--db", moved, "--yes")
    assert "removed" in out, out
    assert not [p for p in files if ".maps" in str(p) and p.exists()], out


# -- 2. runs delete in a copy never touches the original's files -----------------------------------------
def test_runs_delete_in_a_copy_keeps_the_originals_map_and_exports(small_dataset, tmp_path):
    orig = tmp_path / "orig" / "s.duckdb"
    orig.parent.mkdir()
    cli("score", small_dataset, "--db", orig, *BASELINE, "--keep-embeddings", "all")
    cli("map", "--db", orig)
    cli("export", "--db", orig, "--out", tmp_path / "exp")
    parquet = next((orig.parent / (orig.name + ".maps")).glob("*.parquet"))
    copy = tmp_path / "copy" / "s.duckdb"
    copy.parent.mkdir()
    shutil.copy(orig, copy)
    rows = json.loads(cli("runs", "--db", copy, "--format", "json"))["rows"]
    for kind in ("map", "export"):
        rid = next(r["run_id"] for r in rows if r["kind"] == kind)
        out = cli("runs", "delete", rid, "--db", copy, "--yes")
        assert "deleted run" in out
    assert parquet.is_file()
    assert (tmp_path / "exp" / "iconicity_images.csv").is_file()
    assert "not this one" in out                                         # says why the export files stayed
    # in the original itself, deleting the map run removes its own sidecar
    rid = next(r["run_id"] for r in json.loads(cli("runs", "--db", orig, "--format", "json"))["rows"] if r["kind"] == "map")
    cli("runs", "delete", rid, "--db", orig, "--yes")
    assert not parquet.exists()
