"""Bad input, tried as an adversarial user would: hand-written CSVs, colliding or reserved covariate
names, seeds that are not seeds, links that lead nowhere, crafted URLs and databases. Each case either
succeeds (and says what it did) or ends with a one-line error naming the file and what to do — never a
traceback, never a silent loss."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import build_small_dataset, save, texture, write_refs_csv
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from iconicity_core import db
from iconicity_core.cli import app
from iconicity_core.dashboard.registry import PAGES as REGISTRY

runner = CliRunner()
APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = [path for path, _title, _icon in REGISTRY if path != "pages/overview.py"]   # the app opens on the Overview
BASELINE = ["--clip-model", "baseline", "--dino-model", "baseline", "--quiet"]


def score(root: Path, database: Path, code: int = 0) -> dict | str:
    r = runner.invoke(app, ["score", str(root), "--db", str(database), *BASELINE, "--format", "json"])
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    return json.loads(r.stdout) if code == 0 else r.output


def problems(summary: dict) -> str:
    return "\n".join(f"{p['item']}: {p['message']}" for p in summary["problems"])


def by_image(database: Path):
    con = db.connect(database, read_only=True)
    try:
        return db.metrics_sql.metrics_table(con, "image")
    finally:
        con.close()


def all_pages_render(database: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("ICONICITY_DB", str(database))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    return at


# -- references.csv ---------------------------------------------------------------------------------

def test_colliding_and_reserved_covariate_names(tmp_path, monkeypatch):
    root = build_small_dataset(tmp_path / "ds")
    (root / "references.csv").write_text(
        "slug,title,kind,Title,KIND,page views,page_views,!!!,???,model,cra,variant\n"
        "mona,Mona Lisa,static,1,2,3,4,5,6,7,8,9\n"
        "film,Le Voyage dans la Lune,dynamic,1,2,30,40,50,60,70,80,90\n", encoding="utf-8")
    out = score(root, tmp_path / "c.duckdb")
    text = problems(out)
    con = db.connect(tmp_path / "c.duckdb", read_only=True)
    cols = set(db.refs.columns(con))
    titles = db.refs.titles(con)
    con.close()
    assert {"cov_title", "cov_kind", "page_views", "page_views_2", "col", "col_2", "cov_model", "cov_cra",
            "cov_variant"} <= cols
    assert titles == {"film": "Le Voyage dans la Lune", "mona": "Mona Lisa"}        # the real title column
    for header in ("'Title'", "'KIND'", "'page_views'", "'???'", "'model'"):
        assert header in text, header
    all_pages_render(tmp_path / "c.duckdb", monkeypatch)


def test_a_padded_slug_header_does_not_replace_the_slug_column(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    (root / "references.csv").write_text(" slug ,title,kind,slug\nmona,Mona Lisa,static,x\n"
                                         "film,Voyage,dynamic,y\n", encoding="utf-8")
    out = score(root, tmp_path / "s.duckdb")
    assert set(by_image(tmp_path / "s.duckdb").slug) == {"mona", "film"}
    assert "'slug' is stored as covariate 'cov_slug'" in problems(out)


def test_a_covariate_that_changes_type_between_runs(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    database = tmp_path / "t.duckdb"
    for values, want in ((("5", "7"), "DOUBLE"), (("high", "7"), "VARCHAR"), (("5", "7"), "DOUBLE")):
        write_refs_csv(root, [{"slug": "mona", "title": "Mona Lisa", "kind": "static", "pop": values[0]},
                              {"slug": "film", "title": "Voyage", "kind": "dynamic", "pop": values[1]}])
        score(root, database)
        con = db.connect(database, read_only=True)
        assert db.refs.columns(con)["pop"] == want
        assert db.refs.column_values(con, "pop")["mona"] in (5.0, "high")
        con.close()


def test_a_latin1_references_csv_is_read_with_a_warning(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    (root / "references.csv").write_bytes("slug,title,kind\nmona,Amélie à Paris,static\nfilm,Voyage,dynamic\n"
                                          .encode("latin-1"))
    out = score(root, tmp_path / "l.duckdb")
    assert "references.csv" in problems(out)
    assert "UTF-8" in problems(out)
    con = db.connect(tmp_path / "l.duckdb", read_only=True)
    assert db.refs.titles(con)["mona"] == "Amélie à Paris"
    con.close()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "references.csv: the file is empty"),
    (b"slug,title\nmona,Mona\n", "missing column(s) kind"),
])
def test_unusable_references_csv_is_one_line_that_names_the_file(tmp_path, content, message):
    root = build_small_dataset(tmp_path / "ds")
    (root / "references.csv").write_bytes(content)
    out = score(root, tmp_path / "e.duckdb", code=2)
    assert message in out
    assert out.strip().count("\n") == 0


def test_bad_rows_and_a_nul_byte_are_reported_and_the_rest_is_read(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    (root / "references.csv").write_bytes(b"slug,title,kind\nmona,Mona Lisa,static\n,Empty slug,static\n"
                                          b"x,Odd kind,painting\nMONA,Duplicate,static\nfilm,Voyage,dynamic\n"
                                          b"bad,has a \x00 byte,static\n")
    out = score(root, tmp_path / "r.duckdb")
    text = problems(out)
    for item in ("references.csv:3", "references.csv:4", "references.csv:5"):
        assert item in text, item
    assert set(by_image(tmp_path / "r.duckdb").slug) == {"mona", "film"}


# -- generations.csv --------------------------------------------------------------------------------

def test_seeds_that_are_not_seeds_and_rows_with_extra_fields(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    rows = ["path,model,slug,variant,prompt,seed"]
    bad = ["inf", "1e30", "9223372036854775808", "nan", "abc", "7.5"]
    for i, seed in enumerate([*bad, "7.0", "-3"]):
        save(texture(40 + i), root / f"extra/g{i}.png")
        rows.append(f"extra/g{i}.png,model_c,mona,synonym,Mona Lisa,{seed}")
    save(texture(60), root / "extra/wide.png")
    rows.append("extra/wide.png,model_c,mona,synonym,Mona, Lisa,5,unexpected")        # an unquoted comma
    (root / "generations.csv").write_text("\n".join(rows) + "\n")
    out = score(root, tmp_path / "g.duckdb")
    text = problems(out)
    for line, seed in enumerate(bad, start=2):
        assert f"generations.csv:{line}: seed {seed!r}" in text, seed
    assert "generations.csv:10" in text
    assert "more than the header" in text
    img = by_image(tmp_path / "g.duckdb").set_index("image")
    assert img.loc["extra/g6.png", "seed"] == 7
    assert img.loc["extra/g7.png", "seed"] == -3
    assert img.loc[[f"extra/g{i}.png" for i in range(len(bad))], "seed"].isna().all()
    assert "extra/wide.png" in img.index                                              # scored all the same


def test_one_file_listed_for_two_variants_is_scored_for_both(tmp_path):
    root = build_small_dataset(tmp_path / "ds")
    (root / "generations.csv").write_text("path,model,slug,variant\ngenerations/model_a/mona/copy.png,model_a,mona,title\n"
                                          "generations/model_a/mona/copy.png,model_a,mona,synonym\n"
                                          "generations/model_a/mona/copy.png,model_a,mona,synonym\n")
    out = score(root, tmp_path / "v.duckdb")
    img = by_image(tmp_path / "v.duckdb")
    copies = img[img.image == "generations/model_a/mona/copy.png"]
    assert sorted(copies.variant) == ["synonym", "title"]
    assert "generations.csv:4" in problems(out)
    assert "already listed" in problems(out)


# -- folders and links ------------------------------------------------------------------------------

def test_links_that_lead_nowhere_outside_links_and_folders_that_share_a_slug(tmp_path, monkeypatch):
    root = build_small_dataset(tmp_path / "ds")
    outside = save(texture(77), tmp_path / "elsewhere" / "x.png")
    g = root / "generations" / "model_a" / "mona"
    (g / "dangling.png").symlink_to(tmp_path / "missing.png")
    (g / "loop.png").symlink_to(g / "loop.png")
    (g / "outside.png").symlink_to(outside)
    save(texture(78), root / "generations" / "model_a" / "Mona" / "upper.png")           # 'Mona' reads as 'mona'
    save(texture(1), root / "references" / "MONA" / "second.png")
    out = score(root, tmp_path / "k.duckdb")
    text = problems(out)
    assert "dangling.png: a link that leads nowhere" in text
    assert "loop.png: a link that leads nowhere" in text
    assert "outside.png: a link to" in text
    assert "dashboard will not show it" in text
    assert "folders 'MONA', 'mona' all read as slug 'mona'" in text
    assert "folders 'Mona', 'mona' all read as slug 'mona'" in text
    img = by_image(tmp_path / "k.duckdb")
    assert {"generations/model_a/Mona/upper.png", "generations/model_a/mona/outside.png"} <= set(img.image)
    con = db.connect(tmp_path / "k.duckdb", read_only=True)
    fid = img.set_index("image").loc["generations/model_a/mona/outside.png", "file_id"]
    assert db.views.image_path(con, fid) is None                     # resolves outside its root: not served
    con.close()


def test_a_crafted_database_cannot_serve_files_outside_the_allowed_roots(tmp_path):
    database = tmp_path / "crafted.duckdb"
    score(build_small_dataset(tmp_path / "ds"), database)
    secret = save(texture(5), tmp_path / "private" / "secret.png")
    con = duckdb.connect(str(database))
    con.execute("INSERT INTO roots VALUES (99, ?, 'design')", [str(secret.parent)])
    con.execute("""INSERT INTO files (file_id, root_id, relpath, role, slug) VALUES ('evil', 99, 'secret.png',
                   'generation', 'mona')""")
    con.close()
    con = db.connect(database, read_only=True)
    assert db.views.image_paths(con, ["evil"])["evil"] == secret.resolve()          # a database is trusted input...
    assert db.views.image_paths(con, ["evil"], allowed=[tmp_path / "ds"])["evil"] is None   # ...unless fenced
    con.close()
    from iconicity_core.dashboard.databases import allowed_roots

    assert allowed_roots(["--db", "x", "--allow-root", str(tmp_path / "ds")], {}) == (str((tmp_path / "ds").resolve()),)
    assert allowed_roots([], {"ICONICITY_IMAGE_ROOTS": f"/a{os.pathsep}/b"}) == ("/a", "/b")
    assert allowed_roots([], {}) is None


# -- dashboard --------------------------------------------------------------------------------------

def test_markdown_in_the_url_is_shown_literally(small_demo_db, monkeypatch):
    monkeypatch.setenv("ICONICITY_DB", str(small_demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ref"] = "[Session expired - log in](http://evil/) ![x](http://evil/p.png)"
    at.query_params["models"] = ["<img src=x onerror=alert(1)>"]
    at.run()
    assert not at.exception
    assert any("ignored" in w.value for w in at.warning)
    notices = [t.value for t in at.text]                        # st.text: plain text, never Markdown or HTML
    assert any("[Session expired - log in](http://evil/)" in n for n in notices)
    assert any("<img src=x onerror=alert(1)>" in n for n in notices)
    assert not any("evil" in m.value for m in at.markdown)


def test_an_old_database_with_a_covariate_named_like_a_score_column(small_demo_db, tmp_path, monkeypatch):
    import shutil

    database = tmp_path / "old.duckdb"
    shutil.copy(small_demo_db, database)
    con = duckdb.connect(str(database))
    for name in ("model", "cra", "variant"):
        con.execute(f'ALTER TABLE refs ADD COLUMN "{name}" DOUBLE')
        con.execute(f'UPDATE refs SET "{name}" = 1.5')
    con.close()
    at = all_pages_render(database, monkeypatch)
    at.switch_page("pages/correlations.py").run()
    at.toggle(key="co_more").set_value(True).run()
    assert {"cov model", "cov cra", "cov variant"} <= set(at.dataframe[0].value["covariate"])   # apart from the scores


def test_a_covariate_command_refuses_a_reserved_name(tmp_path):
    database = tmp_path / "n.duckdb"
    score(build_small_dataset(tmp_path / "ds"), database)
    counts = tmp_path / "counts.csv"
    counts.write_text("slug,count\nmona,5\nfilm,7\n")
    r = runner.invoke(app, ["covariates", "frequency", "--db", str(database), "--from-csv", str(counts),
                            "--name", "model"])
    assert r.exit_code == 2
    assert "name the tool uses for its own columns" in r.output
    assert "Traceback" not in r.output


def test_two_first_starts_do_not_race_to_build_the_demo(tmp_path):
    target = tmp_path / "data" / "demo.duckdb"
    code = ("import sys; from iconicity_core.demo.build import build_demo; "
            "s = build_demo(sys.argv[1], embedders='baseline', per_cell=2, quiet=True); print('built' if s else 'waited')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert sorted(o[0].strip() for o in outs) == ["built", "waited"]
    assert len(by_image(target)) == 10 * 4 * 2 * 2
