"""The dashboard's labels: read from the sidecar beside the database (cached per version of that file),
the queue of images to label next, and the button callbacks that append to the sidecar (never to the
database)."""
from __future__ import annotations

from pathlib import Path

from ..analysis.label_queue import label_queue
from . import cache


def labels_version(ctx) -> tuple | None:
    """Identity of the labels sidecar's contents (None when there is none): keys every label-dependent memo."""
    from ..io import labels

    path = labels.sidecar(ctx.db)
    return cache.file_version(path) if path.exists() else None


def sidecar_labels(ctx) -> dict[str, str]:
    """file_id -> label, from the labels people gave in the dashboard or imported."""
    return cache.sidecar_labels(*ctx.key, labels_version(ctx), ctx.run_id)


def queue(ctx, n: int = 200, seed: int = 0) -> list[str]:
    """Generated images to label next under the filters (:func:`iconicity_core.analysis.label_queue.label_queue`)."""
    return label_queue(ctx.engine, ctx.engine.mask(ctx.filters), sidecar_labels(ctx), n, seed)


def session_queue(ctx) -> list[str]:
    """The Label page's queue, kept in the session for one (database, run, filters): switching any of them
    starts a new queue (the old one named files of another database)."""
    import streamlit as st

    ss = st.session_state
    key = (str(ctx.db), ctx.run_id, ctx.filters)
    if ss.get("label_queue_for") != key or "label_queue" not in ss:
        ss["label_queue"], ss["label_queue_for"] = queue(ctx), key
    known = ctx.engine.rows_of(ss["label_queue"]) >= 0
    if not known.all():                                  # e.g. the database was re-scored meanwhile
        ss["label_queue"] = [f for f, ok in zip(ss["label_queue"], known, strict=True) if ok]
    return ss["label_queue"]


def save_label(ctx, file_id: str, label: str, who: str) -> None:
    """Record a label in the sidecar beside the database (never in the database)."""
    import streamlit as st

    from ..io import labels

    image = cache.file_rows(*ctx.key, (file_id,))["image"].iloc[0]
    try:
        labels.append(ctx.db, [(image, label, file_id, who)])
    except labels.LabelsFileError as e:                  # shown on the page; the file is left as it was
        st.session_state["label_error"] = str(e)
    else:
        st.session_state.pop("label_error", None)


def import_labels(ctx, content: bytes, name: str, who: str) -> tuple[int, list[tuple[str, str]]]:
    """Add labels from an uploaded CSV ``image,label`` (``name``: the uploaded file's): how many were
    added, and ``(row, problem)`` for each row skipped (bad label, unknown image) or for the file."""
    import tempfile

    from ..io import labels

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        try:
            given, problems = labels.read_labels(path)
        except (ValueError, UnicodeDecodeError) as e:
            return 0, [(name, str(e).replace(str(path), name))]
    rows, unknown = labels.importable(given, cache.known_relpaths(*ctx.key, tuple(given)), who)
    try:
        labels.append(ctx.db, rows)
    except labels.LabelsFileError as e:
        return 0, [*problems, *unknown, (labels.sidecar(ctx.db).name, str(e))]
    return len(rows), problems + unknown


def label_and_next(ctx, file_id: str, label: str) -> None:
    """Button callback of the Label page: record ``label`` (unless a skip) and move the queue on."""
    import streamlit as st

    ss = st.session_state
    if label != "skip":
        save_label(ctx, file_id, label, ss.get("label_who") or "")
        if "label_error" in ss:
            return                                       # not saved: stay on this image
        ss["label_done"] = ss.get("label_done", 0) + 1
    ss["label_queue"] = [f for f in ss.get("label_queue", []) if f != file_id]
