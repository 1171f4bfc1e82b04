"""``iconicity score --backend ray``: the embedding stage on a Ray cluster (Ray Data ``map_batches`` with
an actor pool that loads each model once per actor, on a GPU or CPU), the rest as on this machine.

Only images still missing an embedding are sent (the scorer's resume logic decides), results
stream back in order as Arrow-friendly batches, and the driver matches and merges them into DuckDB in
a transaction per batch — so a failed actor (restarted and its batch retried by Ray) or a killed driver
loses nothing already merged, and a re-run continues. The images must be readable at the same paths
on every node (a shared file system).
"""
from __future__ import annotations

import logging
import os

import numpy as np

from .scorer import StageError
from .stream import Task, prepare

RESUME = "every batch already written is kept: run the same command again to resume"


def check_address(address: str | None, timeout: float = 5.0) -> None:
    """A ``HOST:PORT`` or ``ray://HOST:PORT`` address must accept a connection within ``timeout`` seconds
    (``ray.init`` on a wrong address hangs without a word); ``auto`` and None are Ray's to resolve."""
    import socket

    if not address or address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise StageError(f"--ray-address {address!r} is not HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise StageError(f"cannot reach a Ray cluster at {address} ({e.strerror or e}) — start one with `ray start "
                         "--head` there, check the address, or leave --ray-address out for a local one") from None

log = logging.getLogger(__name__)
FAIL_ONCE = "ICONICITY_RAY_FAIL_ONCE"      # tests: path of a marker file; the actor holding it dies once
FAIL_ALWAYS = "ICONICITY_RAY_FAIL_ALWAYS"  # tests: every actor dies on its first batch (restarts run out)


class EmbedActor:
    """Loads the two embedders once; prepares and embeds whole batches of tasks."""

    def __init__(self, models: dict, device: str, max_pixels: int) -> None:
        self.decode = models.get("decode", "careful")
        from ..embedders import load_cells, load_global

        self.clip = load_global(models["clip_model"], models["clip_pretrained"], device=device,
                                batch_size=models.get("batch_size", 32),
                                preprocess=models.get("clip_preprocess") or "open_clip", decode=self.decode,
                                resize=models.get("clip_resize") or "auto")
        self.cells = load_cells(models["dino_model"], models["patch_mode"], models["rows"], models["cols"],
                                device=device, batch_size=max(models.get("batch_size", 32), 64),
                                token_size=models.get("token_size", 224),
                                cell_preprocess=models.get("cell_preprocess") or "squash",
                                cell_size=models.get("cell_size"), resize=models.get("cell_resize") or "auto",
                                decode=self.decode)
        self.max_pixels = max_pixels

    def __call__(self, batch: dict) -> dict:
        if os.environ.get(FAIL_ALWAYS):
            os._exit(1)
        marker = os.environ.get(FAIL_ONCE)
        if marker and os.path.exists(marker):
            os.remove(marker)
            os._exit(1)                       # a crashed worker: Ray restarts the actor and retries the batch
        tasks = [Task(str(i), str(p), None if s < 0 else int(s), None if m < 0 else float(m), bool(g), bool(c), bool(h))
                 for i, p, s, m, g, c, h in zip(batch["image_id"], batch["path"], batch["size"], batch["mtime"],
                                                batch["need_global"], batch["need_cells"], batch["need_phash"], strict=True)]
        prep = [prepare(t, self.clip, self.cells, self.max_pixels, self.decode) for t in tasks]
        gi = [k for k, p in enumerate(prep) if p["error"] is None and p["g"] is not None]
        ci = [k for k, p in enumerate(prep) if p["error"] is None and p["c"] is not None]
        gv, cv = [b""] * len(prep), [b""] * len(prep)
        if gi:
            g = self.clip.embed_prepared([prep[k]["g"] for k in gi])
            for j, k in enumerate(gi):
                gv[k] = np.asarray(g[j], np.float32).tobytes()
        if ci:
            c = self.cells.embed_prepared([prep[k]["c"] for k in ci])
            for j, k in enumerate(ci):
                cv[k] = np.asarray(c[j], np.float32).tobytes()
        return {"image_id": [p["image_id"] for p in prep], "error": [p["error"] or "" for p in prep],
                "width": [p["width"] or 0 for p in prep], "height": [p["height"] or 0 for p in prep],
                "phash": [p["phash"] or "" for p in prep], "g": gv, "c": cv,
                "c_cells": [self.cells.rows * self.cells.cols] * len(prep)}


class RayStage:
    """The scorer's embedding stage on Ray (the interface of :class:`.scorer.LocalStage`)."""

    def __init__(self, clip, cells, batch_size: int, max_pixels: int | None, ray: dict, decode: str = "careful") -> None:
        from ..io.images import DEFAULT_MAX_PIXELS

        self.clip, self.cells, self.batch_size = clip, cells, batch_size
        self.max_pixels = max_pixels or DEFAULT_MAX_PIXELS
        self.ray_opts = ray
        self._started = False

    def _ray(self):
        import ray

        if not ray.is_initialized():
            check_address(self.ray_opts.get("address"))
            env = {k: v for k, v in os.environ.items() if k in (FAIL_ONCE, FAIL_ALWAYS, "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN",
                                                               "TRANSFORMERS_OFFLINE")}
            ray.init(address=self.ray_opts.get("address"), include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False, runtime_env={"env_vars": env} if env else None)
            self._started = True
        gpus = float(self.ray_opts.get("gpus_per_worker") or 0)
        have = float(ray.cluster_resources().get("GPU", 0))
        if gpus > have:
            raise StageError(f"--gpus-per-worker {gpus:g} needs a GPU, and the Ray cluster has {have:g} — use "
                             "--gpus-per-worker 0 for CPU actors, or add GPU nodes (`ray start` on them)")
        return ray

    def __call__(self, tasks: list[Task]):
        if not tasks:
            return
        ray = self._ray()
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True          # the writer releases files in task order
        ctx.enable_progress_bars = False
        ctx.log_internal_stack_trace_to_stdout = False
        for name in ("ray.data", "ray.data._internal", "ray.data.exceptions"):
            logging.getLogger(name).setLevel(logging.CRITICAL)   # a failure is said once, below, with what to do
        gpus = float(self.ray_opts.get("gpus_per_worker") or 0)
        items = [{"image_id": t.image_id, "path": t.path, "size": -1 if t.size is None else t.size,
                  "mtime": -1.0 if t.mtime is None else t.mtime, "need_global": t.need_global,
                  "need_cells": t.need_cells, "need_phash": t.need_phash} for t in tasks]
        ds = ray.data.from_items(items, override_num_blocks=max(1, -(-len(items) // self.batch_size)))
        import warnings

        warnings.filterwarnings("ignore", module="ray")
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
        ds = ds.map_batches(EmbedActor, batch_size=self.batch_size, batch_format="numpy",
                            fn_constructor_kwargs={"models": self.ray_opts["models"],
                                                   "device": "cuda" if gpus > 0 else "cpu",
                                                   "max_pixels": self.max_pixels},
                            concurrency=max(1, int(self.ray_opts.get("actors") or 1)), num_gpus=gpus or None,
                            num_cpus=1 if gpus == 0 else None,
                            max_restarts=3, max_task_retries=3)
        ck, dk = self.clip.info.key, self.cells.info.key
        try:
            yield from self._batches(ds, ck, dk)
        except StageError:
            raise
        except Exception as e:        # Ray's own errors repeat hundreds of lines of actor logs: say it in one
            first = (str(e).strip().splitlines() or [""])[0][:300]
            raise StageError(f"the Ray embedding stage failed ({type(e).__name__}: {first}) — {RESUME}") from None

    def _batches(self, ds, ck: str, dk: str):
        for out in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2):
            batch: list = []
            new: dict[str, dict] = {ck: {}, dk: {}}
            for i, iid in enumerate(out["image_id"]):
                err = str(out["error"][i]) or None
                batch.append({"image_id": str(iid), "error": err, "width": int(out["width"][i]) or None,
                              "height": int(out["height"][i]) or None, "phash": str(out["phash"][i]) or None})
                if err is None and len(out["g"][i]):
                    new[ck][str(iid)] = np.frombuffer(out["g"][i], np.float32)
                if err is None and len(out["c"][i]):
                    new[dk][str(iid)] = np.frombuffer(out["c"][i], np.float32).reshape(int(out["c_cells"][i]), -1)
            yield batch, new

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
