"""The schema of a scores database, with versioned migrations.

A new database is created at :data:`VERSION`; an older one is migrated step by step when a writer
opens it (each step in one transaction); a database written by a newer version of the tool is
refused rather than silently misread.

Tables (one row per ...):

* ``roots`` dataset folder · ``refs`` reference (+ covariate columns) · ``covariate_sources``
  covariate column and the run that made it · ``files`` image file of a dataset (content-hashed) ·
  ``images`` distinct image content · ``problems`` dataset-level problem of the last ingest
* ``runs`` computation (kind ``score`` / ``evaluate`` / ``covariate`` / ``analyze`` / ``export``):
  config, inputs' hashes, library versions, status, outputs
* ``embeddings`` (embedder, image) as float16 · ``ref_dedup`` reference file per score run ·
  ``slug_refsets`` kept reference set per slug and score run · ``clip_sims`` generated file per score
  run · ``cell_sims`` cell of a generated file per score run · ``measure_scores`` (evaluate run,
  file, measure)
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import NotADatabase, SchemaError

__all__ = ["MIGRATIONS", "REF_CORE", "TABLES", "VERSION", "SchemaError", "check_readable", "ensure", "get_meta",
           "set_meta", "version_of"]

VERSION = 3

TABLES = """
CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS roots(root_id INTEGER PRIMARY KEY, path VARCHAR UNIQUE, layout VARCHAR);
CREATE TABLE IF NOT EXISTS refs(slug VARCHAR PRIMARY KEY, title VARCHAR, kind VARCHAR);
CREATE TABLE IF NOT EXISTS covariate_sources(name VARCHAR PRIMARY KEY, source VARCHAR, details JSON, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS files(
    file_id VARCHAR PRIMARY KEY, root_id INTEGER, relpath VARCHAR, role VARCHAR, slug VARCHAR,
    model VARCHAR, variant VARCHAR, prompt VARCHAR, seed BIGINT, label VARCHAR,
    image_id VARCHAR, size BIGINT, mtime DOUBLE, error VARCHAR);
CREATE TABLE IF NOT EXISTS images(
    image_id VARCHAR PRIMARY KEY, width INTEGER, height INTEGER, phash VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS problems(item VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS runs(
    run_id VARCHAR PRIMARY KEY, clip_key VARCHAR, dino_key VARCHAR, clip_info JSON, dino_info JSON,
    grid VARCHAR, patch_mode VARCHAR, phash_max INTEGER, semantic BOOLEAN, versions JSON,
    device VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP,
    kind VARCHAR DEFAULT 'score', status VARCHAR DEFAULT 'done', parent_run VARCHAR, config JSON,
    inputs JSON, outputs JSON, message VARCHAR, finished_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS embeddings(
    embedder VARCHAR, image_id VARCHAR, shape VARCHAR, vec BLOB, PRIMARY KEY(embedder, image_id));
CREATE TABLE IF NOT EXISTS ref_dedup(
    run_id VARCHAR, file_id VARCHAR, slug VARCHAR, kept BOOLEAN, dup_of VARCHAR, hamming INTEGER,
    PRIMARY KEY(run_id, file_id));
CREATE TABLE IF NOT EXISTS slug_refsets(run_id VARCHAR, slug VARCHAR, refset VARCHAR, PRIMARY KEY(run_id, slug));
CREATE TABLE IF NOT EXISTS clip_sims(
    run_id VARCHAR, file_id VARCHAR, slug VARCHAR, sim DOUBLE, ref_file VARCHAR, n_refs INTEGER,
    PRIMARY KEY(run_id, file_id));
CREATE TABLE IF NOT EXISTS cell_sims(
    run_id VARCHAR, file_id VARCHAR, cell SMALLINT, sim REAL, ref_file VARCHAR, ref_cell SMALLINT,
    same_pos_sim REAL);
CREATE TABLE IF NOT EXISTS measure_scores(eval_run VARCHAR, file_id VARCHAR, measure VARCHAR, value DOUBLE);
"""

#: Core columns of ``refs`` (covariates are added beside them).
REF_CORE = ("slug", "title", "kind")


def version_of(con, path: Path | str = "the database") -> int | None:
    """Schema version stored in the database (None for an empty file); :class:`SchemaError` when it is not a
    whole number."""
    has_meta = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]
    if not has_meta:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if not row:
        return None
    try:
        return int(str(row[0]).strip())
    except ValueError:
        raise SchemaError(f"{path} has an unreadable schema version {row[0]!r} (not written by Iconicity Explorer, "
                          "or edited) — use a backup copy, or score again into a new file") from None


def _is_empty(con) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 0


def _ours(con, path: Path) -> None:
    """Refuse a DuckDB database with tables but none of ours (another program's: never written into)."""
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "runs" not in names:
        raise NotADatabase(f"{path} is a DuckDB database of another program (no Iconicity Explorer tables) — give "
                           "a scores database, or score into a new file")


def _too_new(path: Path, v: int) -> SchemaError:
    return SchemaError(f"{path} has schema version {v}, newer than this version of Iconicity Explorer "
                       f"understands ({VERSION}) — upgrade the tool (pip install -U ...) to open it")


def check_readable(con, path: Path) -> None:
    """Refuse a database this version cannot read (read-only connections cannot migrate)."""
    v = version_of(con, path)
    if v is None and _is_empty(con):
        raise NotADatabase(f"{path} is not an Iconicity Explorer database (an empty DuckDB database) — score into "
                           "it with `iconicity score`, or give another file")
    if v is None:
        _ours(con, path)
    if v is not None and v > VERSION:
        raise _too_new(path, v)
    if v is None or v < VERSION:
        raise SchemaError(f"{path} has schema version {v or 1}, older than this version ({VERSION}): upgrade it "
                          f"once with `iconicity db upgrade --db {path}` (any command that writes also upgrades it)")


def ensure(con, path: Path, create: bool = True) -> None:
    """Create the schema in an empty database (when ``create``; else :class:`NotADatabase`), or migrate an
    older one to :data:`VERSION`."""
    v = version_of(con, path)
    if v is not None and v > VERSION:
        raise _too_new(path, v)
    if v is None and _is_empty(con):
        if not create:
            raise NotADatabase(f"{path} is an empty DuckDB database, not a scores database — score into it with "
                               "`iconicity score`, or give another file")
        con.execute(TABLES)
        _set_version(con, VERSION)
        return
    if v is None:
        _ours(con, path)
    v = v or 1
    for target, step in MIGRATIONS:
        if v < target:
            con.begin()
            try:
                step(con)
                _set_version(con, target)
                con.commit()
            except BaseException:
                con.rollback()
                raise
            v = target


def get_meta(con, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def _set_version(con, v: int) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(v)])


def _columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()}


def _to_v2(con) -> None:
    """Every computation is a run: kind/status/config/inputs/outputs on ``runs``; baseline scores keyed
    by their evaluate run; covariate provenance points at the run that wrote the column."""
    have = _columns(con, "runs")
    for col, typ in (("kind", "VARCHAR DEFAULT 'score'"), ("status", "VARCHAR DEFAULT 'done'"),
                     ("parent_run", "VARCHAR"), ("config", "JSON"), ("inputs", "JSON"), ("outputs", "JSON"),
                     ("message", "VARCHAR"), ("finished_at", "TIMESTAMP")):
        if col not in have:
            con.execute(f"ALTER TABLE runs ADD COLUMN {col} {typ}")
    con.execute("UPDATE runs SET finished_at = updated_at WHERE finished_at IS NULL AND kind = 'score'")
    if "run_id" not in _columns(con, "covariate_sources"):
        con.execute("ALTER TABLE covariate_sources ADD COLUMN run_id VARCHAR")
    bs = _columns(con, "baseline_scores")
    if "run_id" in bs:          # v1: keyed by the score run; give each score run one evaluate run
        for (score_run,) in con.execute("SELECT DISTINCT run_id FROM baseline_scores").fetchall():
            con.execute("""INSERT INTO runs (run_id, kind, status, parent_run, config, created_at, updated_at, finished_at)
                           VALUES (?, 'evaluate', 'done', ?, '{"note": "migrated from schema 1"}', now(), now(), now())""",
                        [f"eval-{score_run}", score_run])
        con.execute("UPDATE baseline_scores SET run_id = 'eval-' || run_id")
        con.execute("ALTER TABLE baseline_scores RENAME COLUMN run_id TO eval_run")
    elif not bs:
        con.execute("CREATE TABLE baseline_scores(eval_run VARCHAR, file_id VARCHAR, measure VARCHAR, value DOUBLE)")


def _to_v3(con) -> None:
    """`evaluate`'s plain similarity measures are "measures", not "baselines" (that word is the appearance
    embedder's): ``baseline_scores`` becomes ``measure_scores``."""
    if "eval_run" in _columns(con, "baseline_scores"):
        con.execute("ALTER TABLE baseline_scores RENAME TO measure_scores")


#: (version reached, step) in order.
MIGRATIONS: list[tuple[int, Callable]] = [(2, _to_v2), (3, _to_v3)]
