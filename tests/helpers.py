"""Test helpers: synthetic images and datasets written to disk (real files, real folders), and the CLI
invoked in-process."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: Debian's Chromium, which the browser tests drive through Playwright.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BASELINE = ["--clip-model", "baseline", "--dino-model", "baseline", "--quiet"]
PIXELS = ["--clip-model", "pixels", "--dino-model", "pixels", "--quiet"]
#: generations per model, reference and prompt variant in the small demo (the full demo has 20)
SMALL_DEMO = 4


def model_args(tiny_models, mode: str = "crop") -> list[str]:
    """`iconicity score` options that load the tiny random models of the real architectures (``tiny_models``)."""
    return ["--clip-model", "ViT-S-32", "--clip-pretrained", str(tiny_models["clip"]),
            "--dino-model", str(tiny_models["dino"]), "--patch-mode", mode, "--device", "cpu", "--quiet"]


def invoke(*args, typed: str | None = None):
    """Run `iconicity ARGS` in-process (``typed``: what a person types); return click's Result (exit_code, output,
    stdout)."""
    from iconicity_core.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=typed)


def cli(*args, code: int = 0) -> str:
    """Run `iconicity ARGS` in-process; assert its exit code; return its stdout."""
    r = invoke(*args)
    assert r.exit_code == code, r.output + (str(r.exception) if r.exception else "")
    return r.stdout


def texture(seed: int, size: int = 128) -> Image.Image:
    """A smooth random colour texture (distinct per seed, structured enough for pHash)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
    noise = rng.integers(-20, 21, (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(im, int) + noise, 0, 255).astype(np.uint8))


def shuffle_tiles(im: Image.Image, rows: int = 4, cols: int = 4, seed: int = 0) -> Image.Image:
    """Permute the grid tiles of ``im`` (size divisible by the grid) with no tile left in place."""
    w, h = im.width // cols, im.height // rows
    tiles = [im.crop((c * w, r * h, (c + 1) * w, (r + 1) * h)) for r in range(rows) for c in range(cols)]
    n = len(tiles)
    perm = np.roll(np.arange(n), 1 + seed % (n - 1))          # a derangement
    out = Image.new(im.mode, im.size)
    for k, src in enumerate(perm):
        out.paste(tiles[src], ((k % cols) * w, (k // cols) * h))
    return out


def write_refs_csv(root: Path, rows: list[dict]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(root / "references.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def save(im: Image.Image, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kw)
    return path


def build_small_dataset(root: Path) -> Path:
    """A static reference (one image), a dynamic one (three images, one a near-duplicate), and two
    models' generations with known relations: exact copy, tile-shuffled copy, unrelated image."""
    root.mkdir(parents=True, exist_ok=True)
    write_refs_csv(root, [
        {"slug": "mona", "title": "Mona Lisa", "kind": "static", "sitelinks": "120", "inception": "1503"},
        {"slug": "film", "title": "Le Voyage dans la Lune", "kind": "dynamic", "sitelinks": "45", "inception": "1902"},
    ])
    mona = texture(1)
    save(mona, root / "references/mona/mona.png")
    f1, f2 = texture(2), texture(3)
    save(f1, root / "references/film/a.png")
    save(f2, root / "references/film/b.png")
    save(f1.resize((120, 120)).resize((128, 128)), root / "references/film/c_near_dup.png")
    for model, seed in (("model_a", 10), ("model_b", 20)):
        g = root / "generations" / model
        save(mona, g / "mona/copy.png")
        save(shuffle_tiles(mona), g / "mona/shuffled.png")
        save(texture(seed), g / "mona/other.png")
        save(f2, g / "film/copy_of_b.png")
        save(texture(seed + 1), g / "film/other.png")
    return root


# -- the dashboard's live controls under AppTest (it runs no JavaScript) --------------------------------------
def live_data(at, role: str) -> dict:
    """What Python sends the browser's live component of ``role`` (``controls``, ``overview``, ...)."""
    import json

    for e in at.get("bidi_component"):
        if e.proto.WhichOneof("data") == "json":
            data = json.loads(e.proto.json)
            if isinstance(data, dict) and data.get("role") == role:
                return data
    raise AssertionError(f"no live {role} on the page")


def release(at, **values):
    """What the browser does when a control is released: it sends the settings, which Python checks and keeps
    (``live.settings_from_browser``), then reruns."""
    from iconicity_core.dashboard.live import settings_from_browser

    choices = at.session_state["_ix_choices"] if "_ix_choices" in at.session_state else {}
    for k, v in settings_from_browser(values, choices).items():
        at.session_state[k] = v
    return at.run()


def reference_cra(at) -> float:
    """The mean CRA of the References page's table (Python-drawn, at the session's settings)."""
    at.switch_page("pages/references.py").run()
    table = next(d.value for d in at.dataframe if "cra" in d.value.columns)
    return float(table["cra"].mean())


def fresh_app(database, monkeypatch):
    """The dashboard on ``database`` as a first visitor meets it (no cached reads from another test), run once."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("ICONICITY_DB", str(database))
    return AppTest.from_file(APP, default_timeout=180).run()
