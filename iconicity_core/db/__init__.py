"""The storage layer: the only place with SQL.

``connect`` opens (and creates or migrates) a scores database; every write goes through
``transaction``; the modules below hold the reads and writes each part of the tool needs:

* ``schema`` tables and migrations · ``runs`` recorded computations · ``embeddings`` float16 vectors
* ``ingest`` / ``scores`` the scorer's writes · ``refs`` references and covariate columns
* ``metrics_sql`` CRA / VR / VI / CRT as SQL (the kernel's statistics per image; the reference implementation)
  · ``views`` reads behind the dashboard · ``measure_scores`` evaluate's plain-measure scores · ``captions``
  caption counting · ``exports`` the authors' CSV rows
"""
from . import captions, embeddings, exports, ingest, measure_scores, metrics_sql, refs, runs, schema, scores, views
from .connection import (
    DatabaseBusy,
    DatabaseError,
    DatabaseMissing,
    NotADatabase,
    SchemaError,
    connect,
    path_of,
    peek_meta,
    transaction,
)

__all__ = ["DatabaseBusy", "DatabaseError", "DatabaseMissing", "NotADatabase", "SchemaError", "captions", "connect",
           "embeddings", "exports", "ingest", "measure_scores", "metrics_sql", "path_of", "peek_meta", "refs", "runs", "schema",
           "scores", "transaction", "views"]
