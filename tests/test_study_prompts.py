"""Prompt perturbations with NLTK's WordNet reader over Debian's wordnet-base."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iconicity_core.cli import app
from iconicity_core.study.prompts import WORDNET_DIR

pytestmark = pytest.mark.skipif(not (WORDNET_DIR / "index.noun").is_file(),
                                reason="Debian's wordnet-base is not installed (apt-get install wordnet-base)")
runner = CliRunner()


def _run(ds: Path, *extra: str) -> dict:
    r = runner.invoke(app, ["prompts", "perturb", str(ds), *extra])
    assert r.exit_code == 0, r.output
    with open(ds / "prompts.csv", encoding="utf-8") as f:
        return {(row["slug"], row["variant"]): row for row in csv.DictReader(f)}


def test_synonyms_are_deterministic_and_titles_without_synonyms_stay(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))            # the WordNet copy goes to a fresh cache
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "references.csv").write_text("slug,title,kind\nstarry,The Starry Night,static\n"
                                       "guernica,Guernica,static\namelie,Amélie,dynamic\n", encoding="utf-8")
    (tmp_path / "desc.csv").write_text("slug,visual\nstarry,a swirling blue night sky over a village\n")
    args = ["--variants", "title,synonym,description", "--descriptions", str(tmp_path / "desc.csv"),
            "--description-column", "visual"]
    first = _run(ds, *args)
    assert first[("starry", "title")]["prompt"] == "The Starry Night"
    assert first[("starry", "synonym")]["prompt"] == "The Starry nighttime"
    assert first[("starry", "synonym")]["detail"] == "Night->nighttime"
    assert first[("guernica", "synonym")]["prompt"] == "Guernica"
    assert first[("guernica", "synonym")]["detail"] == "no synonym: title kept"
    assert first[("starry", "description")]["prompt"].startswith("a swirling")
    assert ("guernica", "description") not in first
    assert _run(ds, *args) == first


def test_description_variant_needs_a_csv(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "references.csv").write_text("slug,title,kind\nx,X,static\n")
    r = runner.invoke(app, ["prompts", "perturb", str(ds), "--variants", "description"])
    assert r.exit_code == 2
    assert "--descriptions" in r.output
