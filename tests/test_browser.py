"""End to end in a real headless browser: `streamlit run app.py` on a free port, driven by Playwright
through Debian's chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(demo_db):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    port = _free_port()
    env = {**os.environ, "ICONICITY_DB": str(demo_db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    proc.wait(10)


def test_overview_and_patch_matches_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        # a deep link as the very first request to a fresh server (Streamlit then serves pages/ directly)
        page.goto(server + "/patches?ref=chelsea", wait_until="domcontentloaded")
        page.get_by_text("Same-position similarity").wait_for(timeout=90_000)
        page.wait_for_timeout(2000)
        body = page.locator("body").text_content()
        assert "VR (reused cells)" in body and "Traceback" not in body
        assert "CLIP τ (static)" in body                       # the shared sidebar is there too
        assert page.locator("img").count() >= 2
        page.screenshot(path=str(tmp_path / "patches.png"), full_page=True)

        # Markdown in a URL value is shown literally: no link to click, no remote image fetched
        evil = "[Session expired - log in](http://evil.invalid/) ![x](http://evil.invalid/p.png)"
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if urllib.parse.urlsplit(r.url).hostname == "evil.invalid"
                else None)
        page.goto(server + "/?ref=" + urllib.parse.quote(evil), wait_until="domcontentloaded")
        page.get_by_text("ignored unknown reference").first.wait_for(timeout=90_000)
        assert page.locator('a[href*="evil.invalid"]').count() == 0
        assert page.locator('img[src*="evil.invalid"]').count() == 0 and not fetched
        assert "[Session expired - log in](http://evil.invalid/)" in page.locator("body").text_content()

        page.goto(server + "/?clip_tau=0.60", wait_until="domcontentloaded")
        page.get_by_text("Recognition × realization").first.wait_for(timeout=90_000)
        page.wait_for_timeout(2000)
        body = page.locator("body").text_content()
        for model in ("replicator-xl", "painter-2", "balanced-1.5", "noisy-mini"):
            assert model in body
        assert "Traceback" not in body and "Exception" not in body
        assert page.get_by_text("Patch matches").count() >= 1      # st.navigation's page titles
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        browser.close()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
    shot_dir = os.environ.get("ICONICITY_SCREENSHOTS")
    if shot_dir:
        for name in ("overview.png", "patches.png"):
            shutil.copy(tmp_path / name, Path(shot_dir) / name)
