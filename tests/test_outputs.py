"""The output fence: every option of the command line that writes a file or a folder is found in the app itself
(so a new command or option cannot escape) and tried against every forbidden target — the database, another
database (known by its bytes, not its name), the labels sidecar, the write-ahead log, the maps folder and a
file in it, a FIFO, a socket, a folder where a file is meant (or a file where a folder is meant), a folder
that does not exist: each is refused with one line and left byte-identical. After each real writer command,
no file outside its declared outputs changed."""
from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from helpers import BASELINE, build_small_dataset, cli, invoke

from iconicity_core.cli import app
from iconicity_core.cli.options import OUTPUT_METAVARS, OUTPUT_NAMES
from iconicity_core.errors import OutputRefused
from iconicity_core.io import labels
from iconicity_core.io.atomic import atomic_write
from iconicity_core.io.outputs import fence_output, fenced_folder, is_duckdb_file, owner_of, protected
from iconicity_core.testing import file_state


# -- the fence itself ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    """A scored database (baseline embedders, every vector kept) with a map; tests copy it."""
    d = tmp_path_factory.mktemp("outputs")
    root = build_small_dataset(d / "ds")
    database = d / "s.duckdb"
    cli("score", root, "--db", database, *BASELINE, "--keep-embeddings", "all")
    cli("map", "--db", database)
    return database


@pytest.fixture
def place(scored, tmp_path) -> Path:
    """A private copy of the scored database in its own folder, with its sidecars and a second database."""
    database = tmp_path / "study.duckdb"
    shutil.copy(scored, database)
    shutil.copytree(Path(str(scored) + ".maps"), Path(str(database) + ".maps"))
    labels.append(database, [("generations/model_a/mona/copy.png", "replica", "", "ana")])
    shutil.copy(scored, tmp_path / "other.csv")                      # another database, named like a CSV
    return database


def test_a_database_is_known_by_its_bytes_not_its_name(place, tmp_path):
    assert is_duckdb_file(place)
    assert is_duckdb_file(tmp_path / "other.csv")
    (tmp_path / "fake.duckdb").write_text("not a database")
    assert not is_duckdb_file(tmp_path / "fake.duckdb")
    assert not is_duckdb_file("/dev/null")
    for target in (place, tmp_path / "other.csv"):
        with pytest.raises(OutputRefused, match="is a DuckDB database"):
            fence_output(target)


def test_sidecars_devices_and_kind_mismatches_are_refused(place, tmp_path):
    maps = Path(str(place) + ".maps")
    parquet = next(maps.glob("*.parquet"))
    cases = {labels.sidecar(place): "labels file", Path(str(place) + ".wal"): "write-ahead log",
             Path(str(place) + ".lock"): "lock file", Path(str(labels.sidecar(place)) + ".lock"): "lock",
             maps: "maps folder", parquet: "maps folder", maps / "new.csv": "maps folder",
             Path("/dev/null"): "not a regular file", tmp_path: "is a folder"}
    for target, why in cases.items():
        with pytest.raises(OutputRefused, match=why):
            fence_output(target)
    assert owner_of(parquet) == (place, "the maps folder")
    with pytest.raises(OutputRefused, match="is a file, not a folder"):
        fence_output(_file(tmp_path), "folder")
    with pytest.raises(OutputRefused, match="does not exist"):
        fence_output(tmp_path / "nowhere" / "deeper" / "x.csv")
    assert not (tmp_path / "nowhere").exists()                                 # no parent created unasked
    assert fence_output(tmp_path / "made" / "x.csv", create_parents=True).parent.is_dir()
    with pytest.raises(OutputRefused, match="is a file, not a folder"):
        fence_output(_file(tmp_path) / "x.csv")
    assert protected(tmp_path / "fine.csv") is None


def _file(tmp_path: Path) -> Path:
    f = tmp_path / "plain.txt"
    f.write_text("mine")
    return f


def test_the_atomic_writer_replaces_only_regular_files(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(OutputRefused):
            atomic_write(target, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "x.csv", "x")                       # parents only when asked
    assert not (tmp_path / "missing").exists()
    real = _file(tmp_path)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write(link, "new")                                                   # the link is replaced, not its target
    assert real.read_text() == "mine"
    assert link.read_text() == "new"
    assert not link.is_symlink()


# -- every output option of the app, found in the app --------------------------------------------------------
def output_params() -> list[tuple[tuple[str, ...], object, str]]:
    """``(command path, parameter, kind)`` for every parameter of the app that writes a file or a folder."""
    found = []

    def walk(cmd, path):
        for p in cmd.params:
            if p.name in OUTPUT_NAMES or p.metavar in OUTPUT_METAVARS:
                found.append((path, p, OUTPUT_METAVARS.get(p.metavar, "?")))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))
    walk(typer.main.get_command(app), ())
    return found


def test_every_output_option_of_the_app_is_fenced():
    found = output_params()
    assert len(found) >= 12, found
    unfenced = [(" ".join(path), p.name) for path, p, kind in found if kind == "?" or p.callback is None]
    assert not unfenced, f"output options without the fence (use options.out_option): {unfenced}"


def _argv(path, param, value, database) -> list[str]:
    """A command line that reaches the fence of ``param`` with ``value`` (the rest as small as the parser allows)."""
    args = [*path]
    if param.param_type_name == "argument":
        args.append(str(value))
    else:
        args += [param.opts[0], str(value)]
    if path[:1] not in (("references",),):
        args += ["--db", str(database)]
    return args


def _targets(database: Path, tmp: Path, kind: str) -> dict[str, Path]:
    maps = Path(str(database) + ".maps")
    Path(str(database) + ".wal").write_bytes(b"\x00wal bytes")
    fifo, sock = tmp / "fifo", tmp / "sock"
    if not fifo.exists():
        os.mkfifo(fifo)
    if not sock.exists():
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(sock))
        s.close()
    out = {"the database": database, "another database": tmp / "other.csv", "the labels sidecar": labels.sidecar(database),
           "the write-ahead log": Path(str(database) + ".wal"), "the maps folder": maps,
           "a map file": next(maps.glob("*.parquet")), "a FIFO": fifo, "a socket": sock}
    if kind == "file":
        out["a folder"] = tmp / "a_folder"
        out["a folder"].mkdir(exist_ok=True)
        out["a missing folder"] = tmp / "missing" / "x.csv"
    else:
        out["a file"] = tmp / "notes.txt"
        out["a file"].write_text("my notes")
        out["a missing folder"] = tmp / "missing" / "deeper"
    return out


def test_every_output_option_refuses_every_forbidden_target(place, tmp_path):
    checked = 0
    for path, param, kind in output_params():
        creates_parents = "with its parents" in (getattr(param, "help", None) or "")
        for what, target in _targets(place, tmp_path, kind).items():
            if what == "a missing folder" and creates_parents:
                continue                                  # documented: this option creates its parents
            before = file_state(target)
            r = invoke(*_argv(path, param, target, place))
            where = f"{' '.join(path)} {param.name} -> {what}"
            assert r.exit_code == 2, (where, r.output)
            assert "Traceback" not in r.output, (where, r.output)
            assert r.stdout == "", (where, r.output)
            assert [line for line in r.stderr.splitlines() if line.strip()] == [r.stderr.strip()], (where, r.stderr)
            assert r.stderr.startswith("error: "), (where, r.stderr)
            assert file_state(target) == before, where                     # byte-identical (a FIFO is still a FIFO)
            assert not (tmp_path / "missing").exists(), where
            checked += 1
    assert checked >= 100


def test_the_demo_refuses_every_forbidden_target(place, tmp_path):
    """`iconicity demo --db` writes a database: it replaces only a demo, never anything else."""
    for what, target in _targets(place, tmp_path, "file").items():
        if what == "a missing folder":
            continue
        before = file_state(target)
        r = invoke("demo", "--db", target, "--embedders", "baseline", "--per-cell", "1", "--quiet")
        assert r.exit_code == 2, (what, r.output)
        assert "Traceback" not in r.output, (what, r.output)
        assert file_state(target) == before, what


@pytest.mark.slow
def test_share_onto_a_fifo_or_the_database_from_a_real_shell(place, tmp_path):
    """The boundary holds outside the test runner too: a real process, its exit status and its stderr."""
    os.mkfifo(tmp_path / "fifo")
    for target in (tmp_path / "fifo", place, labels.sidecar(place)):
        before = file_state(target)
        r = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "share", "--db", str(place), "--out", str(target)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error: "), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert file_state(target) == before


# -- after each command, nothing outside its declared outputs changed ------------------------------------------
def _snapshot(folder: Path) -> dict[str, object]:
    return {str(p.relative_to(folder)): file_state(p) for p in folder.rglob("*") if not p.is_dir()}


def _changed(before: dict, after: dict) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def test_each_writer_command_changes_only_its_declared_outputs(place, tmp_path):
    db = place.name
    lab = tmp_path / "in.csv"
    lab.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\ngenerations/model_a/mona/other.png,miss\n"
                   "generations/model_b/mona/copy.png,replica\ngenerations/model_b/mona/shuffled.png,reinterpretation\n"
                   "generations/model_a/film/other.png,miss\n")
    own = {db, f"{db}.wal"}                                           # a writer may write its own database
    commands = [
        (["metrics", "--db", place, "-o", tmp_path / "m.csv"], {"m.csv"}),
        (["export", "--db", place, "--out", tmp_path / "ex"], {"ex/"} | own),
        (["analyze", "--db", place, "--out", tmp_path / "an", "--n-resamples", "5", "--covariates", "sitelinks"],
         {"an/"} | own),
        (["evaluate", "--db", place, "--labels", lab, "--out", tmp_path / "ev.csv", "--n-resamples", "5", "--quiet"],
         {"ev.csv", "ev.meta.json"} | own),
        (["calibrate", "--db", place, "--labels", lab, "--n-resamples", "5"], own),
        (["robustness", "--db", place, "--out", tmp_path / "rb", "--n-resamples", "5"], {"rb/"}),
        (["share", "--db", place, "--out", tmp_path / "s.html", "--quiet"], {"s.html"}),
        (["labels", "import", "--db", place, lab], {f"{db}.labels.csv", f"{db}.labels.csv.lock"}),
        (["labels", "export", "--db", place, "--out", tmp_path / "l.csv"], {"l.csv"}),
        (["map", "--db", place], {f"{db}.maps/"} | own),
        (["covariates", "dates", "--db", place, "--column", "inception"], own),
        (["metrics", "--db", place, "--by", "image"], set()),
    ]
    for args, declared in commands:
        before = _snapshot(tmp_path)
        r = invoke(*args)
        assert r.exit_code == 0, (args, r.output)
        changed = _changed(before, _snapshot(tmp_path))
        outside = {c for c in changed if c not in declared and not any(c.startswith(d) for d in declared if d.endswith("/"))}
        assert not outside, (args[0], outside)
        unnamed = {c for c in changed - own if not c.endswith(".lock") and Path(c).name not in r.output}
        assert not unnamed, (args[0], "writes without naming", unnamed, r.output[-500:])
    runs = json.loads(cli("runs", "--db", place, "--format", "json"))["rows"]
    export_run = next(r["run_id"] for r in runs if r["kind"] == "export")
    before = _snapshot(tmp_path)
    cli("runs", "delete", export_run, "--db", place, "--yes")
    changed = _changed(before, _snapshot(tmp_path))
    assert changed, changed
    assert all(c.startswith("ex/") or c in own for c in changed), changed


def test_a_folder_output_is_created_but_not_its_parents(place, tmp_path):
    r = invoke("export", "--db", place, "--out", tmp_path / "a" / "b")
    assert r.exit_code == 2
    assert "does not exist" in r.stderr
    assert not (tmp_path / "a").exists()
    cli("export", "--db", place, "--out", tmp_path / "new")
    assert (tmp_path / "new" / "iconicity_images.csv").is_file()
    assert fenced_folder(tmp_path / "new2").is_dir()


def test_tables_leave_as_csv_only_through_the_spreadsheet_safe_writer():
    """Every CSV the tool hands to people — CLI, exports, the dashboard's downloads (the Thresholds page's robustness
    table included) — is made by ``io.csvfiles.to_csv`` (or ``dashboard.data.csv``), which neutralises formulas."""
    root = Path(__file__).resolve().parents[1]
    raw = [f"{p.relative_to(root)}:{i}" for p in [*(root / "iconicity_core").rglob("*.py"), *(root / "pages").glob("*.py")]
           if p.name != "csvfiles.py"
           for i, line in enumerate(p.read_text().splitlines(), 1) if ".to_csv(" in line]
    assert not raw, f"CSV written without io.csvfiles.to_csv: {raw}"


def test_an_output_that_cannot_be_written_is_one_line(place, tmp_path):
    """Every output option, pointed into a folder nobody may write to: one line naming the path, exit 2."""
    from test_cli_errors import _read_only_folder

    ro = _read_only_folder(tmp_path)
    for path, param, kind in output_params():
        target = ro / ("out.csv" if kind == "file" else "out_folder")
        extra = {("share",): ["--quiet"], ("analyze",): ["--n-resamples", "5", "--covariates", "sitelinks"],
                 ("evaluate",): ["--n-resamples", "5", "--quiet"], ("robustness",): ["--n-resamples", "5"]}.get(path, [])
        if path[0] in ("references", "covariates"):
            continue                                   # network commands: their folder is fenced like the others
        r = invoke(*_argv(path, param, target, place), *extra)
        where = f"{' '.join(path)} {param.name}"
        assert r.exit_code == 2, (where, r.output)
        assert "Traceback" not in r.output, (where, r.output)
        errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, (where, r.stderr)
        assert str(ro) in errors[0], (where, r.stderr)
        assert not target.exists(), where
