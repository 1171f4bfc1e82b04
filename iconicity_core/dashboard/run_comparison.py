"""Compare runs: two scoring runs of the same data side by side, each at its operating point or both at the
sidebar's thresholds."""
from __future__ import annotations

from . import cache


def compare_runs(ctx, run_b: str, same_thresholds: bool) -> dict:
    """Run A (the sidebar's) against run B (:func:`iconicity_core.analysis.compare.compare_runs`), each at
    its own operating point or both at the sidebar's thresholds; ``t_b`` says which."""
    from ..analysis.compare import compare_runs as compare
    from ..config import run_thresholds

    t_a = ctx.thresholds
    info_b = cache.meta(*ctx.key)[1][run_b]
    t_b = t_a if same_thresholds else run_thresholds(info_b.get("config"), pooling=t_a.pooling, match=t_a.match)
    out = ctx.engine.memo(("compare", ctx.version, run_b, t_a, t_b, ctx.filters), lambda: compare(
        ctx.engine, cache.engine(*ctx.key, run_b), t_a, t_b, ctx.filters))
    return {**out, "t_b": t_b}

def run_label(ctx):
    """A function from a run id to what people call it: its embedders, grid and patch mode."""
    from ..display import embedder_name

    infos = cache.meta(*ctx.key)[1]

    def label(run_id: str) -> str:
        i = infos.get(run_id) or {}
        return (f"{run_id[:8]} · {embedder_name(i.get('clip_info'))} + {embedder_name(i.get('dino_info'))}, "
                f"{i.get('grid')} {i.get('patch_mode')}" + ("" if i.get("status") in (None, "done") else f" ({i.get('status')})"))
    return label
