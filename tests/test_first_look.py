"""What a newcomer sees first: words instead of raw names, the embedder a score came from, one colour per
model, shareable URLs, the demo's story, and the CLI working without --db in a checkout."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

import iconicity_core
from iconicity_core.core.display import column_label

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ["pages/overview.py", "pages/references.py", "pages/patches.py", "pages/thresholds.py",
         "pages/correlations.py", "pages/variants.py", "pages/export.py"]


def _figures(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _texts(at) -> list[str]:
    """Every text a reader sees: headings, prose, captions, metric labels, table headers, chart titles,
    axis titles, legends and trace names."""
    out = [e.value for kind in ("title", "header", "subheader", "markdown", "caption") for e in getattr(at, kind)]
    out += [m.label for m in at.metric]
    out += [str(c) for d in at.dataframe for c in d.value.columns]
    for fig in _figures(at):
        lay = fig.get("layout", {})
        out += [json.dumps(lay.get("title", "")), *(json.dumps(v.get("title", "")) for k, v in lay.items()
                                                     if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict))]
        out += [str(t.get("name", "")) for t in fig.get("data", [])]
    return out


def test_a_baseline_run_never_calls_its_scores_clip(app_db):
    at = AppTest.from_file(APP, default_timeout=180).run()
    for path in PAGES:
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        said = [t for t in _texts(at) if ("CLIP" in t or "DINO" in t) and "score with CLIP + DINOv3" not in t]
        assert not said, (path, said)
    assert any("appearance baseline" in c.value for c in at.main.caption)   # it says what the scores are


def test_every_table_header_is_in_words():
    for raw, words in (("cra", "CRA"), ("clip_sim", "recognition similarity"), ("n_refs", "references")):
        assert column_label(raw) == words
    assert column_label("some_new_column") == "some new column"                 # nothing shows as snake_case


def test_one_model_keeps_one_colour_across_charts(app_db):
    at = AppTest.from_file(APP, default_timeout=180).run()
    seen: dict[str, set] = {}
    for path in ("pages/overview.py", "pages/thresholds.py", "pages/variants.py"):
        at.switch_page(path).run()
        for fig in _figures(at):
            for trace in fig.get("data", []):
                name, colour = trace.get("name"), (trace.get("marker") or trace.get("line") or {}).get("color")
                if name in {"replicator-xl", "painter-2", "balanced-1.5", "noisy-mini"} and isinstance(colour, str):
                    seen.setdefault(name, set()).add((path, colour))
    assert len(seen) == 4
    for name, uses in seen.items():
        assert len({c for _, c in uses}) == 1, (name, uses)                     # the same colour everywhere
        assert len({p for p, _ in uses}) >= 2, (name, uses)                     # ... in more than one chart
    assert len({next(iter(u))[1] for u in seen.values()}) == 4                  # and four different ones


def test_a_copied_patch_matches_url_opens_the_same_image(app_db):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/patches.py").run()
    first = at.selectbox(key="pm_image").value
    other = iconicity_core.open(app_db).images(slugs="coffee").sort_values("file_id")["file_id"].iloc[2]
    at.session_state["image"] = other                 # as a click on another page does (AppTest cannot pick
    at.run()                                          # from a selectbox with a format_func)
    chosen, shown = at.selectbox(key="pm_image").value, [m.value for m in at.metric]
    assert chosen == other != first and not at.exception
    url = dict(at.query_params)                        # what the browser's address bar holds
    assert url["image"] in (chosen, [chosen]) and url["ref"] in ("coffee", ["coffee"])
    again = AppTest.from_file(APP, default_timeout=180)
    again.query_params.update(url)
    again.run()
    again.switch_page("pages/patches.py").run()
    assert not again.exception
    assert again.selectbox(key="pm_image").value == chosen
    assert [m.value for m in again.metric] == shown                    # the same scores, not just the same id


def test_the_demo_tells_the_papers_story(demo_db):
    """Reinterpretations are recognised but not copied; misses are not recognised."""
    res = iconicity_core.open(demo_db)
    images = res.images()                                    # the demo's ground truth comes with it
    by = images.groupby("label")[["clip_sim", "vr"]].mean()
    assert by.loc["reinterpretation", "vr"] < by.loc["replica", "vr"] - 0.2
    assert by.loc["reinterpretation", "clip_sim"] > by.loc["miss", "clip_sim"] + 0.2
    models = res.metrics("model", pooling="all", variants="title")
    models = models[models["kind"] == "all"].set_index("model")
    assert models["crt"].idxmax() == "painter-2" and models["vr"].idxmax() == "replicator-xl"


def test_the_cli_uses_the_demo_without_db(small_demo_db, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "demo.duckdb")
    env = {"ICONICITY_DATA": str(data), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics", "--format", "csv"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "no --db given: using the demo database" in out.stderr
    assert out.stdout.splitlines()[0].startswith("model,") and "painter-2" in out.stdout   # stdout stays clean
    missing = subprocess.run([sys.executable, "-m", "iconicity_core.cli", "metrics"], capture_output=True, text=True,
                             env={**env, "ICONICITY_DATA": str(tmp_path / "none")}, timeout=300)
    assert missing.returncode != 0 and "run `iconicity demo`, or give --db FILE" in missing.stderr
