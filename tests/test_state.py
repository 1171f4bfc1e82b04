"""The dashboard's URL state (pure): parsing, allow-lists, round trip, literal notices."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iconicity_core.dashboard import state

CHOICES = {"models": ["a", "b"], "kinds": ["dynamic", "static"], "variants": ["title"], "slugs": ["x", "y"],
           "runs": ["r1", "r2"]}


def test_defaults_and_fallbacks():
    s, notes = state.parse({}, ["demo.duckdb"])
    assert (s.db, s.clip_tau, s.patch_tau, s.pooling) == ("demo.duckdb", 0.70, 0.60, "recognised")
    assert not notes
    assert not s.given
    s, notes = state.parse({"clip_tau": ["abc"], "patch_tau": ["7"], "pooling": ["'; DROP TABLE refs"],
                            "db": ["../../etc/passwd"]}, ["demo.duckdb"])
    assert (s.db, s.clip_tau, s.patch_tau, s.pooling) == ("demo.duckdb", 0.70, 0.60, "recognised")
    assert len(notes) == 4
    assert all(any(w in n for n in notes) for w in ("clip_tau", "patch_tau", "pooling", "passwd"))


def test_restrict_keeps_only_known_values():
    s, _ = state.parse({"models": ["a", "nope"], "run": ["zz"], "ref": ["y"], "kinds": ["static"]}, ["d"])
    s, notes = state.restrict(s, CHOICES)
    assert s.models == ("a",)
    assert s.run == "r1"
    assert s.ref == "y"
    assert s.kinds == ("static",)
    assert any("nope" in n for n in notes)
    assert any("zz" in n for n in notes)


@settings(max_examples=200, deadline=None)
@given(clip=st.integers(0, 100), patch=st.integers(0, 100), pooling=st.sampled_from(["recognised", "all"]),
       models=st.lists(st.sampled_from(["a", "b"]), unique=True), run=st.sampled_from(["r1", "r2"]))
def test_round_trip(clip, patch, pooling, models, run):
    s = state.ViewState(db="d", run=run, clip_tau=clip / 100, clip_tau_dynamic=clip / 100, patch_tau=patch / 100,
                        pooling=pooling, models=tuple(models))
    params = {k: v if isinstance(v, list) else [v] for k, v in state.to_params(s).items()}
    back, notes = state.parse(params, ["d"])
    back, more = state.restrict(back, CHOICES)
    assert not notes
    assert not more
    assert (back.clip_tau, back.patch_tau, back.pooling, back.models, back.run) == (s.clip_tau, s.patch_tau, pooling,
                                                                                   s.models, run)


def test_literal_leaves_no_markdown_link_image_or_html():
    evil = "[Session expired - log in](http://evil/) ![x](http://evil/p.png) <img src=x> **b** `c` www.evil.com"
    out = state.literal(evil)
    assert out.replace("\\", "").replace("\u2060", "") == evil     # the same characters (+ invisible joiners)
    import re

    assert not re.search(r"(?<!\\)[\[\]()!<>*`:]", out)      # every control character is escaped
    for token in ("](", "![", "http://", "**", "www."):
        assert token not in out
