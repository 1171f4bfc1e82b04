"""The project's own exception types: every known failure a user can meet (a database that cannot be used, an
output that would overwrite something that is not ours, a bad argument) is one of these, with a one-line
message that says what to do. The command line prints that line and exits with status 2; the notebook API
raises the same types with the same messages; anything else is a bug (a traceback).

Importable by every layer (like ``config``); imports nothing.

>>> issubclass(DatabaseBusy, DatabaseError), issubclass(DatabaseMissing, FileNotFoundError)
(True, True)
>>> issubclass(InvalidArgument, ValueError), issubclass(OutputRefused, ValueError)
(True, True)
"""
from __future__ import annotations


class IconicityError(Exception):
    """A known failure; ``str(e)`` is one line that says what to do."""


class DatabaseError(IconicityError):
    """A scores database that cannot be used as asked (missing, not a database, busy, another schema)."""


class DatabaseMissing(DatabaseError, FileNotFoundError):
    """There is no database at the path (and the command does not create one)."""


class NotADatabase(DatabaseError):
    """The path holds something that is not an Iconicity Explorer database: a folder, a device or pipe, a text
    file, a damaged or empty DuckDB file, another program's DuckDB database."""


class DatabaseBusy(DatabaseError):
    """Another process holds the database's write lock (usually a running ``iconicity score``): wait, then
    try again — never a reason to rebuild or replace it."""


class SchemaError(DatabaseError):
    """The database's schema cannot be used by this version of the tool (older: upgrade it; newer: upgrade the
    tool; unreadable version)."""


class OutputRefused(IconicityError, ValueError):
    """An output path that would overwrite or write into something the command does not own: a database, a
    database's sidecar (labels, write-ahead log, lock, maps folder), a device, pipe or socket, a folder
    where a file is meant (or the reverse), or a folder that does not exist."""


class InvalidArgument(IconicityError, ValueError):
    """An argument outside what the command or function accepts (the message names the accepted values)."""


class NoResults(IconicityError, LookupError):
    """Nothing to compute on: no score run, no generated images, no labels of both classes, ..."""


class DemoRefused(IconicityError):
    """``iconicity demo`` would replace something that is not a demo it built (a user's database or folder)."""


class PartialRunWarning(UserWarning):
    """The score run read by default is not finished (interrupted, failed or still running)."""
