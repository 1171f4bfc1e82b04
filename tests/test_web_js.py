"""The engine's JavaScript in the fast tier, without a browser: its unit tests under Node (``tests/js/``), every
module's syntax, and the joined scripts both hosts load."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from iconicity_core.web.bundle import BundleError, bundle, modules, source

NODE = shutil.which("node")
ROOT = Path(__file__).resolve().parents[1]
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get install nodejs)")


@needs_node
def test_node_unit_tests_pass():
    r = subprocess.run([NODE, "--test", str(ROOT / "tests" / "js")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout


@needs_node
def test_every_module_and_both_joined_scripts_parse(tmp_path):
    paths = [ROOT / "iconicity_core" / "web" / "js" / m for m in modules()]
    (tmp_path / "share.js").write_text(bundle("share_page.js", "iife"))
    (tmp_path / "host.mjs").write_text(bundle("dashboard_host.js", "esm"))
    for p in [*paths, tmp_path / "share.js", tmp_path / "host.mjs"]:
        r = subprocess.run([NODE, "--check", str(p)], capture_output=True, text=True)
        assert r.returncode == 0, (p.name, r.stderr)
    # the dashboard's module loads without a page (nothing touches the DOM until Streamlit mounts it)
    r = subprocess.run([NODE, "-e", f"import({str(tmp_path / 'host.mjs')!r}).then(m => console.log(typeof m.default))"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "function", r.stderr


def test_the_bundle_includes_each_module_once_dependencies_first():
    js = bundle("share_page.js", "iife")
    order = [line.split(" = ")[0].removeprefix("const ") for line in js.splitlines() if line.startswith("const __ix_")]
    assert len(order) == len(set(order))
    assert order.index("__ix_kernel") < order.index("__ix_stats") < order.index("__ix_api")
    assert order[-1] == "__ix_share_page"
    assert "__ix_dashboard_host" not in order


def test_the_bundle_refuses_what_it_cannot_join_exactly(monkeypatch):
    import iconicity_core.web.bundle as b

    for text, says in (("import { a,\n  b } from './x.js';", "one line"), ("export { a };", "export a declaration"),
                       ("import * as k from './kernel.js';", "one line")):
        monkeypatch.setattr(b, "source", lambda path, text=text: text)
        b.bundle.cache_clear()
        with pytest.raises(BundleError, match=says):
            b.bundle("entry.js")
    b.bundle.cache_clear()


def test_modules_keep_to_the_dom_free_kernel():
    """The kernel's modules never touch the page: they run in Node and in a worker alike."""
    for m in ("data.js", "kernel.js", "stats.js", "text.js", "api.js", "store.js", "hash.js"):
        code = "\n".join(line for line in source(m).splitlines()
                         if not line.lstrip().startswith(("/*", "*", "//")))      # the code, not its comments
        for word in ("document.", "window.", "requestAnimationFrame", "./views/"):
            assert word not in code, (m, word)
