"""Known answers for THE metric kernel (core/metrics.py) and the similarity kernels: copy -> 1, shuffled
tiles -> VR 1 with `any` matching, thresholds at the boundary under both rules, float32 exactly as float64."""
import numpy as np
import pandas as pd
import pytest

from iconicity_core.core import metrics as kernel
from iconicity_core.core.grid import cell_boxes, parse_grid, split_ranges
from iconicity_core.core.similarity import l2_normalize, match_cells


def test_a_value_at_tau_passes_only_under_ge():
    s = np.array([0.70, np.nextafter(0.70, 1), np.nextafter(0.70, 0)])
    assert kernel.recognised(s, 0.70).tolist() == [False, True, False]
    assert kernel.recognised(s, 0.70, "ge").tolist() == [True, True, False]
    with pytest.raises(ValueError, match="rule"):
        kernel.recognised(s, 0.7, ">")


def test_authors_rule_compares_as_the_scripts_static_in_float32_dynamic_in_float64():
    """compute_CRA.py's static check is ``np.float32(sim) >= tau`` (NumPy 2 casts tau to float32); its dynamic
    check ``float(sim) >= tau``. A float32 similarity on τ = 0.7 (0.699999988...) passes for a static work only."""
    f32 = float(np.float32(0.7))                                   # 0.699999988079071 < 0.7
    below = float(np.nextafter(np.float32(0.7), np.float32(0)))    # the float32 just below it
    s = np.array([0.7, f32, below, np.nextafter(0.7, 1), np.nextafter(0.7, 0)])
    static = kernel.recognised(s, 0.7, "authors", dynamic=False)
    dynamic = kernel.recognised(s, 0.7, "authors", dynamic=np.ones(len(s), bool))
    assert static.tolist() == [True, True, False, True, True]      # float32(nextafter(0.7, 0)) is float32(0.7)
    assert dynamic.tolist() == [True, False, False, True, False] == kernel.recognised(s, 0.7, "ge").tolist()
    assert static.tolist() == [bool(np.float32(v) >= 0.7) for v in s]           # the scripts' expressions
    assert dynamic[1:3].tolist() == [float(np.float32(v)) >= 0.7 for v in s[1:3]]   # (on float32 similarities)
    mixed = kernel.recognised(s[[1, 1]], np.array([0.7, 0.7]), "authors", dynamic=np.array([False, True]))
    assert mixed.tolist() == [True, False]
    with pytest.raises(ValueError, match="dynamic"):
        kernel.recognised(s, 0.7, "authors")                            # the kind must be said
    assert kernel.passes(np.float32([f32]), 0.7, "authors").tolist() == [False]     # cells: >= in float64
    assert kernel.symbol("authors") == "≥"


def test_authors_static_cut_is_where_float32_rounding_flips():
    """Exhaustive around every cut: ``v > cut(tau, "authors", False)`` equals ``float32(v) >= float32(tau)`` for
    float64 values a few steps either side of the rounding midpoint (ties to even), of float32(tau), of its
    float32 neighbours and of tau — on the 0.01 grid, random taus, powers of two and zero; float32 arrays too."""
    rng = np.random.default_rng(5)
    taus = np.concatenate([np.round(np.linspace(-1, 1, 201), 2), rng.uniform(-1, 1, 300),
                           [0.5, 0.25, -0.5, 0.0, -0.0, 1e-40, 1.0, -1.0]])
    parities = set()
    for tau in taus:
        t32 = np.float32(tau)
        parities.add(int(t32.view(np.uint32)) & 1)
        lo, hi = np.nextafter(t32, np.float32(-2)), np.nextafter(t32, np.float32(2))
        mid = (float(lo) + float(t32)) / 2
        centres = [mid, float(t32), float(lo), float(hi), float(tau)]
        v = []
        for c in centres:
            x = np.float64(c)
            for _ in range(4):
                x = np.nextafter(x, -2)
            for _ in range(9):
                v.append(x)
                x = np.nextafter(x, 2)
        v = np.array(v)
        want = np.array([bool(np.float32(x) >= t32) for x in v])
        c = kernel.cut(tau, "authors", dynamic=False)
        assert ((v > c) == want).all(), tau
        assert (kernel.passes(v, tau, "authors", dynamic=False) == want).all(), tau
        v32 = np.unique(v.astype(np.float32))
        assert (kernel.passes(v32, tau, "authors", dynamic=False) == (v32 >= t32)).all(), tau
    assert parities == {0, 1}                      # both tie directions were exercised


@pytest.mark.parametrize("rule", ["gt", "ge"])
def test_float32_cells_are_compared_with_the_float64_answer(rule):
    rng = np.random.default_rng(0)
    taus = np.concatenate([np.round(np.linspace(0, 1, 101), 2), rng.random(50)])
    cells32 = np.concatenate([taus.astype(np.float32), np.nextafter(taus.astype(np.float32), 2),
                              np.nextafter(taus.astype(np.float32), -2), rng.random(200).astype(np.float32)])
    for tau in taus:
        want = cells32.astype(np.float64) > tau if rule == "gt" else cells32.astype(np.float64) >= tau
        assert (kernel.reused(cells32, tau, rule) == want).all(), tau        # float32 path
        assert (kernel.passes(cells32.astype(np.float64), tau, rule) == want).all(), tau


def test_group_statistics_finish_to_the_paper_formulas():
    s = np.array([0.9, 0.8, 0.1, 0.2])
    cells = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(kernel.visual_reuse(cells, 0.5), [1, 0.25, 1, 0])
    m = kernel.reference_scores(s, cells, 0.5, 0.5)                  # recognised: the first two images
    assert m == pytest.approx({"n": 4, "cra": 0.5, "vr": 0.625, "vi": 0.375, "crt": 0.5 * 0.375})
    m = kernel.reference_scores(s, cells, 0.5, 0.5, "all")
    assert m["vr"] == pytest.approx(0.5625)
    assert m["crt"] == pytest.approx(0.5 * 0.4375)


def test_crt_is_zero_when_nothing_is_recognised_and_vr_undefined():
    s, cells = np.array([0.1, 0.2]), np.ones((2, 4), np.float32)
    m = kernel.reference_scores(s, cells, 0.7, 0.6)
    assert m["crt"] == 0.0
    assert np.isnan(m["vr"])
    assert kernel.reference_scores(s, cells, 0.7, 0.6, "all")["vr"] == 1.0
    with pytest.raises(ValueError, match="pooling"):
        kernel.reference_scores(s, cells, 0.7, 0.6, "mean")


def test_per_kind_thresholds():
    dyn = np.array([False, True, True])
    assert kernel.recognised(np.array([0.72, 0.72, 0.76]), kernel.clip_taus(dyn, 0.7, 0.75)).tolist() == [True, False, True]


def test_reference_and_model_tables_macro_average_over_references():
    img = pd.DataFrame({"model": ["m"] * 5, "slug": ["a", "a", "b", "b", "c"],
                        "kind": ["static", "static", "static", "static", "dynamic"], "variant": ["t"] * 5})
    rec = np.array([True, True, True, False, False])
    vr = np.array([1.0, 0.5, 0.0, 1.0, 1.0])
    ref = kernel.reference_table(img, rec, vr).set_index("slug")
    assert ref.loc["a", "cra"] == 1.0
    assert ref.loc["a", "vr"] == 0.75
    assert ref.loc["b", "vr"] == 0.0
    assert np.isnan(ref.loc["c", "vr"])
    assert ref.loc["c", "crt"] == 0.0
    model = kernel.model_table(ref.reset_index()).set_index("kind")
    assert model.loc["static", "n_refs"] == 2
    assert model.loc["all", "n_refs"] == 3
    assert model.loc["all", "cra"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert model.loc["all", "vr"] == pytest.approx((0.75 + 0.0) / 2)        # NaN left out
    assert list(model.index) == ["dynamic", "static", "all"]


def test_quadrants_and_high_reuse():
    assert kernel.quadrants([0.9, 0.9, 0.1, 0.1, 0.5], [0.9, 0.1, 0.9, np.nan, 0.5]).tolist() == [
        "replicated", "reinterpreted", "reused unrecognised", "missed", "missed"]
    assert kernel.high_reuse([0.5, 0.5000001, np.nan]).tolist() == [False, True, False]


def test_copy_gives_one_and_shuffled_tiles_reuse_everything_anywhere_but_not_in_place():
    rng = np.random.default_rng(0)
    ref = l2_normalize(rng.normal(size=(2, 16, 8)))        # two reference images
    perm = rng.permutation(16)
    gen = ref[1][perm]                                       # tiles of reference 1, shuffled
    m = match_cells(gen, ref)
    np.testing.assert_allclose(m.best_sim, 1.0, atol=1e-6)
    assert m.best_ref.tolist() == [1] * 16
    assert m.best_ref_cell.tolist() == perm.tolist()
    moved = perm != np.arange(16)
    assert (m.same_pos_sim[moved] < 0.99).all()
    assert kernel.visual_reuse(m.best_sim[None], 0.99)[0] == 1.0                      # any: VR 1
    assert kernel.visual_reuse(m.same_pos_sim[None], 0.99)[0] == (~moved).mean()      # same position: only unmoved
    copy = match_cells(ref[0], ref)
    assert kernel.visual_reuse(copy.same_pos_sim[None], 0.99)[0] == 1.0 == kernel.visual_reuse(copy.best_sim[None], 0.99)[0]


def test_grid_split_matches_authors_rule():
    assert parse_grid("4x4") == (4, 4)
    assert parse_grid("2X3") == (2, 3)
    for bad in ("4", "0x4", "axb"):
        with pytest.raises(ValueError, match="grid"):
            parse_grid(bad)
    boxes = cell_boxes(103, 50, 4, 4)
    assert boxes[0] == (0, 0, 25, 12)
    assert boxes[3] == (75, 0, 103, 12)
    assert boxes[15] == (75, 36, 103, 50)
    area = sum((r - l) * (b - t) for l, t, r, b in boxes)
    assert area == 103 * 50
    assert split_ranges(14, 4) == [(0, 3), (3, 6), (6, 9), (9, 14)]


def test_stored_embeddings_round_trip_exactly(tmp_path):
    from iconicity_core import db
    from iconicity_core.core.similarity import quantize

    rng = np.random.default_rng(1)
    raw = rng.normal(size=(3, 16, 8)).astype(np.float32)
    con = db.connect(tmp_path / "e.duckdb")
    db.embeddings.put(con, "k", ["a", "b", "c"], raw)
    back = db.embeddings.get(con, "k", ["a", "b", "c"])
    for i, key in enumerate("abc"):
        assert np.array_equal(back[key], quantize(raw[i]))     # in-memory and reloaded agree bit for bit
        np.testing.assert_allclose(np.linalg.norm(back[key], axis=-1), 1.0, atol=1e-6)


def test_each_metric_rule_is_written_in_one_module():
    """`grep` finds the comparison rules and the CRT / quadrant rules only in the kernel."""
    import re
    from pathlib import Path

    pkg = Path(kernel.__file__).resolve().parents[1]
    patterns = {"rule branch": (re.compile(r"""rule\s*==\s*["'](gt|ge|authors)["']"""), ["core/metrics.py"]),
                "CRT zero rule": (re.compile(r"cra\s*>\s*0"), ["core/metrics.py"]),
                "quadrant cut": (re.compile(r"QUADRANT_CUT\s*="), ["core/metrics.py"]),
                "a literal quadrant cut": (re.compile(r"(vr|cra)\w*\s*>\s*0\.5"), [])}
    sources = [*pkg.rglob("*.py"), *(pkg.parent / "pages").glob("*.py")]
    for name, (pat, where) in patterns.items():
        hits = sorted({p.relative_to(pkg).as_posix() if pkg in p.parents else p.name for p in sources
                       if pat.search(p.read_text())})
        assert hits == where, (name, hits)
