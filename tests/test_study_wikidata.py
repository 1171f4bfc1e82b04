"""`iconicity references build` against recorded SPARQL responses served over real HTTP on 127.0.0.1."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from replay_server import ReplayServer
from typer.testing import CliRunner

from iconicity_core.cli import app
from iconicity_core.io.csvfiles import read_references

FIX = Path(__file__).parent / "fixtures" / "wikidata"
runner = CliRunner()


def page(name: str) -> tuple[int, object, float]:
    return (200, json.loads((FIX / name).read_text(encoding="utf-8")), 0)


def build(out: Path, url: str, *extra: str):
    return runner.invoke(app, ["references", "build", str(out), "--classes", "painting,film", "--page-size", "2",
                               "--endpoint", url + "/sparql", "--timeout", "0.5", "--retries", "3", *extra])


def test_build_pages_retries_and_writes_references(tmp_path, monkeypatch):
    monkeypatch.setenv("ICONICITY_CONTACT", "tester@example.org")
    script = {"/sparql": [(429, {"error": "slow down"}, 0), page("painting_0.json"),
                          (500, "server error", 0), page("painting_1.json"), page("painting_2.json"),
                          (200, {}, 2.0), page("film_0.json"),            # the first one times out
                          page("film_1.json"), page("film_2.json")]}
    with ReplayServer(script) as srv:
        r = build(tmp_path / "ds", srv.url)
        assert r.exit_code == 0, r.output
        n = len(srv.log)
        offsets = [parse_qs(urlsplit(p).query)["query"][0].rsplit("OFFSET", 1)[1].strip() for p, _ in srv.log]
        assert offsets == ["0", "0", "2", "2", "4", "0", "0", "2", "4"]
        assert all("tester@example.org" in ua for _, ua in srv.log)
        r = build(tmp_path / "ds", srv.url)                  # cached: no request at all
        assert r.exit_code == 0
        assert len(srv.log) == n
    with open(tmp_path / "ds" / "references.csv", encoding="utf-8") as f:
        rows = {r["slug"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"mona_lisa", "the_starry_night", "guernica", "amélie", "up", "up_q7898360", "千と千尋の神隠し"}
    assert rows["up"]["qid"] == "Q174811"
    assert rows["up_q7898360"]["qid"] == "Q7898360"
    assert "slug collision" in r.output
    g = rows["guernica"]
    assert g["inception"].startswith("1937-01-01")
    assert g["image"] == ""
    assert g["kind"] == "static"
    assert rows["mona_lisa"]["image"].endswith("Special:FilePath/Mona%20Lisa.jpg")
    assert rows["amélie"]["kind"] == "dynamic"
    assert rows["amélie"]["sitelinks"] == "80"
    refs, _, problems = read_references(tmp_path / "ds" / "references.csv")   # readable by the scoring ingest
    assert {r.slug: r for r in refs}["千と千尋の神隠し"].extra["sitelinks"] == 21.0
    assert not problems


@pytest.mark.parametrize("bad", [(200, "{not json", 0), (200, {"unexpected": 1}, 0)])
def test_malformed_response_writes_nothing(tmp_path, bad):
    with ReplayServer({"/sparql": [bad] * 4}) as srv:
        r = build(tmp_path / "ds", srv.url)
    assert r.exit_code == 2
    assert "Nothing was written" in r.output
    assert not (tmp_path / "ds" / "references.csv").exists()
