"""Re-run the attacks of the last red-team review (issue #29) and print the verdict table: per attack one of
``handled`` (refused or done as decided: one line, the target byte-identical), ``traceback``, ``data loss``,
``security`` (a formula reaches a spreadsheet) or ``unclear`` (none of those: look at it). The shared HTML
file's JavaScript (the review's share-page tampering) is another issue's and is listed as ``not re-run``.

    python bench/red_team.py            # about a minute on 2 cores; a scratch folder, removed at the end
    python bench/red_team.py --keep     # keep the scratch folder (printed)

Each attack runs the real command in-process (the CLI's error boundary is the app's own group class, so it
holds there as in a shell), the API directly, or the dashboard under Streamlit's AppTest.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from iconicity_core.testing import file_state as state  # noqa: E402  (the checkout, not an installed copy)

FORMULA = ("=", "+", "-", "@", "\t", "\r")


class Lab:
    def __init__(self, root: Path):
        from typer.testing import CliRunner

        from iconicity_core.cli import app

        self.root, self.app, self.runner = root, app, CliRunner()
        self.rows: list[tuple[str, str, str, str]] = []
        self.pristine: Path | None = None

    def snapshot(self) -> None:
        """Keep a copy of the scratch folder: every attack starts from it (an attack that destroys something
        does not change the next one's verdict)."""
        self.pristine = self.root.parent / (self.root.name + "_pristine")
        shutil.copytree(self.root, self.pristine, symlinks=True)

    def restore(self) -> None:
        if self.pristine is None:
            return
        for src in self.pristine.iterdir():
            dst = self.root / src.name
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            elif dst.exists() or dst.is_symlink():
                dst.unlink()
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)

    def cli(self, *args, env: dict | None = None):
        return self.runner.invoke(self.app, [str(a) for a in args], env=env)

    def record(self, group: str, attack: str, verdict: str, note: str = "") -> None:
        self.rows.append((group, attack, verdict, note))
        print(f"{verdict:<11} {group:<10} {attack}" + (f"  — {note}" if note else ""), flush=True)

    def refused(self, group: str, attack: str, args, *targets: Path, env: dict | None = None, expect: str = "") -> None:
        """The attack must be refused in one line, every target left as it was."""
        self.restore()
        before = [state(t) for t in targets]
        r = self.cli(*args, env=env)
        after = [state(t) for t in targets]
        errors = [line for line in (r.stderr or "").splitlines() if line.startswith("error: ")]
        if (r.exception is not None and not isinstance(r.exception, SystemExit)) or "Traceback" in r.output:
            verdict, note = "traceback", type(r.exception).__name__
        elif before != after:
            verdict, note = "data loss", "a target changed"
        elif r.exit_code != 0 and len(errors) == 1 and expect in errors[0]:
            verdict, note = "handled", errors[0][7:90]
        else:
            verdict, note = "unclear", f"exit {r.exit_code}: {(r.stderr or r.stdout).strip()[:80]}"
        self.record(group, attack, verdict, note)


def build(root: Path) -> dict[str, Path]:
    """A demo database (labels, two runs, a map) and a user's scores database beside its dataset folder."""
    from iconicity_core.demo.build import build_demo

    demo = root / "demo" / "demo.duckdb"
    demo.parent.mkdir()
    build_demo(demo, embedders="baseline", per_cell=1, quiet=True)
    user = root / "study.duckdb"
    shutil.copy(demo, user)
    import duckdb

    con = duckdb.connect(str(user))
    con.execute("DELETE FROM meta WHERE key = 'demo_version'")
    con.close()
    (root / "study_dataset").mkdir()
    (root / "study_dataset" / "notes.txt").write_text("a person's notes")
    return {"demo": demo, "user": user}


def attacks(lab: Lab, dbs: dict[str, Path]) -> None:
    import duckdb

    from iconicity_core.io import labels

    r = lab.root
    user = dbs["user"]
    lab.cli("map", "--db", user)
    lab.cli("export", "--db", user, "--out", r / "exports")
    (r / "other").mkdir()
    lab.cli("analyze", "--db", user, "--out", r / "other" / "an", "--n-resamples", "5")
    first = json.loads(lab.cli("metrics", "--db", user, "--by", "image", "--format", "json").stdout)["rows"][0]["image"]
    labels.append(user, [(first, "replica", "", "ana")])
    maps = Path(str(user) + ".maps")
    parquet = next(maps.glob("*.parquet"))
    other_db = r / "b.duckdb"
    shutil.copy(user, other_db)
    wal = Path(str(user) + ".wal")
    wal.write_bytes(b"wal")
    lab.snapshot()

    # -- data losses ------------------------------------------------------------------------------------------
    g = "data loss"
    lab.refused(g, "demo --db study.duckdb (a user's database and study_dataset/)",
                ["demo", "--db", user, "--embedders", "baseline", "--per-cell", "1", "--quiet"], user,
                r / "study_dataset")
    share = (["share"], ["--quiet"], "--out")
    metrics, lexport = (["metrics"], [], "-o"), (["labels", "export"], [], "--out")
    for (cmd, extra, opt), target, name in (
            (metrics, user, "metrics -o DB"), (lexport, user, "labels export --out DB"),
            ((["evaluate"], ["--n-resamples", "5", "--quiet"], "--out"), user, "evaluate --out DB"),
            (share, other_db, "share --out b.duckdb"), (metrics, other_db, "metrics -o b.duckdb"),
            (share, labels.sidecar(user), "share --out DB.labels.csv"),
            (lexport, labels.sidecar(user), "labels export --out DB.labels.csv"),
            (share, parquet, "share --out DB.maps/<run>-pca.parquet"), ((["export"], [], "--out"), maps, "export --out DB.maps"),
            (share, wal, "share --out DB.wal")):
        lab.refused(g, name, [*cmd, "--db", user, *extra, opt, target], target, user)
    if os.geteuid() == 0:
        dev = r / "null"
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))      # a /dev/null of our own
        lab.refused(g, "share --out <a device node> (as root)", ["share", "--db", user, "--quiet", "--out", dev], dev)
    fifo = r / "fifo"
    os.mkfifo(fifo)
    lab.refused(g, "metrics -o <a FIFO>", ["metrics", "--db", user, "-o", fifo], fifo)
    lab.refused(g, "metrics -o a/b/c.csv (parents created silently)", ["metrics", "--db", user, "-o", r / "a" / "b" / "c.csv"],
                r / "a")
    # runs delete in a same-folder copy
    lab.restore()
    copy = r / "copy.duckdb"
    shutil.copy(user, copy)
    mine = {p: state(p) for p in [*maps.rglob("*"), *(r / "exports").rglob("*"), *(r / "other").rglob("*")] if p.is_file()}
    runs = json.loads(lab.cli("runs", "--db", copy, "--format", "json").stdout)["rows"]
    for kind in ("map", "export", "analyze", "score"):
        rid = next(x["run_id"] for x in runs if x["kind"] == kind)
        res = lab.cli("runs", "delete", rid, "--db", copy, "--yes")
        lost = [p for p, s in mine.items() if state(p) != s]
        lab.record(g, f"runs delete {kind} run in a same-folder copy", "data loss" if lost else
                   ("handled" if res.exit_code == 0 else "unclear"), f"{len(lost)} of the original's files lost")
    victim = r / "victim.txt"
    victim.write_text("precious")
    from iconicity_core.io.provenance import sha256_file

    rid = next(x["run_id"] for x in json.loads(lab.cli("runs", "--db", user, "--format", "json").stdout)["rows"]
               if x["kind"] == "export")
    sub = r / "sub"
    sub.mkdir()
    moved = sub / "s.duckdb"
    shutil.copy(user, moved)
    con = duckdb.connect(str(moved))
    con.execute("UPDATE runs SET outputs = ? WHERE run_id = ?",
                [json.dumps({"files": {"../victim.txt": sha256_file(victim)}, "database": str(moved)}), rid])
    con.close()
    res = lab.cli("runs", "delete", rid, "--db", moved, "--yes")
    lab.record(g, "runs delete with a recorded key ../victim.txt (matching hash)",
               "data loss" if not victim.exists() else "handled", res.stdout.strip().splitlines()[0][:80])
    # the demo rebuilt while a writer holds it
    stale = r / "data" / "demo.duckdb"
    stale.parent.mkdir()
    shutil.copy(dbs["demo"], stale)
    con = duckdb.connect(str(stale))
    con.execute("UPDATE meta SET value = 'older' WHERE key = 'demo_version'")
    con.close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(120)", str(stale)], stdout=subprocess.PIPE, text=True)
    try:
        holder.stdout.readline()
        before = state(stale)
        at = app_test({"ICONICITY_DATA": str(stale.parent)})
        busy = any("in use by another process" in e.value for e in at.error)
        lab.record(g, "first dashboard start while a writer holds an old demo",
                   "data loss" if state(stale) != before else ("handled" if busy and not at.exception else "unclear"))
        lab.refused(g, "iconicity demo while a writer holds the demo",
                    ["demo", "--db", stale, "--embedders", "baseline", "--per-cell", "1", "--quiet"], stale,
                    expect="in use")
    finally:
        holder.kill()
        holder.wait()

    # -- security -----------------------------------------------------------------------------------------------
    g = "security"
    page = (ROOT / "pages" / "thresholds.py").read_text()
    line = next(x for x in page.splitlines() if "th_rob_csv" in x)
    lab.record(g, "Thresholds page robustness CSV (=HYPERLINK in a model name)",
               "security" if ".to_csv(" in line else ("handled" if "data.csv(" in line else "unclear"))
    evil = "=HYPERLINK(\"http://x\")"
    import pandas as pd

    from iconicity_core.dashboard.data import csv as data_csv

    out = data_csv(pd.DataFrame({"model": [evil], "cra": [0.5]}))
    lab.record(g, "the CSV writer the pages use, a formula cell", "security" if "\n=" in out else "handled")
    for who, how in (("labels import", "cli"), ("Label page (labels.append)", "api")):
        db2 = r / f"sec_{how}.duckdb"
        shutil.copy(user, db2)
        con = duckdb.connect(str(db2))
        con.execute("UPDATE files SET relpath = '=cmd|calc.png' WHERE file_id = (SELECT min(file_id) FROM files "
                    "WHERE role = 'generation')")
        con.close()
        if how == "cli":
            f = r / "in.csv"
            f.write_text("image,label\n'=cmd|calc.png,replica\n")
            lab.cli("labels", "import", "--db", db2, f)
        else:
            labels.append(db2, [("=cmd|calc.png", "replica", "", "x")])
        raw = [c for row in csv.reader(io.StringIO(labels.sidecar(db2).read_text())) for c in row]
        exact = labels.current(db2).get("=cmd|calc.png") == "replica"
        lab.record(g, f"{who} writes the image column into DB.labels.csv",
                   "security" if any(c.startswith(FORMULA) for c in raw) else ("handled" if exact else "unclear"),
                   "read back exactly" if exact else "not read back")

    # -- tracebacks ---------------------------------------------------------------------------------------------
    g = "traceback"
    bad = {"text": r / "text.duckdb", "empty": r / "empty.duckdb", "newer": r / "newer.duckdb",
           "three": r / "three.duckdb", "truncated": r / "trunc.duckdb", "busy": r / "busy.duckdb"}
    bad["text"].write_text("hello")
    bad["empty"].write_bytes(b"")
    for k, v in (("newer", "99"), ("three", "three")):
        shutil.copy(user, bad[k])
        con = duckdb.connect(str(bad[k]))
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [v])
        con.close()
    bad["truncated"].write_bytes(user.read_bytes()[: user.stat().st_size // 2])
    shutil.copy(user, bad["busy"])
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(120)", str(bad["busy"])], stdout=subprocess.PIPE,
                              text=True)
    holder.stdout.readline()
    try:
        for k in ("text", "empty", "newer", "busy"):
            lab.refused(g, f"robustness on a {k} database", ["robustness", "--db", bad[k], "--n-resamples", "5"], bad[k])
    finally:
        holder.kill()
        holder.wait()
    for args, name in ((["--variant", "nope"], "robustness --variant nope"), (["--clip-taus", "0.7,0.7"], "robustness --clip-taus 0.7,0.7"),
                       (["--pooling", "x"], "robustness --pooling x"), (["--n-resamples", "-5"], "robustness --n-resamples -5"),
                       (["--out", Path("/sys/kernel/rb")], "robustness --out <unwritable>"),
                       (["--out", r / "study_dataset" / "notes.txt"], "robustness --out <a file>")):
        lab.refused(g, name, ["robustness", "--db", user, "--n-resamples", "5", *args], r / "study_dataset")
    empty_run = r / "norun.duckdb"
    _empty_run(empty_run, r)
    lab.refused(g, "robustness on a run without generations", ["robustness", "--db", empty_run, "--n-resamples", "5"])
    for k in ("text", "truncated", "three"):
        at = app_test({"ICONICITY_DB": str(bad[k]), "ICONICITY_DATA": str(r / "dash")})
        lab.record(g, f"dashboard with a {k} database", "traceback" if at.exception else ("handled" if at.error else "unclear"))
    notes = str(r / "study_dataset" / "notes.txt")
    for name, data in (("a read-only data folder", "/sys/kernel"), ("ICONICITY_DATA naming a file", notes)):
        at = app_test({"ICONICITY_DATA": data})
        lab.record(g, f"dashboard with {name}", "traceback" if at.exception else ("handled" if at.error else "unclear"))
        lab.refused(g, f"iconicity demo with {name}", ["demo", "--embedders", "baseline", "--per-cell", "1", "--quiet"],
                    env={"ICONICITY_DATA": data})
    for cmd in (["metrics", "-o", "/sys/kernel/m.csv"], ["evaluate", "--quiet", "--n-resamples", "5", "--out", "/sys/kernel/e.csv"],
                ["analyze", "--n-resamples", "5", "--out", "/sys/kernel/an"], ["export", "--out", "/sys/kernel/ex"]):
        lab.refused(g, f"{cmd[0]} to an unwritable folder", [cmd[0], "--db", user, *cmd[1:]])
    for cmd in ("analyze", "export"):
        lab.refused(g, f"{cmd} --out DB", [cmd, "--db", user, "--out", user], user)
    images = json.loads(lab.cli("metrics", "--db", user, "--by", "image", "--format", "json").stdout)["rows"]
    one = r / "one.csv"
    one.write_text("image,label\n" + "".join(f"{x['image']},replica\n" for x in images[:3]))
    n_runs = len(json.loads(lab.cli("runs", "--db", user, "--format", "json").stdout)["rows"])
    lab.refused(g, "calibrate with labels of one class", ["calibrate", "--db", user, "--labels", one, "--n-resamples", "5"])
    if len(json.loads(lab.cli("runs", "--db", user, "--format", "json").stdout)["rows"]) != n_runs:
        lab.record(g, "calibrate with labels of one class: no run recorded", "unclear", "a run was recorded")
    fresh = r / "fresh.duckdb"
    from iconicity_core import db as database

    database.connect(fresh).close()
    pv = r / "pv.csv"
    pv.write_text("slug,pageviews\nmona,5\n")
    lab.refused(g, "covariates popularity on an empty database", ["covariates", "popularity", "--db", fresh, "--from-csv", pv])
    lab.refused(g, "map with ICONICITY_DATA a file", ["map"], env={"ICONICITY_DATA": str(r / "study_dataset" / "notes.txt")})

    # -- unclear: each needs a decision -------------------------------------------------------------------------
    g = "unclear"
    import iconicity_core

    for k, path in (("a text file", bad["text"]), ("a directory", r / "study_dataset"), ("a bad schema version", bad["three"])):
        api(lab, g, f"API open {k}", lambda p=path: iconicity_core.open(p), getattr(iconicity_core, "DatabaseError", ()))
    res = iconicity_core.open(user)
    for name, call, says in (("clip_tau='0.7'", lambda: res.metrics(clip_tau="0.7"), "clip_tau"),
                             ("clip_tau=True", lambda: res.metrics(clip_tau=True), "clip_tau"),
                             ("run=123", lambda: iconicity_core.open(user, run=123), "run"),
                             ("models=['sdxl'] (unknown filter value)", lambda: res.metrics(models=["sdxl"]), "painter-2"),
                             ("sweep(taus=[])", lambda: res.sweep(taus=[]), "taus")):
        api(lab, g, f"API {name}", call, ValueError, says)
    lab.refused(g, "--n-resamples 0", ["robustness", "--db", user, "--n-resamples", "0"], expect="at least 1")
    part = r / "partial.duckdb"
    shutil.copy(user, part)
    con = duckdb.connect(str(part))
    con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = (SELECT run_id FROM runs WHERE kind = 'score' "
                "ORDER BY updated_at DESC LIMIT 1)")
    con.close()
    for cmd in (["metrics"], ["share", "--quiet", "--out", r / "p.html"]):
        res_ = lab.cli(*cmd, "--db", part)
        said = any(x.startswith("warning:") and "not finished" in x for x in res_.stderr.splitlines())
        lab.record(g, f"a killed partial run as the default: {cmd[0]}", "handled" if said and res_.exit_code == 0 else "unclear")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        iconicity_core.open(part)
    lab.record(g, "a killed partial run as the default: API", "handled" if any(
        "not finished" in str(x.message) for x in w) else "unclear")
    for cmd in (["map"], ["evaluate", "--out", r / "e.csv"], ["analyze", "--out", r / "an2"], ["export", "--out", r / "ex2"],
                ["runs", "delete", "x", "--yes"], ["db", "upgrade"]):
        typo = r / "typo.duckdb"
        name = " ".join(c for c in map(str, cmd[:2]) if not c.startswith("-"))
        lab.refused(g, f"a mistyped --db on {name}", [*cmd, "--db", typo], typo, expect="does not exist")
    res_ = lab.cli("references", "consistency", "--db", user, "--cra", "--min-similarity", "0.999", "--format", "json")
    rows = json.loads(res_.stdout)["rows"] if res_.exit_code == 0 else []
    zero = [x for x in rows if x.get("n_refs_kept") == 0]
    lab.record(g, "references consistency --cra dropping every image of a work",
               "handled" if zero and all(x["cra_without_outliers"] is None for x in zero) else "unclear")
    for name in ("malformed JSON gives a blank page", "a covariate without values", "a changed grid",
                 "the self-check covers only the starting filter"):
        lab.record(g, f"share-page tampering: {name}", "not re-run", "item 6: the page's JavaScript, another issue")


def api(lab: Lab, group: str, name: str, call, expected: type, says: str = "") -> None:
    """The call must raise ``expected`` with a message containing ``says``."""
    try:
        call()
    except expected as e:
        lab.record(group, name, "handled" if says in str(e) else "unclear", f"{type(e).__name__}: {str(e)[:70]}")
        return
    except Exception as e:
        lab.record(group, name, "traceback", f"{type(e).__name__}: {str(e)[:60]}")
        return
    lab.record(group, name, "unclear", "no error")


def app_test(env: dict):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    saved = {k: os.environ.get(k) for k in ("ICONICITY_DB", "ICONICITY_DATA")}
    os.environ.pop("ICONICITY_DB", None)
    os.environ.update(env)
    try:
        st.cache_data.clear()
        st.cache_resource.clear()
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _empty_run(db: Path, root: Path) -> None:
    from typer.testing import CliRunner

    from iconicity_core.cli import app

    ds = root / "ds_empty"
    (ds / "references" / "mona").mkdir(parents=True)
    (ds / "references.csv").write_text("slug,title,kind\nmona,Mona Lisa,static\n")
    from PIL import Image

    Image.new("RGB", (64, 64), (120, 30, 30)).save(ds / "references" / "mona" / "a.png")
    CliRunner().invoke(app, ["score", str(ds), "--db", str(db), "--clip-model", "baseline", "--dino-model", "baseline",
                             "--quiet"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="Keep the scratch folder.")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="red_team_"))
    try:
        lab = Lab(root)
        attacks(lab, build(root))
    finally:
        for p in root.rglob("*"):
            if p.is_fifo() or p.is_char_device() or p.is_socket():
                p.unlink()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(root.parent / (root.name + "_pristine"), ignore_errors=True)
        else:
            print(f"scratch folder: {root}")
    print()
    by = Counter(v for _, _, v, _ in lab.rows)
    print(f"{len(lab.rows)} attacks: " + ", ".join(f"{k} {by[k]}" for k in
                                                  ("handled", "traceback", "data loss", "security", "unclear", "not re-run")))
    groups = sorted({g for g, *_ in lab.rows})
    print("\n| review's verdict | " + " | ".join(("handled", "traceback", "data loss", "security", "unclear", "not re-run")) + " |")
    print("|---|" + "---|" * 6)
    for g in groups:
        c = Counter(v for gg, _, v, _ in lab.rows if gg == g)
        print(f"| {g} | " + " | ".join(str(c[k]) for k in ("handled", "traceback", "data loss", "security", "unclear",
                                                           "not re-run")) + " |")


if __name__ == "__main__":
    main()
