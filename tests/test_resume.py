"""A run killed with SIGKILL part-way and started again ends with exactly the uninterrupted data."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import duckdb
import pytest
from conftest import model_args
from helpers import build_small_dataset, save, shuffle_tiles, texture

TABLES = ("files", "images", "embeddings", "ref_dedup", "slug_refsets", "clip_sims", "cell_sims")


def _cmd(root, db, tiny_models):
    args = [a for a in model_args(tiny_models) if a != "--quiet"]
    return [sys.executable, "-m", "iconicity_core.cli", "--verbose", "score", str(root), "--db", str(db),
            "--batch-size", "1", *args]


def _run_and_kill(cmd, pattern: str, timeout: float = 120) -> bool:
    """Start ``cmd``; SIGKILL it as soon as its stderr matches ``pattern``. True if killed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
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
        p.send_signal(signal.SIGKILL)
    p.wait()
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
