"""Join the engine's ES modules (``web/js/``) into one script — no npm, no build step, at run time.

The modules keep to a small dialect so that joining them is exact: imports are single lines of the form
``import { a, b as c } from './x.js';``, exports are ``export function|const|let|class NAME`` or ``export default
function NAME``. Each module becomes a closure that returns its exports, so two modules may use the same
private names. ``iife`` runs the entry (the shared file); ``esm`` ends in ``export default`` (the dashboard's
Custom Component). Node imports the modules themselves in the tests, and runs the joined script too.

>>> js = bundle("share_page.js", "iife")
>>> js.startswith("(() => {") and not any(line.startswith(("import ", "export ")) for line in js.splitlines())
True
>>> "export default __ix_dashboard_host.default;" in bundle("dashboard_host.js", "esm")
True
"""
from __future__ import annotations

import functools
import posixpath
import re
from importlib import resources
from pathlib import PurePosixPath

IMPORT = re.compile(r"^import \{ ([\w\s,]+) \} from '(\.\.?/[\w./]+\.js)';$")
EXPORT = re.compile(r"^export (?:async )?(?:function\*? |const |let |class )(\w+)")
DEFAULT = re.compile(r"^export default function (\w+)")


class BundleError(ValueError):
    """A module steps outside the dialect the bundler joins exactly."""


def source(path: str) -> str:
    """The text of a module under ``web/js/`` (``views/plane.js``)."""
    return resources.files("iconicity_core.web").joinpath("js", *path.split("/")).read_text(encoding="utf-8")


def _name(path: str) -> str:
    return "__ix_" + re.sub(r"\W", "_", path.removesuffix(".js"))


def _module(path: str) -> tuple[str, list[str]]:
    """A module as a closure ``const __ix_x = (() => {...})();`` and the modules it imports."""
    deps, body, exports, default = [], [], [], None
    here = PurePosixPath(path).parent
    for n, line in enumerate(source(path).splitlines(), 1):
        if line.startswith("import"):
            m = IMPORT.match(line)
            if not m:
                raise BundleError(f"{path}:{n}: imports must be one line: import {{ a, b }} from './x.js';")
            dep = posixpath.normpath(posixpath.join(str(here), m.group(2)))
            deps.append(dep)
            names = [p.strip() for p in m.group(1).split(",") if p.strip()]
            pairs = [f"{a}: {b}" if b else a for a, _, b in (x.partition(" as ") for x in names)]
            body.append(f"const {{ {', '.join(pairs)} }} = {_name(dep)};")
            continue
        if line.startswith("export"):
            if m := DEFAULT.match(line):
                default = m.group(1)
                line = line.removeprefix("export default ")
            elif m := EXPORT.match(line):
                exports.append(m.group(1))
                line = line.removeprefix("export ")
            else:
                raise BundleError(f"{path}:{n}: export a declaration (export function|const|let|class NAME)")
        body.append(line)
    returned = exports + ([f"default: {default}"] if default else [])
    text = "\n".join([f"const {_name(path)} = (() => {{", *body, f"return {{ {', '.join(returned)} }};", "})();"])
    return text, deps


@functools.cache
def bundle(entry: str, fmt: str = "iife") -> str:
    """The modules ``entry`` needs, each once, dependencies first, as one script (``iife`` or ``esm``)."""
    if fmt not in ("iife", "esm"):
        raise ValueError("fmt must be iife or esm")
    order: list[str] = []
    texts: dict[str, str] = {}
    visiting: set[str] = set()

    def visit(path: str) -> None:
        if path in texts:
            return
        if path in visiting:
            raise BundleError(f"import cycle through {path}")
        visiting.add(path)
        text, deps = _module(path)
        for d in deps:
            visit(d)
        visiting.discard(path)
        texts[path] = text
        order.append(path)

    visit(entry)
    joined = "\n".join(texts[p] for p in order)
    if fmt == "esm":
        return joined + f"\nexport default {_name(entry)}.default;\n"
    return "(() => {\n'use strict';\n" + joined + "\n})();\n"


def modules() -> list[str]:
    """Every module of the engine (paths under ``web/js/``)."""
    root = resources.files("iconicity_core.web").joinpath("js")
    out = []
    for entry in root.iterdir():
        if entry.name.endswith(".js"):
            out.append(entry.name)
        elif entry.is_dir():
            out += [f"{entry.name}/{e.name}" for e in entry.iterdir() if e.name.endswith(".js")]
    return sorted(out)
