"""One error boundary: every command of the app (found in the app, so a new one cannot escape) × every bad
database — missing, a folder, a FIFO, a text file, a truncated one, an empty file, an empty DuckDB database,
another program's DuckDB database, a newer schema, an unreadable schema version, one another process is writing
— exits non-zero with one line that says what to do, and no traceback; the file is left as it was and a
missing one is not created. The notebook API raises the project's own types with the same messages. Then the
findings of the last review that were tracebacks or silent: bad arguments, empty runs, an unfinished run as
the default, one-class labels, covariates without references, consistency that drops every image."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
import typer
from helpers import BASELINE, build_small_dataset, cli, invoke

import iconicity_core
from iconicity_core import db as database
from iconicity_core.cli import app
from iconicity_core.errors import DatabaseError, InvalidArgument, PartialRunWarning
from iconicity_core.testing import file_state


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("errors")
    root = build_small_dataset(d / "ds")
    db = d / "s.duckdb"
    cli("score", root, "--db", db, *BASELINE, "--keep-embeddings", "all")
    return db


def _duck(path: Path, sql: str) -> Path:
    con = duckdb.connect(str(path))
    if sql:
        con.execute(sql)
    con.close()
    return path


def _copy_with(scored: Path, path: Path, sql: str) -> Path:
    shutil.copy(scored, path)
    return _duck(path, sql)


#: name -> how to make it at a path (from a good scored database)
BAD = {
    "missing": lambda good, p: p,
    "a folder": lambda good, p: (p.mkdir(), p)[1],
    "a FIFO": lambda good, p: (os.mkfifo(p), p)[1],
    "a text file": lambda good, p: (p.write_text("slug,title\nmona,Mona Lisa\n"), p)[1],
    "truncated": lambda good, p: (p.write_bytes(good.read_bytes()[: good.stat().st_size // 2]), p)[1],
    "an empty file": lambda good, p: (p.write_bytes(b""), p)[1],
    "an empty DuckDB database": lambda good, p: _duck(p, ""),
    "another program's database": lambda good, p: _duck(p, "CREATE TABLE invoices(id INTEGER); INSERT INTO invoices VALUES (1)"),
    "a newer schema": lambda good, p: _copy_with(good, p, "UPDATE meta SET value = '99' WHERE key = 'schema_version'"),
    "an unreadable schema version": lambda good, p: _copy_with(good, p, "UPDATE meta SET value = 'three' "
                                                                        "WHERE key = 'schema_version'"),
    "busy": lambda good, p: (shutil.copy(good, p), p)[1],
}


def db_commands() -> list[tuple[str, ...]]:
    """Every command of the app that takes --db (``runs`` takes it on the group)."""
    found = []

    def walk(cmd, path):
        if any(p.name == "db" for p in cmd.params) and (path and (not getattr(cmd, "commands", None) or path == ("runs",))):
            found.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))
    walk(typer.main.get_command(app), ())
    return found


def _argv(cmd: tuple[str, ...], db: Path, tmp: Path, dataset: Path, labels_csv: Path) -> list:
    """A command line for ``cmd`` on ``db`` that would otherwise run (outputs in ``tmp``, no network)."""
    extra = {
        ("score",): [dataset, *BASELINE],
        ("demo",): ["--embedders", "baseline", "--per-cell", "1", "--quiet"],
        ("export",): ["--out", tmp / "ex"], ("analyze",): ["--out", tmp / "an", "--n-resamples", "5"],
        ("evaluate",): ["--out", tmp / "ev.csv", "--labels", labels_csv, "--n-resamples", "5", "--quiet"],
        ("calibrate",): ["--labels", labels_csv, "--n-resamples", "5"], ("robustness",): ["--n-resamples", "5"],
        ("share",): ["--out", tmp / "s.html", "--quiet"],
        ("runs", "show"): ["x"], ("runs", "delete"): ["x", "--yes"], ("labels", "import"): [labels_csv],
        ("labels", "export"): ["--out", tmp / "l.csv"],
        ("covariates", "ambiguity"): ["--cache-dir", tmp / "cache", "--endpoint", "http://127.0.0.1:9/sparql"],
        ("covariates", "popularity"): ["--from-csv", labels_csv], ("covariates", "frequency"): ["--from-csv", labels_csv],
        ("covariates", "distinctiveness"): ["--clip-model", "ViT-S-32", "--clip-pretrained", tmp / "none.safetensors"],
    }.get(cmd, [])
    return [*cmd, "--db", db, *extra]


@pytest.fixture
def holder():
    """Start a process that holds a database's write lock (as `iconicity score` does while it writes)."""
    procs = []

    def hold(path: Path):
        p = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                              "print('ok', flush=True); time.sleep(600)", str(path)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ok"
        procs.append(p)
        return p
    yield hold
    for p in procs:
        p.kill()
        p.wait()


def test_every_command_refuses_every_bad_database_in_one_line(scored, tmp_path, holder, monkeypatch):
    monkeypatch.setattr(database.connection, "WAIT_S", 0.3)          # a writer waits this long for a busy lock
    dataset = scored.parent / "ds"
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\n")
    commands = db_commands()
    assert len(commands) >= 24, commands
    made = {}
    for name, make in BAD.items():
        made[name] = make(scored, tmp_path / f"{name.replace(' ', '_').replace(chr(39), '')}.duckdb")
    holder(made["busy"])
    checked = 0
    for cmd in commands:
        for name, path in made.items():
            if cmd[0] in ("score", "demo") and name == "missing":
                continue                                  # the two commands that create a database
            if cmd == ("score",) and name == "an empty DuckDB database":
                continue                                  # score fills an empty DuckDB file with its tables
            before = file_state(path)
            r = invoke(*_argv(cmd, path, tmp_path, dataset, labels_csv))
            where = f"{' '.join(cmd)} × {name}"
            assert r.exit_code == 2, (where, r.output)
            assert "Traceback" not in r.output, (where, r.output)
            assert r.stdout == "", (where, r.output)
            lines = [line for line in r.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, (where, r.stderr)
            assert lines[0].startswith("error: "), (where, r.stderr)
            assert file_state(path) == before, where                # nothing written into it, nothing created
            checked += 1
    assert checked >= 24 * len(BAD) - 4
    assert not (tmp_path / "missing.duckdb").exists()


def test_the_messages_say_what_the_database_is_and_what_to_do(scored, tmp_path, holder):
    expect = {"missing": "does not exist", "a folder": "is a folder", "a FIFO": "not a regular file",
              "a text file": "not a DuckDB database", "truncated": "damaged or truncated", "an empty file": "empty file",
              "an empty DuckDB database": "empty DuckDB database", "another program's database": "another program",
              "a newer schema": "upgrade the tool", "an unreadable schema version": "unreadable schema version",
              "busy": "in use by another process"}
    for name, make in BAD.items():
        path = make(scored, tmp_path / f"m_{len(name)}_{name[:3]}.duckdb")
        if name == "busy":
            holder(path)
        r = invoke("metrics", "--db", path)
        assert r.exit_code == 2, (name, r.stderr)
        assert expect[name] in r.stderr, (name, r.stderr)
        with pytest.raises(DatabaseError) as e:                       # the API: the same type, the same message
            iconicity_core.open(path)
        assert str(e.value) in r.stderr, name


@pytest.mark.slow
def test_a_bad_database_from_a_real_shell_is_one_line(scored, tmp_path):
    text = BAD["a text file"](scored, tmp_path / "t.duckdb")
    for args in (["metrics", "--db", str(text)], ["robustness", "--db", str(text)], ["map", "--db", str(tmp_path / "no.duckdb")]):
        r = subprocess.run([sys.executable, "-m", "iconicity_core.cli", *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error: "), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "no.duckdb").exists()


def test_writer_commands_never_create_a_missing_database(tmp_path):
    typo = tmp_path / "typo.duckdb"
    for args in (["map"], ["evaluate", "--out", tmp_path / "e.csv"], ["analyze", "--out", tmp_path / "a"],
                 ["export", "--out", tmp_path / "x"], ["runs", "delete", "r1", "--yes"], ["db", "upgrade"],
                 ["covariates", "dates"], ["calibrate"], ["labels", "import", tmp_path / "l.csv"]):
        r = invoke(*args, "--db", typo)
        assert r.exit_code == 2, (args, r.output)
        assert "does not exist" in r.stderr, (args, r.output)
        assert not (tmp_path / "typo.duckdb").exists(), args


def test_a_data_folder_that_is_a_file_or_read_only(tmp_path, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    monkeypatch.setenv("ICONICITY_DATA", str(notes))
    for args in (["map"], ["demo", "--embedders", "baseline", "--per-cell", "1", "--quiet"], ["metrics"]):
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output, (args, r.output)
        assert r.stderr.splitlines()[-1].startswith("error: "), r.stderr
    assert notes.read_text() == "mine"
    ro = _read_only_folder(tmp_path)
    monkeypatch.setenv("ICONICITY_DATA", str(ro))
    r = invoke("demo", "--embedders", "baseline", "--per-cell", "1", "--quiet")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output, r.output
    assert "error: " in r.stderr, r.output


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody may write into (root writes through permissions: use a read-only system folder then)."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    for candidate in (Path("/sys/kernel"), Path("/proc/1")):
        try:
            (candidate / ".iconicity_probe").mkdir()
        except OSError:
            return candidate
    pytest.skip("no read-only folder for root here")


# -- bad arguments and empty inputs ----------------------------------------------------------------------------
def test_robustness_refuses_bad_arguments_in_one_line(scored):
    cases = {("--variant", "nope"): "not a prompt variant", ("--clip-taus", "0.7,0.7"): "more than once",
             ("--pooling", "x"): "pooling must be one of", ("--n-resamples", "-5"): "at least 1",
             ("--n-resamples", "0"): "at least 1", ("--clip-taus", "a,b"): "comma-separated numbers",
             ("--match", "nope"): "matching must be one of"}
    for args, msg in cases.items():
        r = invoke("robustness", "--db", scored, *args)
        assert r.exit_code == 2, (args, r.output)
        assert msg in r.stderr, (args, r.output)
        assert "Traceback" not in r.output, (args, r.output)
    for cmd in (["analyze", "--out", scored.parent / "an0"], ["calibrate"], ["evaluate", "--out", scored.parent / "e0.csv"]):
        r = invoke(*cmd, "--db", scored, "--n-resamples", "0")
        assert r.exit_code == 2, cmd
        assert "--n-resamples must be at least 1" in r.stderr, cmd


@pytest.fixture
def empty_run(tmp_path) -> Path:
    """A database whose score run has references but no generated image."""
    root = build_small_dataset(tmp_path / "ds")
    shutil.rmtree(root / "generations")
    db = tmp_path / "empty.duckdb"
    cli("score", root, "--db", db, *BASELINE)
    return db


def test_a_run_without_generations_is_said_not_crashed(empty_run, tmp_path):
    for args in (["robustness"], ["analyze", "--out", tmp_path / "an"], ["calibrate"], ["export", "--out", tmp_path / "ex"],
                 ["metrics"], ["references", "consistency", "--cra"]):
        r = invoke(*args, "--db", empty_run)
        assert "Traceback" not in r.output, (args, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.output)
        said = r.stderr.strip().splitlines()
        if r.exit_code:                                   # refused: one error line says why
            assert r.exit_code == 2, (args, r.output)
            assert said[-1].startswith("error: "), (args, r.stderr)
        else:                                             # an empty table is never silent
            assert any(line.startswith("warning: ") and "no generated image" in line for line in said), (args, r.stderr)


def test_calibrate_with_labels_of_one_class_records_nothing(scored, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\ngenerations/model_b/mona/copy.png,replica\n")
    runs_before = json.loads(cli("runs", "--db", scored, "--format", "json"))["rows"]
    r = invoke("calibrate", "--db", scored, "--labels", one, "--n-resamples", "5")
    assert r.exit_code == 2, r.output
    assert "one class only" in r.stderr, r.output
    assert json.loads(cli("runs", "--db", scored, "--format", "json"))["rows"] == runs_before
    half = tmp_path / "half.csv"                       # one separation has both classes: it is calibrated, the other not
    half.write_text(one.read_text() + "generations/model_a/mona/other.png,miss\n")
    mine = shutil.copy(scored, tmp_path / "mine.duckdb")     # this one records a run: not in the shared database
    r = invoke("calibrate", "--db", mine, "--labels", half, "--n-resamples", "5")
    assert r.exit_code == 0, r.output
    assert "suggested: --clip-tau" in r.stderr, r.output
    assert "--patch-tau" not in r.stderr, r.output


def test_covariates_on_a_database_without_references(tmp_path):
    db = tmp_path / "new.duckdb"
    database.connect(db).close()                        # a scores database with no dataset yet
    csv = tmp_path / "pv.csv"
    csv.write_text("slug,pageviews\nmona,5\n")
    for args in (["popularity", "--from-csv", csv], ["uniqueness"], ["frequency", "--from-csv", csv, "--csv-column",
                                                                      "pageviews"]):
        r = invoke("covariates", *args, "--db", db)
        assert r.exit_code == 2, (args, r.output)
        assert "no references yet" in r.stderr, (args, r.output)
        assert "Traceback" not in r.output, (args, r.output)
    assert json.loads(cli("runs", "--db", db, "--format", "json"))["rows"] == []


def test_consistency_never_reports_a_cra_of_zero_when_every_image_is_dropped(scored):
    r = invoke("references", "consistency", "--db", scored, "--cra", "--min-similarity", "0.99", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    film = [x for x in rows if x["slug"] == "film"]
    assert film
    assert all(x["n_refs_kept"] == 0 and x["cra_without_outliers"] is None for x in film)
    assert "every reference image is an outlier" in r.stderr


# -- an unfinished run is never a silent default -------------------------------------------------------------------
@pytest.fixture
def interrupted(scored, tmp_path) -> Path:
    db = tmp_path / "i.duckdb"
    shutil.copy(scored, db)
    con = database.connect(db)
    con.execute("UPDATE runs SET status = 'interrupted' WHERE kind = 'score'")
    con.close()
    return db


def test_an_unfinished_default_run_is_said_by_the_cli_the_api_and_share(interrupted, tmp_path):
    run = next(r["run_id"] for r in json.loads(cli("runs", "--db", interrupted, "--format", "json"))["rows"]
               if r["kind"] == "score")
    for args in (["metrics"], ["share", "--out", tmp_path / "s.html", "--quiet"], ["robustness", "--n-resamples", "5"],
                 ["export", "--out", tmp_path / "ex"]):
        r = invoke(*args, "--db", interrupted)
        assert r.exit_code == 0, (args, r.output)
        warn = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
        assert len(warn) == 1, (args, r.stderr)
        assert run in warn[0], (args, r.stderr)
        assert "not finished" in warn[0], (args, r.stderr)
        assert "again" in warn[0], (args, r.stderr)
    r = invoke("metrics", "--db", interrupted, "--run", run)         # chosen by name: no warning
    assert "warning:" not in r.stderr
    with pytest.warns(PartialRunWarning, match="not finished"):
        res = iconicity_core.open(interrupted)
    assert res.partial_note
    assert run in res.partial_note
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iconicity_core.open(interrupted, run=run).partial_note is None


# -- the API's arguments ------------------------------------------------------------------------------------------
def test_the_api_raises_value_errors_for_bad_arguments(scored):
    res = iconicity_core.open(scored)
    for kw in ({"clip_tau": "0.7"}, {"clip_tau": True}, {"patch_tau": float("nan")}, {"pooling": "x"}, {"by": "nope"}):
        with pytest.raises(ValueError, match=r"clip_tau|patch_tau|pooling|by"):
            res.metrics(**kw)
    with pytest.raises(ValueError, match="run must be a run id"):
        iconicity_core.open(scored, run=123)
    with pytest.raises(InvalidArgument, match=r"unknown models value\(s\) \['sdxl'\]: this database has model_a, model_b"):
        res.metrics(models=["sdxl"])
    with pytest.raises(InvalidArgument, match="kinds"):
        res.images(kinds="film")
    for taus in ([], [0.5, 2.0], "abc"):
        with pytest.raises(InvalidArgument, match="taus"):
            res.sweep(taus=taus)
    assert np.isclose(res.metrics(clip_tau=np.float32(0.5))["cra"].notna().sum(), len(res.metrics()["cra"]))
