"""The labels sidecar (``DB.labels.csv``) and label files: read what a person edited, append and never rewrite,
say why a row is skipped, fail cleanly, and leave as spreadsheet-safe CSV."""
from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from helpers import BASELINE, cli, invoke

from iconicity_core.io import labels

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
    assert labels.current(database) == {}
    assert labels.problems(database)
    with pytest.raises(labels.LabelsFileError, match="first line"):
        labels.append(database, [("gen/d.png", "partial", "", "x")])


def test_import_files_report_why_rows_are_skipped(tmp_path):
    f = tmp_path / "in.csv"
    f.write_bytes("image,label\na.png,replica\nb.png,maybe\na.png,miss\n".encode("utf-16"))
    given, problems = labels.read_labels(f)
    assert given == {"a.png": "miss"}
    assert any("maybe" in m for _, m in problems)
    assert any("labelled 'replica' on line 2" in m for _, m in problems)
    f.write_text('image,label\n"a.png,replica\n')
    with pytest.raises(labels.LabelsFileError, match="quote"):
        labels.read_labels(f)
    for bad in (tmp_path, Path("/dev/zero")):
        with pytest.raises(labels.LabelsFileError, match=r"folder|regular file"):
            labels.read_labels(bad)


def test_labels_commands_fail_cleanly(small_dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE)
    for bad in (tmp_path, Path("/dev/zero")):
        r = invoke("labels", "import", "--db", database, bad)
        assert r.exit_code == 2
        assert "Traceback" not in r.output
        assert "error:" in r.output
    r = invoke("labels", "export", "--db", database, "--out", tmp_path)
    assert r.exit_code == 2
    assert "is a folder" in r.output
    lock = Path(str(labels.sidecar(database)) + ".lock")
    lock.symlink_to(tmp_path / "elsewhere")
    good = tmp_path / "good.csv"
    good.write_text("image,label\ngenerations/model_a/mona/copy.png,replica\n")
    r = invoke("labels", "import", "--db", database, good)
    assert r.exit_code == 2
    assert "link" in r.output
    assert not (tmp_path / "elsewhere").exists()
    lock.unlink()
    if os.geteuid() != 0:                          # root can write anywhere: a read-only folder means nothing
        ro = tmp_path / "ro"
        ro.mkdir()
        shutil.copy(database, ro / "s.duckdb")
        ro.chmod(0o555)
        try:
            r = invoke("labels", "import", "--db", ro / "s.duckdb", good)
            assert r.exit_code == 2
            assert "cannot be written" in r.output
        finally:
            ro.chmod(0o755)


def test_spreadsheet_formula_cells_are_neutralised_on_export(small_dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE)
    labels.append(database, [("generations/model_a/mona/copy.png", "replica", "", "=HYPERLINK(\"http://x\")")])
    raw = labels.sidecar(database).read_text()
    assert "'=HYPERLINK" in raw
    assert labels.rows(database)[0]["who"].startswith("=HYPERLINK")
    mona = small_dataset / "generations" / "model_a" / "mona"
    shutil.copy(mona / "copy.png", mona / "=1+1.png")
    cli("score", small_dataset, "--db", database, *BASELINE)
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


def test_an_export_with_no_label_and_calibrate_on_it_say_what_is_missing(small_dataset, tmp_path):
    """A header-only labels file is named as the problem (not "the database has no labels" beside --labels), and the
    export of a database nobody labelled says why it is only a header and what evaluate uses instead."""
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE)
    out = tmp_path / "l.csv"
    r = invoke("labels", "export", "--db", database, "--out", out)
    assert r.exit_code == 0, r.output
    assert "nobody has labelled images" in r.stderr
    assert "database's own labels" in r.stderr
    for cmd in ("calibrate", "evaluate"):
        r = invoke(cmd, "--db", database, "--labels", out, *(["--out", tmp_path / "e.csv"] if cmd == "evaluate" else []))
        assert r.exit_code == 2, r.output
        assert f"{out} names no scored generated image with a label" in r.stderr, r.stderr
    r = invoke("calibrate", "--db", database)
    assert "label images on the dashboard's Label page, or pass --labels" in r.stderr, r.stderr
