"""Known answers for the pure metric functions and similarity kernels."""
import numpy as np
import pytest

from iconicity_core.core import metrics as M
from iconicity_core.core.grid import cell_boxes, parse_grid, split_ranges
from iconicity_core.core.similarity import l2_normalize, match_cells


def test_thresholds_are_strict():
    s = np.array([0.70, 0.7000001, 0.69])
    assert M.recognised(s, 0.70).tolist() == [False, True, False]
    cells = np.array([[0.6, 0.6000001, 0.2, 0.9]])
    assert M.visual_reuse(cells, 0.6).tolist() == [0.5]


def test_cra_vr_vi_crt_known_values():
    s = np.array([0.9, 0.8, 0.1, 0.2])
    cells = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], float)
    assert M.cra(s, 0.5) == 0.5
    np.testing.assert_allclose(M.visual_reuse(cells, 0.5), [1, 0.25, 1, 0])
    np.testing.assert_allclose(M.visual_independence(cells, 0.5), [0, 0.75, 0, 1])
    # pooled over recognised images (the first two): VR = 0.625, VI = 0.375, CRT = 0.5 * 0.375
    assert M.pooled_vr(s, cells, 0.5, 0.5) == pytest.approx(0.625)
    assert M.crt(s, cells, 0.5, 0.5) == pytest.approx(0.1875)
    # pooled over all: VR = 0.5625
    assert M.pooled_vr(s, cells, 0.5, 0.5, "all") == pytest.approx(0.5625)
    assert M.crt(s, cells, 0.5, 0.5, "all") == pytest.approx(0.5 * 0.4375)


def test_crt_zero_when_nothing_recognised_and_vr_undefined():
    s = np.array([0.1, 0.2])
    cells = np.ones((2, 4))
    assert M.crt(s, cells, 0.7, 0.6) == 0.0
    assert np.isnan(M.pooled_vr(s, cells, 0.7, 0.6))
    assert M.pooled_vr(s, cells, 0.7, 0.6, "all") == 1.0
    with pytest.raises(ValueError, match="pooling"):
        M.crt(s, cells, 0.7, 0.6, "mean")


def test_match_cells_position_independent_and_same_position():
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


def test_grid_split_matches_authors_rule():
    assert parse_grid("4x4") == (4, 4) and parse_grid("2X3") == (2, 3)
    for bad in ("4", "0x4", "axb"):
        with pytest.raises(ValueError):
            parse_grid(bad)
    boxes = cell_boxes(103, 50, 4, 4)
    assert boxes[0] == (0, 0, 25, 12) and boxes[3] == (75, 0, 103, 12) and boxes[15] == (75, 36, 103, 50)
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
