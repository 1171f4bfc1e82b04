"""Every computation is a recorded run (FiftyOne-style): what ran, with which config, on which
inputs, with which library versions, when, and how it ended.

Kinds: ``score`` (embedders + similarities; its id keys every similarity row), ``evaluate``
(plain-measure scores, keyed by the evaluate run), ``covariate`` (columns of ``refs``), ``analyze`` and
``export`` (files, recorded with their hashes).
"""
from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..errors import InvalidArgument, NoResults
from ..io.provenance import library_versions
from .connection import transaction

KINDS = ("score", "evaluate", "calibrate", "map", "covariate", "analyze", "export")
_JSON = ("clip_info", "dino_info", "versions", "config", "inputs", "outputs")


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(kind: str) -> str:
    """A fresh id for a non-score run, e.g. ``evaluate-3f9c2a1b7d``."""
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def start(con, run_id: str, kind: str, config: dict | None = None, inputs: dict | None = None,
          parent_run: str | None = None, device: str | None = None, **score: Any) -> str:
    """Insert a run (status ``running``), or mark an existing one (a resumed score run) running again.
    ``score`` holds the score-run columns (clip_key, dino_key, clip_info, dino_info, grid, patch_mode,
    phash_max, semantic)."""
    if kind not in KINDS:
        raise ValueError(f"run kind must be one of {KINDS}")
    t = now()
    versions = json.dumps(library_versions())
    with transaction(con):
        if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone():
            con.execute("""UPDATE runs SET status = 'running', updated_at = ?, device = ?, versions = ?, message = NULL
                           WHERE run_id = ?""", [t, device, versions, run_id])
        else:
            cols = {"run_id": run_id, "kind": kind, "status": "running", "parent_run": parent_run,
                    "config": json.dumps(config or {}, default=str), "inputs": json.dumps(inputs or {}, default=str),
                    "versions": versions, "device": device, "created_at": t, "updated_at": t,
                    **{k: (json.dumps(v, default=str) if k in _JSON else v) for k, v in score.items()}}
            names = ", ".join(cols)
            con.execute(f"INSERT INTO runs ({names}) VALUES ({', '.join('?' * len(cols))})", list(cols.values()))
    return run_id


def update_config(con, run_id: str, values: dict) -> None:
    """Merge ``values`` into a run's recorded config (a resumed score run records what it was asked now)."""
    rec = get(con, run_id)
    if rec is None:
        raise LookupError(f"no run {run_id!r}")
    with transaction(con):
        con.execute("UPDATE runs SET config = ? WHERE run_id = ?",
                    [json.dumps({**(rec.get("config") or {}), **values}, default=str), run_id])


def finish(con, run_id: str, outputs: dict | None = None, status: str = "done", message: str | None = None) -> None:
    t = now()
    with transaction(con):
        con.execute("UPDATE runs SET status = ?, outputs = ?, message = ?, updated_at = ?, finished_at = ? WHERE run_id = ?",
                    [status, json.dumps(outputs or {}, default=str), message, t, t, run_id])


@dataclass
class Recorder:
    """Handle given to the body of :func:`recorded`: put what the run produced in ``outputs``."""

    run_id: str
    outputs: dict = field(default_factory=dict)


@contextlib.contextmanager
def recorded(con, kind: str, config: dict | None = None, inputs: dict | None = None,
             parent_run: str | None = None, run_id: str | None = None, **score: Any) -> Iterator[Recorder]:
    """``with recorded(con, "evaluate", config, inputs, parent) as rec: ...`` — the run is recorded as
    ``running``, then ``done`` with ``rec.outputs``, or ``failed`` with the error message."""
    rec = Recorder(start(con, run_id or new_id(kind), kind, config, inputs, parent_run, **score))
    try:
        yield rec
    except BaseException as e:
        with contextlib.suppress(Exception):
            finish(con, rec.run_id, rec.outputs, "failed" if isinstance(e, Exception) else "interrupted",
                   f"{type(e).__name__}: {e}")
        raise
    finish(con, rec.run_id, rec.outputs)


# -- reads --------------------------------------------------------------------------------------

def latest_score_run(con) -> str | None:
    row = con.execute("SELECT run_id FROM runs WHERE kind = 'score' ORDER BY updated_at DESC, run_id LIMIT 1").fetchone()
    return row[0] if row else None


def score_run_ids(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT run_id FROM runs WHERE kind = 'score' ORDER BY updated_at DESC, run_id").fetchall()]


def require(con, run_id: str) -> dict:
    """One run as a dict, or LookupError naming it (for a run id that was resolved, or checked, before)."""
    rec = get(con, run_id)
    if rec is None:
        raise LookupError(f"no run {run_id!r} in this database — see `iconicity runs`")
    return rec


def get(con, run_id: str) -> dict | None:
    """One run as a dict (JSON columns decoded)."""
    cur = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
    row = cur.fetchone()
    if row is None:
        return None
    rec = dict(zip([d[0] for d in cur.description], row, strict=True))
    for k in _JSON:
        if isinstance(rec.get(k), str):
            rec[k] = json.loads(rec[k])
    return rec


def warnings_for(rec: dict) -> list[str]:
    """What a user should know about a run's numbers: a score run made with open_clip's GELU on weights trained
    with QuickGELU (before 0.2.0, every `openai` tag), an unfinished run."""
    out = []
    info = rec.get("clip_info") or {}
    weights = str(info.get("weights") or "")
    if rec.get("kind") == "score" and str(rec.get("clip_key", "")).startswith("open_clip:") \
            and "activation" not in (info.get("extra") or {}) and weights and not weights.startswith("sha256:"):
        model = str(rec["clip_key"]).split(":")[1]
        from ..embedders.clip import quick_gelu_for  # only for old runs (importing open_clip takes seconds)

        if quick_gelu_for(model, weights):
            out.append(f"made with GELU on {model}/{weights} weights, which were trained with QuickGELU (versions "
                       "before 0.2.0): its recognition scores are slightly off — score again for exact ones")
    if rec.get("status") not in (None, "done"):
        out.append(f"status {rec.get('status')}: its tables cover what it scored so far — run it again to finish")
    return out


def partial_note(con, run_id: str) -> str | None:
    """What to say when ``run_id`` (a score run read by default) is not finished — interrupted, failed, or still
    running (killed, or another process is scoring) — or finished without a generated image: None when it is
    done and scored some. The CLI prints it as a warning, the API warns with
    :class:`~iconicity_core.errors.PartialRunWarning`, the dashboard shows it."""
    rec = get(con, run_id)
    if rec is None:
        return None
    n = con.execute("SELECT count(*) FROM clip_sims WHERE run_id = ?", [run_id]).fetchone()[0]
    if rec.get("status") in (None, "done"):
        return None if n else (f"the latest score run {run_id} scored no generated image (its dataset had none under "
                               "generations/): every table is empty — add generated images and run `iconicity score` "
                               "again")
    return (f"the latest score run {run_id} is not finished (status {rec.get('status')}, {n:,} generated image(s) "
            "scored so far): its tables cover only those — run the same `iconicity score` command again to finish "
            "it, or choose a finished run with --run (see `iconicity runs`)")


def resolve(con, run_id: str | None, kind: str = "score") -> str:
    """``run_id`` if it exists (a unique prefix is enough), else the latest run of ``kind``; raises
    LookupError with what to do."""
    if run_id is not None and not isinstance(run_id, str):
        raise InvalidArgument(f"run must be a run id or a unique prefix of one (text), got {run_id!r} — see "
                              "`iconicity runs`")
    if run_id is None:
        rid = latest_score_run(con) if kind == "score" else None
        if rid is None:
            raise NoResults("the database has no scoring run yet — run `iconicity score` first")
        return rid
    rows = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE starts_with(run_id, ?) AND kind = ?",
                                      [run_id, kind]).fetchall()]
    if len(rows) != 1:
        raise NoResults(f"{'no' if not rows else 'more than one'} {kind} run matches {run_id!r} — "
                        "see `iconicity runs --db ...`")
    return rows[0]


def matching(con, prefix: str) -> list[str]:
    """Ids of the runs (any kind) that start with ``prefix``."""
    return [r[0] for r in con.execute("SELECT run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id",
                                      [prefix]).fetchall()]


def table(con) -> pd.DataFrame:
    """Every run, newest first, with how many generations each score run has scored."""
    return con.execute(
        """SELECT r.run_id, r.kind, r.status, r.parent_run, r.clip_key, r.dino_key, r.grid, r.patch_mode,
                  r.device, r.created_at, r.finished_at,
                  CASE WHEN r.kind = 'score' THEN (SELECT count(*) FROM clip_sims c WHERE c.run_id = r.run_id) END AS n_scored,
                  r.message
           FROM runs r ORDER BY r.created_at DESC, r.run_id""").df()


#: What each of :func:`produced_counts` counts, in words.
PRODUCED = {"clip_sims": "recognition similarities", "cell_sims": "cell similarities", "ref_dedup": "reference checks",
            "measure_scores": "plain-measure scores", "covariate_columns": "covariate columns", "child_runs": "child runs"}


def produced_counts(con, run_id: str) -> dict[str, int]:
    """Rows each table holds for a run (what `runs delete` would remove), keyed as :data:`PRODUCED`."""
    q = lambda sql: con.execute(sql, [run_id]).fetchone()[0]
    return {"clip_sims": q("SELECT count(*) FROM clip_sims WHERE run_id = ?"),
            "cell_sims": q("SELECT count(*) FROM cell_sims WHERE run_id = ?"),
            "ref_dedup": q("SELECT count(*) FROM ref_dedup WHERE run_id = ?"),
            "measure_scores": q("SELECT count(*) FROM measure_scores WHERE eval_run = ?"),
            "covariate_columns": q("SELECT count(*) FROM covariate_sources WHERE run_id = ?"),
            "child_runs": q("SELECT count(*) FROM runs WHERE parent_run = ?")}


def with_children(con, run_id: str) -> list[dict]:
    """The run's record and its child runs' (what :func:`delete` removes)."""
    ids = [run_id] + [r[0] for r in con.execute("SELECT run_id FROM runs WHERE parent_run = ?", [run_id]).fetchall()]
    return [r for i in ids if (r := get(con, i)) is not None]


def delete(con, run_id: str) -> list[dict]:
    """Delete a run, its child runs, and every row they produced (similarities, de-duplication,
    measure scores, covariate columns); embeddings no remaining score run uses go too. Returns the
    deleted run records (their ``outputs`` name any files they wrote)."""
    from .embeddings import prune
    from .refs import drop_columns

    rec = get(con, run_id)
    if rec is None:
        raise LookupError(f"no run {run_id!r} — see `iconicity runs --db ...`")
    records = with_children(con, run_id)
    ids = [r["run_id"] for r in records]
    with transaction(con):
        for i in ids:
            for tbl in ("clip_sims", "cell_sims", "ref_dedup", "slug_refsets"):
                con.execute(f"DELETE FROM {tbl} WHERE run_id = ?", [i])
            con.execute("DELETE FROM measure_scores WHERE eval_run = ?", [i])
        cols = [r[0] for r in con.execute("SELECT name FROM covariate_sources WHERE run_id IN (SELECT unnest(?))",
                                          [ids]).fetchall()]
        con.execute("DELETE FROM runs WHERE run_id IN (SELECT unnest(?))", [ids])
    prune(con)                                    # vectors no remaining run wants
    if cols:
        drop_columns(con, cols)
    return records
