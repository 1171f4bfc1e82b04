"""Plain-measure scores of `iconicity evaluate` (pHash, SSIM, ...), keyed by the evaluate run that computed them."""
from __future__ import annotations

import pandas as pd

from .connection import insert_frame, transaction


def write(con, eval_run: str, df: pd.DataFrame) -> None:
    """Store ``file_id, measure, value`` rows for an evaluate run (replacing any it had)."""
    with transaction(con):
        con.execute("DELETE FROM measure_scores WHERE eval_run = ?", [eval_run])
        insert_frame(con, "measure_scores", df.assign(eval_run=eval_run)[["eval_run", "file_id", "measure", "value"]])


def latest_evaluate_run(con, score_run: str) -> str | None:
    """The newest finished evaluate run over a score run."""
    row = con.execute("""SELECT run_id FROM runs WHERE kind = 'evaluate' AND parent_run = ? AND status = 'done'
                         ORDER BY finished_at DESC, run_id LIMIT 1""", [score_run]).fetchone()
    return row[0] if row else None


def read(con, eval_run: str) -> pd.DataFrame:
    """Wide table: one row per file, one column per measure."""
    b = con.execute("SELECT file_id, measure, value FROM measure_scores WHERE eval_run = ?", [eval_run]).df()
    if b.empty:
        return pd.DataFrame(columns=["file_id"])
    return b.pivot(index="file_id", columns="measure", values="value").reset_index()


def mean_cell_sims(con, run_id: str) -> pd.DataFrame:
    """Per generated file: the mean over its cells of the best cell similarity."""
    return con.execute("SELECT file_id, avg(sim) AS mean_cell_sim FROM cell_sims WHERE run_id = ? GROUP BY 1",
                       [run_id]).df()
