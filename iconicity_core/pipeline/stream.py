"""The CPU side of scoring, streamed: read -> check -> decode -> pHash -> each embedder's ``prepare``,
in worker processes (``torch.utils.data.DataLoader``), in order, with bounded prefetch.

Files are identified by the SHA-256 the ingest computed; a worker only checks that the file did not
change since (size and modification time), so every file is hashed once. What comes back per image
is plain data (tensors or arrays): the model stage batches it, the writer stage matches and stores it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imagehash

from ..io.images import DEFAULT_MAX_PIXELS, ImageLoadError, load_rgb


@dataclass(frozen=True)
class Task:
    """One image to prepare (one per distinct content, however many files share it)."""

    image_id: str
    path: str
    size: int | None
    mtime: float | None
    need_global: bool
    need_cells: bool
    need_phash: bool = False


def prepare(task: Task, clip, cells, max_pixels: int = DEFAULT_MAX_PIXELS, decode: str = "careful") -> dict:
    """Read, check, decode and prepare one image; never raises (errors come back per item)."""
    out: dict = {"image_id": task.image_id, "error": None, "width": None, "height": None, "phash": None,
           "g": None, "c": None}
    path = Path(task.path)
    try:
        st = path.stat()
        if task.size is not None and (st.st_size != task.size or st.st_mtime != task.mtime):
            out["error"] = f"{path}: file changed while scoring — run `iconicity score` again"
            return out
        im = load_rgb(path.read_bytes(), str(path), max_pixels, decode=decode)
    except ImageLoadError as e:
        out["error"] = str(e)
        return out
    except OSError as e:
        out["error"] = f"{path}: cannot read file ({e.strerror})"
        return out
    out["width"], out["height"] = im.width, im.height
    if task.need_phash:
        out["phash"] = str(imagehash.phash(im))
    if task.need_global:
        out["g"] = clip.prepare(im)
    if task.need_cells:
        out["c"] = cells.prepare(im)
    return out


class _Prepared:
    """A map-style dataset over tasks (``torch.utils.data.Dataset`` protocol)."""

    def __init__(self, tasks: list[Task], clip, cells, max_pixels: int, decode: str = "careful"):
        self.tasks, self.clip, self.cells, self.max_pixels, self.decode = tasks, clip, cells, max_pixels, decode

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, i: int) -> dict:
        return prepare(self.tasks[i], self.clip, self.cells, self.max_pixels, self.decode)


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process die when its parent does — even by SIGKILL, which runs no cleanup — via
    Linux's ``PR_SET_PDEATHSIG``; a parent already gone (a race before the call) ends the worker at once."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG = 1
        except OSError:
            pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _worker_init(parent_pid: int, _worker_id: int) -> None:
    import signal

    import torch

    die_with_parent(parent_pid)      # a SIGKILLed `iconicity score` left its workers running (~430 MB each)
    torch.set_num_threads(1)         # each worker is one core; the model stage keeps the others
    # Ctrl-C reaches the whole process group: the main process stops the workers itself (a worker that
    # died of it mid-transfer left the loader waiting out its 5 s shutdown timeout)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_workers() -> int:
    """Worker processes when ``--workers`` is not given: one per core (see :func:`model_threads` for why this
    does not starve the model stage). Measured with ``bench/pipeline_throughput.py`` on 2 cores: as fast as
    ``--workers 0`` with the tiny models (11.7 vs 11.8 img/s) and 1.5-1.7x faster with cheap models."""
    return cores()


def model_threads(workers: int) -> int:
    """Intra-op threads for the model stage beside ``workers`` one-thread workers: every core. The workers
    prefetch at most two batches each and then wait, so when the models are the bottleneck the workers idle
    and the model stage has the machine, and when the models are cheap it is the workers that run (measured
    with ``bench/pipeline_throughput.py``: giving the model stage only the cores the workers leave was slower
    with real models)."""
    return cores()


def stream(tasks: list[Task], clip, cells, batch_size: int = 32, workers: int | None = None,
           max_pixels: int = DEFAULT_MAX_PIXELS, pin_memory: bool = False,
           decode: str = "careful") -> Iterator[list[dict]]:
    """Prepared images in batches, in task order; at most ``2 x workers`` batches are in flight."""
    if not tasks:
        return
    workers = default_workers() if workers is None else workers
    if workers == 0 or len(tasks) <= batch_size:      # too few to pay for starting worker processes
        for i in range(0, len(tasks), batch_size):
            yield [prepare(t, clip, cells, max_pixels, decode) for t in tasks[i : i + batch_size]]
        return
    from functools import partial

    from torch.utils.data import DataLoader

    dataset = _Prepared(tasks, clip, cells, max_pixels, decode)   # map-style: __getitem__ and __len__, as torch reads it
    loader: DataLoader = DataLoader(dataset, batch_size=batch_size, shuffle=False,  # type: ignore[arg-type]
                        num_workers=min(workers, max(1, -(-len(tasks) // batch_size))), collate_fn=list,
                        prefetch_factor=2, worker_init_fn=partial(_worker_init, os.getpid()), pin_memory=pin_memory)
    try:
        yield from loader
    except RuntimeError as e:
        if "shared memory" in str(e) or "bus error" in str(e).lower():
            raise RuntimeError(f"the worker processes ran out of shared memory ({e}) — give the machine a larger "
                               "/dev/shm (docker run --shm-size 8g) or score with --workers 0") from None
        raise
