"""Opening a scores database, and the one transaction helper every write goes through.

A read-only connection never creates or modifies the file. A writer waits a while for readers (the
dashboard holds the file only while it loads arrays) before it gives up with :class:`DatabaseBusy`.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from . import schema


class DatabaseBusy(RuntimeError):
    """The database file is locked by another process (usually a running ``iconicity score``)."""


def connect(path: str | Path, read_only: bool = False, wait_s: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open a database. Writers create the schema or migrate it to the current version; both refuse
    a database written by a newer version of this tool (:class:`schema.SchemaError`)."""
    path = Path(path)
    if read_only and not path.is_file():
        raise FileNotFoundError(f"database {path} does not exist — create it with `iconicity score` or `iconicity demo`")
    deadline = time.monotonic() + (0 if read_only else wait_s)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                who = "probably `iconicity score` writing it" if read_only else "another writer or reader"
                raise DatabaseBusy(f"{path} is in use by another process ({who}); wait for it to finish and try "
                                   "again, or open a copy of the file") from None
            time.sleep(0.2)
    try:
        if read_only:
            schema.check_readable(con, path)
        else:
            schema.ensure(con, path)
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``with transaction(con): ...`` — commit at the end, roll back on any exception (also
    KeyboardInterrupt), so a killed or failed step leaves nothing half-written."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def path_of(con) -> Path | None:
    """The file behind a connection (None for an in-memory database)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def checkpoint(con) -> None:
    """Write the write-ahead log into the database file (readers then open it faster)."""
    con.execute("CHECKPOINT")


def insert_rows(con, table: str, columns: list[str], rows: list) -> None:
    """``INSERT INTO table (columns) VALUES (?, ...)`` for many rows (names are code constants, never
    user text)."""
    if rows:
        cols = ", ".join(f'"{c}"' for c in columns)
        con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(columns))})", rows)


def insert_frame(con, table: str, df, mode: str = "INSERT") -> None:
    """Insert a DataFrame by column name (``mode``: ``INSERT``, ``INSERT OR REPLACE``, ``INSERT OR IGNORE``)."""
    if len(df) == 0:
        return
    cols = ", ".join(f'"{c}"' for c in df.columns)
    con.register("_frame", df)
    try:
        con.execute(f"{mode} INTO {table} ({cols}) SELECT {cols} FROM _frame")
    finally:
        con.unregister("_frame")
