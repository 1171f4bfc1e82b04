"""A run killed with SIGKILL part-way and started again ends with exactly the uninterrupted data."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from helpers import BASELINE, build_small_dataset, model_args, save, shuffle_tiles, texture

TABLES = ("files", "images", "embeddings", "ref_dedup", "slug_refsets", "clip_sims", "cell_sims")


def _cmd(root, db, tiny_models):
    args = [a for a in model_args(tiny_models) if a != "--quiet"]
    return [sys.executable, "-m", "iconicity_core.cli", "--verbose", "score", str(root), "--db", str(db),
            "--batch-size", "1", *args]


def _run_and_kill(cmd, pattern: str, timeout: float = 120, sig=signal.SIGKILL, out: list | None = None) -> bool:
    """Start ``cmd`` in its own process group; send ``sig`` to the group (as a terminal's Ctrl-C reaches
    every process of a job) as soon as its stderr matches ``pattern``. True if signalled; ``out`` gets
    the exit code and stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # even if ours ignores it
    buf, hit = [], threading.Event()

    def reader():
        for chunk in iter(lambda: p.stderr.read1(4096), b""):
            buf.append(chunk.decode(errors="replace"))
            if re.search(pattern, "".join(buf)):
                hit.set()

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None and not hit.is_set():
        time.sleep(0.01)
    killed = p.poll() is None
    if killed:
        os.killpg(p.pid, sig)
    p.wait(120)
    if out is not None:
        time.sleep(0.2)                                  # the reader thread takes the last words
        out += [p.returncode, "".join(buf)]
    return killed


def _snapshot(db):
    con = duckdb.connect(str(db), read_only=True)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    sims = con.execute(
        """SELECT f.relpath, c.sim, c.ref_file, list(s.sim ORDER BY s.cell), list(s.same_pos_sim ORDER BY s.cell),
                  list(s.ref_file ORDER BY s.cell), list(s.ref_cell ORDER BY s.cell)
           FROM clip_sims c JOIN files f USING (file_id) JOIN cell_sims s USING (run_id, file_id)
           GROUP BY ALL ORDER BY 1""").fetchall()
    con.close()
    return counts, sims


@pytest.mark.slow
def test_sigkill_and_resume_gives_identical_data(tmp_path, tiny_models):
    root = build_small_dataset(tmp_path / "ds")
    for i in range(30):
        g = root / "generations" / "model_c" / ("mona" if i % 2 else "film")
        save(shuffle_tiles(texture(i % 4 + 1), seed=i) if i % 3 else texture(100 + i), g / f"g{i:02d}.png")
    full = tmp_path / "full.duckdb"
    subprocess.run(_cmd(root, full, tiny_models), check=True, capture_output=True)

    db = tmp_path / "resumed.duckdb"
    kills = [
        _run_and_kill(_cmd(root, db, tiny_models), r"references written: 1/"),
        _run_and_kill(_cmd(root, db, tiny_models), r"generations written: ([4-9]|\d\d+)/"),
    ]
    assert any(kills), "the run finished before it could be killed; make the dataset larger"
    partial, _ = _snapshot(db)
    assert partial["clip_sims"] < 40
    subprocess.run(_cmd(root, db, tiny_models), check=True, capture_output=True)

    want, got = _snapshot(full), _snapshot(db)
    assert got[0] == want[0]
    assert got[1] == want[1]


@pytest.mark.slow
def test_ctrl_c_stops_soon_says_how_to_resume_and_resuming_gives_identical_data(tmp_path, tiny_models):
    root = build_small_dataset(tmp_path / "ds")
    for i in range(40):
        g = root / "generations" / "model_c" / ("mona" if i % 2 else "film")
        save(shuffle_tiles(texture(i % 4 + 1), seed=i) if i % 3 else texture(100 + i), g / f"g{i:02d}.png")
    full = tmp_path / "full.duckdb"
    subprocess.run(_cmd(root, full, tiny_models), check=True, capture_output=True)

    db, out = tmp_path / "resumed.duckdb", []
    cmd = [*_cmd(root, db, tiny_models), "--workers", "2"]
    assert _run_and_kill(cmd, r"generations written: ([4-9]|\d\d+)/", sig=signal.SIGINT, out=out), \
        "the run finished before Ctrl-C; make the dataset larger"
    assert out[0] == 130, out
    assert "run the same command again to resume" in out[1], out
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT status FROM runs WHERE kind = 'score'").fetchone()[0] == "interrupted"
    con.close()
    subprocess.run(cmd, check=True, capture_output=True)
    assert _snapshot(db) == _snapshot(full)


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
