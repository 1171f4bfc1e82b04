"""Opening a scores database, and the one transaction helper every write goes through.

A read-only connection never creates or modifies the file. A writer waits a while for readers (the
dashboard holds the file only while it loads arrays) before it gives up with :class:`DatabaseBusy`.
Whatever is at the path, opening it fails with one of the project's
:class:`~iconicity_core.errors.DatabaseError` types and a message that says what to do.
"""
from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ..errors import DatabaseBusy, DatabaseError, DatabaseMissing, NotADatabase, SchemaError
from . import schema

__all__ = ["DatabaseBusy", "DatabaseError", "DatabaseMissing", "NotADatabase", "SchemaError", "checkpoint",
           "connect", "insert_frame", "insert_rows", "path_of", "peek_meta", "transaction"]

#: How long a writer waits for a lock held by another process before :class:`DatabaseBusy` (seconds).
WAIT_S = 30.0
#: Bytes 8..12 of a DuckDB database file.
MAGIC = b"DUCK"


def check_file(path: Path, must_exist: bool = True) -> bool:
    """Refuse what cannot be a scores database before DuckDB opens it (DuckDB would block on a FIFO, replace
    nothing but say little): a missing file (when ``must_exist``), a folder, a device / FIFO / socket, an
    empty file, a file that is not DuckDB's. Returns whether the file exists."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if must_exist:
            raise DatabaseMissing(f"database {path} does not exist — check the path (--db), or create it with "
                                  "`iconicity score DATASET --db FILE` or `iconicity demo`") from None
        return False
    except NotADirectoryError:
        if must_exist:
            raise DatabaseMissing(f"database {path} does not exist (a folder in its path is a file) — check the path "
                                  "(--db, or $ICONICITY_DATA)") from None
        return False
    except OSError as e:
        raise NotADatabase(f"{path} cannot be opened ({e.strerror or e}) — give a scores database file") from None
    if stat.S_ISDIR(st.st_mode):
        raise NotADatabase(f"{path} is a folder, not a database — give the .duckdb file (e.g. {path / 'results.duckdb'})")
    if not stat.S_ISREG(st.st_mode):
        raise NotADatabase(f"{path} is not a regular file (a device, a pipe or a socket) — give a scores database file")
    if st.st_size == 0:
        raise NotADatabase(f"{path} is an empty file (0 bytes), not a database — remove it, or give another path")
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise NotADatabase(f"{path} cannot be read ({e.strerror or e})") from None
    if len(head) < 12 or head[8:12] != MAGIC:
        raise NotADatabase(f"{path} is not a DuckDB database (a text or other file?) — give a scores database "
                           "(.duckdb) file")
    return True


def _open(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + (0 if read_only else wait_s)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise NotADatabase(f"{path} cannot be opened as a database ({_first_line(e)}) — is it damaged or "
                                   "truncated? Use a backup copy, or score again into a new file") from None
            if time.monotonic() >= deadline:
                who = "probably `iconicity score` writing it" if read_only else "another writer or reader"
                raise DatabaseBusy(f"{path} is in use by another process ({who}); wait for it to finish and try "
                                   "again, or open a copy of the file") from None
            time.sleep(0.2)
        except duckdb.ConnectionException as e:
            raise DatabaseBusy(f"{path} is already open in this process in another mode ({_first_line(e)}); close "
                               "that connection first") from None
        except duckdb.Error as e:
            raise NotADatabase(f"{path} cannot be opened as a database ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def connect(path: str | Path, read_only: bool = False, wait_s: float | None = None,
            create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open a database. Writers create the schema (``create``: in a new file or an empty DuckDB database; else
    those are refused) or migrate an older one to the current version; both refuse a database written by a
    newer version of this tool. Every failure is a :class:`~iconicity_core.errors.DatabaseError` whose
    message says what to do: :class:`DatabaseMissing`, :class:`NotADatabase`, :class:`DatabaseBusy`
    (another process holds the lock; a writer waits ``wait_s``, default :data:`WAIT_S`, first),
    :class:`SchemaError`."""
    path = Path(path)
    check_file(path, must_exist=read_only or not create)
    con = _open(path, read_only, WAIT_S if wait_s is None else wait_s)
    try:
        if read_only:
            schema.check_readable(con, path)
        else:
            schema.ensure(con, path, create=create)
    except DatabaseError:
        con.close()
        raise
    except duckdb.Error as e:
        con.close()
        raise NotADatabase(f"{path} cannot be read as a scores database ({_first_line(e)}) — is it damaged or "
                           "truncated? Use a backup copy") from None
    except BaseException:
        con.close()
        raise
    return con


def peek_meta(path: str | Path, key: str) -> str | None:
    """A value of the database's ``meta`` table, read without any schema check (None when the table or key is
    missing); raises :class:`DatabaseMissing`, :class:`NotADatabase` or :class:`DatabaseBusy` as
    :func:`connect` — never creates or changes the file."""
    path = Path(path)
    check_file(path)
    con = _open(path, True, 0)
    try:
        has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()
        if not has or not has[0]:
            return None
        row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])
    except duckdb.Error as e:
        raise NotADatabase(f"{path} cannot be read ({_first_line(e)})") from None
    finally:
        con.close()


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
