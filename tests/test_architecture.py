"""The layout is the architecture: layers import only downwards, SQL lives only in the storage layer,
and docs/architecture.md names every package."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "iconicity_core"
ROOT = PKG.parent
#: lower never imports higher (modules at the package root: config is importable by all)
LAYERS = ["core", "io", "embedders", "db", "pipeline", "study", "analysis", "demo", "viz", "api", "web", "share", "dashboard", "cli"]
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
        assert "polyfit" not in p.read_text(), p.name
        assert "np." not in p.read_text(), p.name


def test_architecture_doc_names_every_package():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for d in PKG.iterdir():
        if d.is_dir() and (d / "__init__.py").exists():
            assert f"{d.name}/" in doc, f"docs/architecture.md does not mention {d.name}/"
    for name in ("config.py", "testing.py"):
        assert name in doc


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Every module of the package -> the package modules it imports anywhere (function-level imports too),
    relative imports resolved; ``from pkg import name`` points at ``pkg.name`` when that is a module."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        base = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base[: len(base) - (node.level - 1)]
                    target = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("iconicity_core"):
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    targets.append(sub if sub in modules else target)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("iconicity_core")]
            for t in targets:
                while t not in modules and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t in modules and t != mod:
                    graph[mod].add(t)
    return graph


def test_no_import_cycles_not_even_inside_a_layer():
    """A cycle hidden by a function-level import is still a cycle: modules form a DAG. (A package's
    ``__init__`` re-exporting its own modules is not a cycle of two modules that need each other, so edges
    from a module to its own package's ``__init__`` are ignored.)"""
    graph = _import_graph()
    for mod, deps in graph.items():
        deps.discard(mod.rsplit(".", 1)[0])          # `from . import x` inside a package reaches its __init__
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]   # the detector works
    assert graph["iconicity_core.analysis.calibration"] >= {"iconicity_core.analysis.roc"}      # and sees imports
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d):], d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def test_each_constant_is_defined_once():
    """The threshold grid, the robustness grid, the palette and quadrant colours and the default resamples have one
    definition each (config.py or the kernel); everything else refers to it (the JavaScript gets them with the
    data)."""
    import re

    literals = {
        "the threshold grid": re.compile(r"linspace\(0(\.0)?, 1(\.0)?, 101\)"),
        "the sensitivity grid": re.compile(r"linspace\(0\.3, 0\.9, 7\)"),
        "the robustness grid's recognition τ": re.compile(r"\(0\.6, 0\.7, 0\.8\)|\"0\.6,0\.7,0\.8\""),
        "the robustness grid's patch τ": re.compile(r"\(0\.5, 0\.6, 0\.7\)|\"0\.5,0\.6,0\.7\""),
        "the default resamples": re.compile(r"\b999\b"),
        "the palette": re.compile(r'"#0072B2", "#E69F00"', re.I),
        "the quadrant colours": re.compile(r'"#D55E00", "#009E73", "#CC79A7"', re.I),
    }
    sources = [*PKG.rglob("*.py"), *PKG.rglob("*.js"), *(ROOT / "pages").glob("*.py")]
    for what, pattern in literals.items():
        where = [f"{p.relative_to(ROOT)}:{i}" for p in sources for i, line in enumerate(p.read_text().splitlines(), 1)
                 if pattern.search(line) and not line.lstrip().startswith(("#", "*", "//", ">>>"))]
        assert len(where) == 1, f"{what} is defined at {where}"
