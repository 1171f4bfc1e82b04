"""Doctests of the library run against a small demo database, built once per test session on first use
(``demo()`` in a doctest returns its path)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # nothing may be downloaded in tests
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def _doctest_demo(tmp_path_factory):
    built: list = []

    def demo() -> str:
        if not built:
            from iconicity_core.demo.build import build_demo

            path = tmp_path_factory.mktemp("doctest_demo") / "demo.duckdb"
            build_demo(path, embedders="baseline", per_cell=2, quiet=True)
            built.append(str(path))
        return built[0]
    return demo


@pytest.fixture(autouse=True)
def _doctest_names(request, doctest_namespace, _doctest_demo):
    doctest_namespace["demo"] = _doctest_demo
