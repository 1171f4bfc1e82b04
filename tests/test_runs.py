"""Every computation is a recorded run: listed, shown, deleted with what it produced; the schema is
versioned (old databases are migrated, newer ones refused)."""
from __future__ import annotations

import io
import json

import duckdb
import pandas as pd
import pytest
from helpers import cli

from iconicity_core import db as database


@pytest.fixture()
def scored_db(tmp_path, small_dataset):
    db = tmp_path / "r.duckdb"
    out = json.loads(cli("score", small_dataset, "--db", db, "--clip-model", "baseline", "--dino-model", "baseline",
                         "--quiet", "--format", "json"))
    assert out["n_generations_scored"] == 10 and out["n_refs_dropped"] == 1
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
    assert kinds["evaluate"]["parent_run"] == score_id and kinds["analyze"]["parent_run"] == score_id

    shown = json.loads(cli("runs", "show", kinds["evaluate"]["run_id"][:12], "--db", db))
    assert shown["inputs"]["labels_sha256"].startswith("sha256:") and shown["config"]["precision"] == 0.9
    assert shown["versions"]["duckdb"] and shown["produced"]["measure_scores"] > 0
    score = json.loads(cli("runs", "show", score_id, "--db", db))
    assert score["config"]["clip_model"] == "baseline" and score["outputs"]["n_generations_scored"] == 10

    # a covariate run: deleting it drops its columns
    cov = kinds["covariate"]["run_id"]
    cli("runs", "delete", cov, "--db", db, "--yes")
    con = database.connect(db, read_only=True)
    assert "year" not in database.refs.columns(con) and "sitelinks" in database.refs.columns(con)
    con.close()

    # an analyze run: unchanged files go, a file edited since is kept
    an = kinds["analyze"]["run_id"]
    (tmp_path / "an" / "correlations.tex").write_text("my edits")
    out = cli("runs", "delete", an, "--db", db, "--yes")
    assert not (tmp_path / "an" / "correlations.csv").exists() and (tmp_path / "an" / "correlations.tex").exists()
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
    assert got["status"] == "failed" and "boom" in got["message"]


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
    ev = database.measures.latest_evaluate_run(con, "abc")
    assert database.measures.read(con, ev).set_index("file_id").loc["f1", "phash"] == 0.5
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
