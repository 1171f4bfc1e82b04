"""End-to-end scoring with tiny random-init models loaded through the user-facing options."""
from __future__ import annotations

import io
import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import BASELINE, build_small_dataset, cli, model_args, save, texture
from typer.testing import CliRunner

from iconicity_core import db
from iconicity_core import db as store
from iconicity_core.cli import app
from iconicity_core.config import Thresholds
from iconicity_core.core import metrics as M
from iconicity_core.db.metrics_sql import metrics_table

runner = CliRunner()


def score(*args) -> dict:
    """``iconicity score ... --format json``: the structured summary of the run."""
    return json.loads(cli("score", *args, "--format", "json"))


def by_image(db, *extra) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "image", *extra)))


@pytest.fixture(scope="module")
def scored(tmp_path_factory, tiny_models):
    """The small dataset scored once in crop mode and once in token mode."""

    root = build_small_dataset(tmp_path_factory.mktemp("ds") / "dataset")
    out = {}
    for mode in ("crop", "token"):
        db = root.parent / f"{mode}.duckdb"
        cli("score", root, "--db", db, *model_args(tiny_models, mode))
        out[mode] = db
    return root, out


@pytest.mark.parametrize("mode", ["crop", "token"])
def test_exact_copy_scores_one(scored, mode):
    df = by_image(scored[1][mode]).set_index("image")
    for model in ("model_a", "model_b"):
        row = df.loc[f"generations/{model}/mona/copy.png"]
        assert row.clip_sim == pytest.approx(1.0, abs=1e-5)
        assert row.vr == 1.0
        assert bool(row.recognised)
        assert df.loc[f"generations/{model}/film/copy_of_b.png"].clip_sim == pytest.approx(1.0, abs=1e-5)


def test_shuffled_tiles_are_reused_but_not_in_place(scored):
    db = scored[1]["crop"]
    df = by_image(db).set_index("image")
    assert df.loc["generations/model_a/mona/shuffled.png"].vr == 1.0
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        """SELECT c.sim, c.same_pos_sim FROM cell_sims c JOIN files f USING (file_id)
           WHERE f.relpath = 'generations/model_a/mona/shuffled.png'""").fetchall()
    sims = np.array(rows)
    assert len(sims) == 16
    np.testing.assert_allclose(sims[:, 0], 1.0, atol=1e-5)
    assert sims[:, 1].max() < 0.999          # no tile sits in its original place


def test_dynamic_takes_max_over_kept_references_and_drops_near_duplicates(scored):
    con = duckdb.connect(str(scored[1]["crop"]), read_only=True)
    dedup = dict(con.execute(
        "SELECT f.relpath, d.kept FROM ref_dedup d JOIN files f USING (file_id)").fetchall())
    assert dedup == {"references/film/a.png": True, "references/film/b.png": True,
                     "references/film/c_near_dup.png": False, "references/mona/mona.png": True}
    best_ref, n_refs = con.execute(
        """SELECT rf.relpath, c.n_refs FROM clip_sims c JOIN files f USING (file_id)
           JOIN files rf ON rf.file_id = c.ref_file WHERE f.relpath = 'generations/model_a/film/copy_of_b.png'"""
    ).fetchone()
    assert best_ref == "references/film/b.png"
    assert n_refs == 2


def test_sql_metrics_agree_with_numpy(scored):
    con = duckdb.connect(str(scored[1]["crop"]), read_only=True)
    cells = con.execute(
        """SELECT f.model, f.slug, f.relpath, list(c.sim ORDER BY c.cell) FROM cell_sims c JOIN files f USING (file_id)
           GROUP BY ALL""").df().set_axis(["model", "slug", "image", "cells"], axis=1)
    clip = con.execute("SELECT f.relpath AS image, c.sim FROM clip_sims c JOIN files f USING (file_id)").df()
    data = cells.merge(clip, on="image")
    for tau, ptau, pooling in [(0.7, 0.6, "recognised"), (0.2, 0.99, "all"), (0.99, 0.1, "recognised"),
                               (-0.5, 0.5, "recognised")]:
        t = Thresholds(tau, None, ptau, pooling)
        sql = metrics_table(con, "reference", t).set_index(["model", "slug"])
        for (model, slug), g in data.groupby(["model", "slug"]):
            want = M.reference_scores(g["sim"].to_numpy(), np.stack(g["cells"].to_numpy()), tau, ptau, pooling)
            got = sql.loc[(model, slug)]
            assert got.n == want["n"]
            for k in ("cra", "vr", "vi", "crt"):
                if np.isnan(want[k]):
                    assert pd.isna(got[k]), (k, tau, ptau, pooling)
                else:
                    assert got[k] == pytest.approx(want[k]), (k, tau, ptau, pooling)


def test_thresholds_move_without_reembedding(scored):
    db = scored[1]["crop"]
    lo = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "model", "--clip-tau", "-1")))
    hi = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "model", "--clip-tau", "0.99999")))
    assert (lo.cra == 1.0).all()
    assert (hi.cra < 1.0).all()
    # dynamic threshold applies to dynamic references only
    dyn = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "reference", "--clip-tau", "-1",
                                      "--clip-tau-dynamic", "0.99999")))
    assert (dyn[dyn.kind == "static"].cra == 1.0).all()
    assert (dyn[dyn.kind == "dynamic"].cra == 0.5).all()
    js = json.loads(cli("metrics", "--db", db, "--by", "model", "--format", "json", "--pooling", "all"))
    assert js["vi_pooling"] == "all"
    assert {r["kind"] for r in js["rows"]} == {"static", "dynamic", "all"}
    assert {"model", "kind", "variant", "n_refs", "cra", "vr", "vi", "crt"} <= set(js["rows"][0])


def test_second_run_embeds_nothing(scored, tiny_models):
    root, dbs = scored
    s = score(root, "--db", dbs["crop"], *model_args(tiny_models))
    assert (s["n_generations_scored"], s["n_embedded"], s["n_refs_embedded"], s["n_global"], s["n_cells"]) == (0,) * 5


@pytest.mark.parametrize(("keep", "re_embedded"), [("all", 0), ("references", 2)])
def test_new_reference_rescores_only_its_slug(tmp_path, tiny_models, small_dataset, keep, re_embedded):
    """Only the film's 4 generations are scored again; their vectors are reused when the run keeps them
    (--keep-embeddings all), else the 2 that are not copies of a reference are embedded again."""
    db = tmp_path / "r.duckdb"
    cli("score", small_dataset, "--db", db, *model_args(tiny_models), "--keep-embeddings", keep)
    before = by_image(db).set_index("image")
    save(texture(99), small_dataset / "references/film/d_new.png")
    s = score(small_dataset, "--db", db, *model_args(tiny_models), "--keep-embeddings", keep)
    assert (s["n_generations_scored"], s["n_embedded"], s["n_refs_embedded"]) == (4, re_embedded, 1)
    after = by_image(db).set_index("image")
    assert len(after) == len(before)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT max(n_refs) FROM clip_sims WHERE slug = 'film'").fetchone()[0] == 3


def test_bad_file_zoo_is_recorded_and_the_rest_is_scored(tmp_path, tiny_models, small_dataset):
    g = small_dataset / "generations/model_a/mona"
    (g / "empty.png").write_bytes(b"")
    (g / "text.jpg").write_text("not an image")
    good = io.BytesIO()
    texture(5).save(good, "JPEG")
    (g / "truncated.jpg").write_bytes(good.getvalue()[:300])
    save(texture(6, size=512), g / "too_big.png")
    save(texture(7).convert("CMYK"), g / "cmyk.jpg")
    save(texture(8).convert("RGBA"), g / "alpha.png")
    (small_dataset / "generations/model_a/ghost_slug").mkdir()
    save(texture(9), small_dataset / "generations/model_a/ghost_slug/x.png")
    db = tmp_path / "zoo.duckdb"
    r = runner.invoke(app, ["score", str(small_dataset), "--db", str(db), "--max-pixels", "100000",
                            *model_args(tiny_models)])
    assert r.exit_code == 0, r.output
    df = by_image(db)
    assert {"generations/model_a/mona/cmyk.jpg", "generations/model_a/mona/alpha.png"} <= set(df.image)
    assert len(df) == 12
    errs = pd.read_csv(io.StringIO(cli("errors", "--db", db)))
    msgs = {e.split("/")[-1]: m for e, m in zip(errs["item"], errs["message"], strict=True)}
    assert "empty file" in msgs["empty.png"]
    assert "not a readable image" in msgs["text.jpg"]
    assert "truncated" in msgs["truncated.jpg"]
    assert "decompression bomb" in msgs["too_big.png"]
    assert "unknown slug 'ghost_slug'" in msgs["x.png"]


def test_unicode_slugs_and_titles(tmp_path, tiny_models):
    from helpers import write_refs_csv

    root = tmp_path / "uni"
    root.mkdir()
    write_refs_csv(root, [{"slug": "Le Fabuleux Destin d'Amélie", "title": "Le Fabuleux Destin d'Amélie Poulain",
                           "kind": "static"}, {"slug": "千と千尋", "title": "千と千尋の神隠し", "kind": "static"}])
    for i, slug in enumerate(["le_fabuleux_destin_d'amélie", "千と千尋"]):
        save(texture(i), root / "references" / slug / "r.png")
        save(texture(i), root / "generations" / "m" / slug / "g.png")
    db = tmp_path / "u.duckdb"
    cli("score", root, "--db", db, *model_args(tiny_models))
    df = by_image(db)
    assert set(df.slug) == {"le_fabuleux_destin_d'amélie", "千と千尋"}
    assert (df.vr == 1.0).all()
    con = store.connect(db, read_only=True)
    assert con.execute("SELECT title FROM refs WHERE slug = '千と千尋'").fetchone()[0] == "千と千尋の神隠し"


def test_model_table_is_the_kernels_macro_mean_of_the_reference_table(scored):
    con = duckdb.connect(str(scored[1]["crop"]), read_only=True)
    t = Thresholds(0.5, 0.9, 0.55, "all")
    direct = metrics_table(con, "model", t)
    derived = M.model_table(metrics_table(con, "reference", t)[M.REFERENCE_COLUMNS]).assign(pooling="all", match="any")
    pd.testing.assert_frame_equal(direct, derived)


def test_same_bytes_same_scores_across_batches(tmp_path, tiny_models, small_dataset):

    src = small_dataset / "generations/model_a/mona/other.png"
    shutil.copy(src, small_dataset / "generations/model_b/mona/zz_same_bytes.png")
    db = tmp_path / "dup.duckdb"
    cli("score", small_dataset, "--db", db, "--batch-size", "1", *model_args(tiny_models))
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        """SELECT f.relpath, c.sim, list(s.sim ORDER BY s.cell), list(s.same_pos_sim ORDER BY s.cell)
           FROM clip_sims c JOIN files f USING (file_id) JOIN cell_sims s USING (run_id, file_id)
           WHERE f.relpath IN ('generations/model_a/mona/other.png', 'generations/model_b/mona/zz_same_bytes.png')
           GROUP BY ALL ORDER BY 1""").fetchall()
    assert len(rows) == 2
    assert rows[0][1:] == rows[1][1:]
    ids = con.execute("SELECT DISTINCT image_id FROM files WHERE relpath IN ('generations/model_a/mona/other.png', "
                      "'generations/model_b/mona/zz_same_bytes.png')").fetchall()
    assert len(ids) == 1                                   # embedded once, by content


def test_second_patch_mode_reuses_clip_embeddings(tmp_path, tiny_models, small_dataset):
    db = tmp_path / "modes.duckdb"
    first = score(small_dataset, "--db", db, *model_args(tiny_models, "crop"), "--keep-embeddings", "all")
    second = score(small_dataset, "--db", db, *model_args(tiny_models, "token"), "--keep-embeddings", "all")
    # 9 distinct images (4 references, 5 generations not byte-identical to one of them)
    assert (first["n_global"], first["n_cells"]) == (9, 9)
    assert (second["n_global"], second["n_cells"]) == (0, 9)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE kind = 'score'").fetchone()[0] == 2
    a, b = (con.execute("SELECT list(sim ORDER BY file_id) FROM clip_sims WHERE run_id = ?", [r]).fetchone()[0]
            for (r,) in con.execute("SELECT run_id FROM runs ORDER BY patch_mode").fetchall())
    assert a == b                        # same CLIP embeddings, same recognition numbers in both runs


def _con(database):
    return db.connect(database, read_only=True)


def _gen_vectors(database, key_like: str) -> int:
    con = _con(database)
    try:
        return con.execute("""SELECT count(*) FROM embeddings e WHERE e.embedder LIKE ? AND e.image_id IN
                              (SELECT image_id FROM files WHERE role = 'generation')
                              AND e.image_id NOT IN (SELECT image_id FROM files WHERE role = 'reference')""",
                           [key_like]).fetchone()[0]
    finally:
        con.close()


# -- 1. a run never deletes the vectors another run keeps -------------------------------------------------
def test_a_second_run_with_keep_none_keeps_the_vectors_a_first_run_kept(small_dataset, tmp_path):
    database = tmp_path / "s.duckdb"
    cli("score", small_dataset, "--db", database, *BASELINE, "--keep-embeddings", "all")
    kept = _gen_vectors(database, "baseline:global%")
    assert kept > 0
    # run B: the same recognition embedder, another cell embedder, nothing kept
    cli("score", small_dataset, "--db", database, "--clip-model", "baseline", "--dino-model", "pixels", "--quiet",
        "--keep-embeddings", "none")
    assert _gen_vectors(database, "baseline:global%") == kept            # A's CLIP vectors are still there
    assert _gen_vectors(database, "pixels:cells%") == 0                   # B's own were dropped
    con = _con(database)
    assert con.execute("SELECT count(*) FROM embeddings WHERE embedder LIKE 'pixels:cells%'").fetchone()[0] == 0
    con.close()
    # deleting run A leaves nothing that no run wants: the CLIP vectors of generated images go (B keeps none)
    run_a = next(r for r in json.loads(cli("runs", "--db", database, "--format", "json"))["rows"]
             if r["kind"] == "score" and r["dino_key"].startswith("baseline"))["run_id"]
    cli("runs", "delete", run_a, "--db", database, "--yes")
    assert _gen_vectors(database, "baseline:global%") == 0
