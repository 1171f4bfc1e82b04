"""`iconicity references fetch-images` against a local Commons stand-in on 127.0.0.1."""
from __future__ import annotations

import csv
import io

from helpers import texture
from replay_server import ReplayServer
from typer.testing import CliRunner

from iconicity_core.cli import app

runner = CliRunner()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    texture(4).save(buf, "JPEG")
    return buf.getvalue()


def _meta(lic: str, artist: str) -> dict:
    return {"query": {"pages": {"1": {"imageinfo": [{"extmetadata": {
        "LicenseShortName": {"value": lic}, "Artist": {"value": f'<a href="x">{artist}</a>'}}}]}}}}


def test_fetch_images_resumable_with_per_item_errors(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    rows = [("mona_lisa", "static", "http://commons.wikimedia.org/wiki/Special:FilePath/Mona%20Lisa.jpg"),
            ("starry", "static", "http://commons.wikimedia.org/wiki/Special:FilePath/Starry.jpg"),
            ("gone", "static", "http://commons.wikimedia.org/wiki/Special:FilePath/Gone.jpg"),
            ("guernica", "static", ""),
            ("up", "dynamic", "http://commons.wikimedia.org/wiki/Special:FilePath/Up.png")]
    with open(ds / "references.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["slug", "title", "kind", "image"])
        w.writerows((s, s, k, i) for s, k, i in rows)
    script = {"/wiki/Special:FilePath/Mona Lisa.jpg": [(200, _jpeg(), 0)],
              "/wiki/Special:FilePath/Starry.jpg": [(200, "<html>Error</html>", 0)] * 2,
              "/w/api.php": [(200, _meta("Public domain", "Leonardo da Vinci"), 0)]}
    with ReplayServer(script) as srv:
        args = ["references", "fetch-images", str(ds), "--commons", srv.url, "--width", "512", "--retries", "1"]
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        n = len(srv.log)
        assert any("width=512" in p for p, _ in srv.log)
        r = runner.invoke(app, args)                     # resume: the image exists, licence is cached
        assert r.exit_code == 0
        assert len(srv.log) - n == 2
    assert (ds / "references" / "mona_lisa" / "mona_lisa.jpg").is_file()
    assert not (ds / "references" / "starry").exists()
    assert not (ds / "references" / "up").exists()
    with open(ds / "fetch_log.csv") as f:
        log = {r["slug"]: r for r in csv.DictReader(f)}
    assert log["mona_lisa"]["status"] == "exists"
    assert log["starry"]["status"] == "not an image"
    assert log["gone"]["status"] == "not found"
    assert log["guernica"]["status"] == "missing"
    assert "up" not in log
    with open(ds / "references.csv") as f:
        refs = {r["slug"]: r for r in csv.DictReader(f)}
    assert refs["mona_lisa"]["image_licence"] == "Public domain"
    assert refs["mona_lisa"]["image_artist"] == "Leonardo da Vinci"
