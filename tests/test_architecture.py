"""The layout is the architecture: layers import only downwards, SQL lives only in the storage layer,
and ARCHITECTURE.md names every package."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "iconicity_core"
ROOT = PKG.parent
#: lower never imports higher (modules at the package root: config is importable by all)
LAYERS = ["core", "io", "embedders", "db", "pipeline", "study", "demo", "analysis", "viz", "dashboard", "cli"]
SQL_CALLS = re.compile(r"(?<!pd)\.(execute|executemany|sql|read_parquet|read_csv)\(")


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG)
        yield p, rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """First-level subpackages of iconicity_core imported by a module (relative or absolute)."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PKG).parts) - 1
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level > depth:            # goes up to the package root
                    target = (node.module or "").split(".")[0]
                    names = [target] if target else [a.name for a in node.names]
                else:
                    continue                      # within the same layer
            elif (node.module or "").startswith("iconicity_core"):
                parts = node.module.split(".")
                names = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
            else:
                continue
            out |= set(names)
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("iconicity_core.")}
    return out


def test_layers_import_only_downwards():
    bad = []
    for path, layer in _modules():
        if layer not in LAYERS:
            continue
        for target in _imports(path):
            if target in LAYERS and LAYERS.index(target) > LAYERS.index(layer):
                bad.append(f"{path.relative_to(ROOT)} ({layer}) imports {target}")
    assert not bad, "\n".join(bad)


def test_sql_only_in_the_storage_layer():
    bad = [f"{p.relative_to(ROOT)}:{i}" for p in [*PKG.rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
           if "db" not in p.relative_to(ROOT).parts[:2]
           for i, line in enumerate(p.read_text().splitlines(), 1) if SQL_CALLS.search(line)]
    assert not bad, "SQL outside iconicity_core/db: " + ", ".join(bad)


def test_pages_only_arrange_widgets():
    for p in (ROOT / "pages").glob("*.py"):
        tree = ast.parse(p.read_text())
        funcs = [getattr(n, "name", "lambda") for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
        assert not funcs, f"{p.name} defines functions {funcs}: move the logic into iconicity_core"
        assert "polyfit" not in p.read_text() and "np." not in p.read_text(), p.name


def test_architecture_doc_names_every_package():
    doc = (ROOT / "ARCHITECTURE.md").read_text()
    for d in PKG.iterdir():
        if d.is_dir() and (d / "__init__.py").exists():
            assert f"{d.name}/" in doc, f"ARCHITECTURE.md does not mention {d.name}/"
    for name in ("config.py", "testing.py"):
        assert name in doc
