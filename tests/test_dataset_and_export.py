"""Ingest of both layouts, prompt variants, covariates, and the authors' CSV export."""
import csv
import io
import json

import duckdb
import pandas as pd
from helpers import cli, save, texture
from typer.testing import CliRunner

from iconicity_core.io.dataset import norm_slug, scan_dataset

runner = CliRunner()
BASE = ["--clip-model", "baseline", "--dino-model", "baseline", "--quiet"]


def test_slug_normalisation_matches_authors():
    assert norm_slug("  The Starry Night") == "the_starry_night"


def test_generations_csv_variants_labels_and_covariates(tmp_path, small_dataset):
    save(texture(1), small_dataset / "generations/model_a/synonym/mona_1.png")
    with open(small_dataset / "generations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "model", "slug", "variant", "prompt", "seed", "label"])
        w.writerow(["generations/model_a/synonym/mona_1.png", "model_a", "mona", "synonym", "Lisa of Mona", 7, "replica"])
        w.writerow(["generations/model_a/mona/copy.png", "model_a", "mona", "title", "Mona Lisa", 1, "replica"])
        w.writerow(["generations/missing.png", "model_a", "mona", "title", "", "", ""])
    ds = scan_dataset(small_dataset)
    assert any("missing.png does not exist" in m for _, m in ds.problems)
    db = tmp_path / "v.duckdb"
    cli("score", small_dataset, "--db", db, *BASE)
    img = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "image")))
    syn = img[img.variant == "synonym"]
    assert len(syn) == 1
    assert syn.iloc[0].label == "replica"
    assert syn.iloc[0].seed == 7
    model = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "model")))
    assert set(model.variant) == {"title", "synonym"}
    con = duckdb.connect(str(db), read_only=True)
    cols = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name='refs'").fetchall())
    assert cols["sitelinks"] == "DOUBLE"
    assert cols["inception"] == "DOUBLE"
    assert con.execute("SELECT sitelinks FROM refs WHERE slug='mona'").fetchone()[0] == 120.0


def test_authors_layout(tmp_path):
    refs, gens = tmp_path / "refs", tmp_path / "gen_sd15"
    for slug in ("Starry Night", "Guernica"):
        save(texture(len(slug)), refs / slug / "01.png")
        save(texture(len(slug) + 1), refs / slug / "02.png")    # static: the authors use only the first
        save(texture(len(slug)), gens / slug / "0.png")
    (tmp_path / "prompts.csv").write_text("label,label_clean\nThe Starry Night,starry_night\nGuernica,guernica\n")
    db = tmp_path / "a.duckdb"
    cli("score", "--db", db, "--authors-refs", refs, "--authors-gen", f"sd15={gens}",
        "--authors-prompts", tmp_path / "prompts.csv", "--authors-kind", "static", *BASE)
    img = pd.read_csv(io.StringIO(cli("metrics", "--db", db, "--by", "image")))
    assert set(img.model) == {"sd15"}
    assert set(img.slug) == {"starry_night", "guernica"}
    assert (img.clip_sim > 0.9999).all()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM files WHERE role='reference'").fetchone()[0] == 2
    assert con.execute("SELECT title FROM refs WHERE slug='starry_night'").fetchone()[0] == "The Starry Night"


def test_export_authors_format(tmp_path, small_dataset):
    db = tmp_path / "e.duckdb"
    cli("score", small_dataset, "--db", db, *BASE, "--clip-tau-dynamic", "0.999")
    out = tmp_path / "out"
    cli("export", "--db", db, "--out", out, "--format", "authors", "--clip-tau", "0.999")
    static = pd.read_csv(out / "results_cra_static.csv")
    dynamic = pd.read_csv(out / "results_cra_dynamic.csv")
    ours = pd.read_csv(out / "iconicity_images.csv")
    vr_static, vr_dynamic = pd.read_csv(out / "results_vr_static.csv"), pd.read_csv(out / "results_vr_dynamic.csv")
    assert list(static.columns[:7]) == ["mode", "model", "slug", "iconicity_slug", "ref_image_path", "gen_image_path",
                                        "cra_sim"]
    assert len(static) == 2
    assert len(dynamic) == 2
    assert len(ours) == 10
    assert ours.cra_pass.sum() == 4
    assert len(vr_static) == 6
    assert len(vr_dynamic) == 4
    assert "vr" not in vr_static
    d = dynamic.iloc[0]
    assert d.n_ref_before == 3
    assert d.n_ref_kept == 2
    assert d.n_ref_dups_removed == 1
    assert d.ref_images_kept.count(";") == 1
    assert {"grid_rows", "grid_cols", "n_ref_patches", "n_gen_patches", "vr_max", "vr_mean", "vr_p90"} <= set(vr_static.columns)
    copy = vr_static[vr_static.gen_image_path.str.endswith("mona/copy.png")].iloc[0]
    assert copy.vr_max > 0.9999
    assert copy.vr_mean > 0.9999
    assert copy.n_ref_patches == 16
    meta = json.loads((out / "results_vr_static.meta.json").read_text())
    assert meta["threshold_rule"] == "strict >"
    assert meta["clip"]["family"] == "baseline"
    assert meta["thresholds"]["clip_tau_dynamic"] == 0.999        # the run's recorded dynamic τ
