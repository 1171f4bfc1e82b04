"""Covariates: caption counting on a tricky synthetic Parquet corpus, title uniqueness, dates, CSV import."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import write_refs_csv

from iconicity_core import db as store
from iconicity_core.analysis import covariates as C
from iconicity_core.io.dataset import scan_dataset
from iconicity_core.pipeline.ingest import sync_dataset


@pytest.fixture
def con(tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    write_refs_csv(root, [
        {"slug": "up", "title": "Up", "kind": "dynamic", "inception": "+2009-05-29T00:00:00Z"},
        {"slug": "amelie", "title": "Amélie", "kind": "dynamic", "inception": "2001"},
        {"slug": "starry_night", "title": "The Starry Night", "kind": "static", "inception": "1889-06-01"},
        {"slug": "guernica", "title": "Guernica", "kind": "static", "inception": ""},
        {"slug": "up_2", "title": "UP!", "kind": "dynamic", "inception": "c. 1950"},
    ])
    c = store.connect(tmp_path / "c.duckdb")
    sync_dataset(c, scan_dataset(root), progress=False)
    return c


CAPTIONS = [
    "The Starry Night by Vincent van Gogh",         # starry night
    "starry-night sky over the town",               # no: the title needs "the"
    "THE STARRY NIGHT, poster",                     # starry night (case)
    "the starry nights of summer",                  # no: 'nights' is another word
    "Amelie poster",                                # amelie (accents normalised)
    "AMÉLIE (2001)",                                # amelie
    "Amélies favourite café",                       # no: substring of a longer word
    "look up at the sky",                           # up / up_2 (title that is a common word)
    "upward trend; setup",                          # no: substrings
    "",                                             # empty caption
    None,                                           # null caption
    "Guernica",                                     # guernica
    "a guernica-inspired mural",                    # guernica
]


def test_caption_counts_exact(con, tmp_path):
    d = tmp_path / "captions"
    d.mkdir()
    pq.write_table(pa.table({"caption": CAPTIONS[:7], "url": ["x"] * 7}), d / "part-0.parquet")
    pq.write_table(pa.table({"caption": CAPTIONS[7:], "url": ["y"] * 6}), d / "part-1.parquet")
    col = C.caption_frequency(con, sorted(d.glob("*.parquet")), "caption", corpus="synthetic")
    got = dict(con.execute(f'SELECT slug, "{col}" FROM refs').fetchall())
    assert got == {"starry_night": 2.0, "amelie": 2.0, "up": 1.0, "up_2": 1.0, "guernica": 2.0}
    src, details = con.execute("SELECT source, details FROM covariate_sources WHERE name = ?", [col]).fetchone()
    assert src == "captions"
    assert '"files": 2' in details
    assert "whole-phrase" in details
    with pytest.raises(ValueError, match="column"):
        C.caption_frequency(con, sorted(d.glob("*.parquet")), "caption; DROP TABLE refs")


def test_title_uniqueness(con):
    C.title_uniqueness(con)
    got = {s: (z, a) for s, z, a in con.execute("SELECT slug, title_zipf_mean, title_ambiguity_refs FROM refs").fetchall()}
    assert got["up"][0] > got["guernica"][0]              # "up" is an everyday word
    assert got["up"][1] == 1.0
    assert got["up_2"][1] == 1.0
    assert got["guernica"][1] == 0.0


def test_dates_and_csv_import(con, tmp_path):
    C.dates(con, "inception")
    got = dict(con.execute("SELECT slug, year FROM refs").fetchall())
    assert got == {"up": 2009.0, "amelie": 2001.0, "starry_night": 1889.0, "guernica": None, "up_2": None}
    assert con.execute("SELECT decade FROM refs WHERE slug = 'starry_night'").fetchone()[0] == 1880.0
    f = tmp_path / "views.csv"
    f.write_text("slug,views\nUp,12000\nguernica,n/a\nunknown,5\n")
    col = C.import_csv(con, f, "views", "pageviews", source="wikimedia pageviews csv")
    got = dict(con.execute(f'SELECT slug, "{col}" FROM refs').fetchall())
    assert got["up"] == 12000.0
    assert got["guernica"] is None


def test_distinctiveness_without_weights_gives_advice_that_works(con, tmp_path, monkeypatch):
    """The CLIP load error's "or use --clip-model baseline" is image-only advice: distinctiveness needs a text tower."""
    from helpers import invoke

    con.close()
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))            # offline, nothing cached
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = invoke("covariates", "distinctiveness", "--db", tmp_path / "c.duckdb", "--clip-model", "ViT-B-32",
               "--clip-pretrained", "openai")
    assert r.exit_code == 2, r.output
    assert "could not load CLIP model" in r.stderr, r.stderr
    assert "--clip-model baseline" not in r.stderr
    from iconicity_core.embedders import ModelLoadError, load_global

    with pytest.raises(ModelLoadError, match="--clip-model baseline"):          # where an image embedder will do
        load_global("ViT-B-32", "openai", device="cpu")


@pytest.mark.slow
def test_semantic_distinctiveness_with_clip_text_tower(con, tmp_path, tiny_models):
    from typer.testing import CliRunner

    from iconicity_core.cli import app

    db = tmp_path / "c.duckdb"
    assert "her" in C.common_phrases(300)
    con.execute("INSERT INTO refs (slug, title, kind) VALUES ('her_film', 'Her', 'dynamic')")
    con.close()
    r = CliRunner().invoke(app, ["covariates", "distinctiveness", "--db", str(db), "--clip-model", "ViT-S-32",
                                 "--clip-pretrained", str(tiny_models["clip"]), "--n-phrases", "300", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    c = store.connect(db, read_only=True)
    got = dict(c.execute("SELECT slug, title_distinctiveness FROM refs").fetchall())
    assert got["her_film"] == pytest.approx(0.0, abs=1e-5)     # the title is itself a common word
    assert got["guernica"] > got["her_film"]
    assert all(0 <= v <= 2 for v in got.values())
    src = c.execute("SELECT details FROM covariate_sources WHERE name = 'title_distinctiveness'").fetchone()[0]
    assert "open_clip:ViT-S-32" in src


def _views(n):
    return {"items": [{"views": n // 2}, {"views": n - n // 2}]}


def test_pageviews_over_real_http_with_retries_and_errors(con, tmp_path):
    from replay_server import ReplayServer

    from iconicity_core.io.http import PoliteClient

    base = "/metrics/pageviews/per-article/en.wikipedia/all-access/user/{}/monthly/2024010100/2024123100"
    script = {
        base.format("Up"): [(429, {"detail": "slow down"}, 0), (200, _views(1000), 0)],
        base.format("Amélie"): [(500, "oops", 0), (200, _views(501), 0)],
        base.format("The_Starry_Night"): [(200, _views(90), 2.0), (200, _views(90), 0)],   # first one times out
        base.format("Guernica"): [(200, "{not json", 0)] * 5,
    }
    with ReplayServer(script) as srv:
        client = PoliteClient(tmp_path / "cache", timeout=0.5, retries=3, backoff=0.01)
        col, errors = C.fetch_pageviews(con, client, endpoint=srv.url)
        got = dict(con.execute(f'SELECT slug, "{col}" FROM refs').fetchall())
        assert got == {"up": 1000.0, "amelie": 501.0, "starry_night": 90.0, "guernica": None, "up_2": None}
        assert "valid JSON" in errors["guernica"]
        assert "no Wikipedia article 'UP!'" in errors["up_2"]
        assert all(ua.startswith("IconicityExplorer/") for _, ua in srv.log)
        n = len(srv.log)
        C.fetch_pageviews(con, client, endpoint=srv.url)          # cached: only the failures are asked again
        assert len(srv.log) - n == 2             # only the two failures (404, malformed JSON) are asked again


def test_wikidata_ambiguity_over_real_http(con, tmp_path):
    from urllib.parse import parse_qs, urlsplit

    from replay_server import ReplayServer

    from iconicity_core.io.http import PoliteClient

    def n(k):
        return (200, {"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"value": str(k)}}]}}, 0)

    # requests come in slug order: amelie, guernica, starry_night, up, up_2
    with ReplayServer({"/sparql": [n(1), n(4), (500, "x", 0), n(2), n(37), (200, {"oops": 1}, 0)]}) as srv:
        col, errors = C.wikidata_ambiguity(con, PoliteClient(tmp_path / "c", retries=2, backoff=0.01),
                                           endpoint=srv.url + "/sparql")
        queries = [parse_qs(urlsplit(p).query)["query"][0] for p, _ in srv.log]
    got = dict(con.execute(f'SELECT slug, "{col}" FROM refs').fetchall())
    assert got == {"amelie": 1.0, "guernica": 4.0, "starry_night": 2.0, "up": 37.0, "up_2": None}  # no qid column
    assert 'rdfs:label "Amélie"@en' in queries[0]
    assert set(errors) == {"up_2"}
