"""The page's ES modules as one script: one request instead of one per module.

On a slow link each module costs a round trip on one of the browser's six connections
(22 modules: four waves of 150-400 ms). Each module becomes a function run once, in
dependency order, whose exports are an object the modules that import it read:

    import { a, b as c } from "./x.js"   ->  const { a, b: c } = MODULES["x.js"];
    import D from "./y.js"               ->  const D = MODULES["y.js"].default;
    export function f() {}               ->  function f() {}   (and f in the exports)

Only the forms the page's modules (and their vendored libraries) use are understood; any
other `import`/`export` raises BundleError, and the page then loads the modules one by one.
Exports are read once, after the module ran, so a module must not reassign an exported
`let` later (none does; the check below refuses `export let`), and imports must not be
circular.
"""

import re
from collections.abc import Callable
from pathlib import Path

MODULES = "__taskchat_modules"
_NAME = r"[A-Za-z_$][\w$]*"
_FROM = r"""\s*from\s*["'](?P<spec>[^"']+)["']\s*;?"""
_IMPORT = re.compile(r"^[ \t]*import\s+(?P<what>[^\"';]+?)" + _FROM, re.MULTILINE)
_EXPORT_FROM = re.compile(r"^[ \t]*export\s*\{(?P<names>[^}]*)\}" + _FROM, re.MULTILINE)
# Also mid-line, as a minified library ends: `...;export{A as Hooks,w as Lexer}`.
_EXPORT_LIST = re.compile(r"(?:^|(?<=[;}]))[ \t]*export\s*\{(?P<names>[^}]*)\}\s*;?", re.MULTILINE)
_DECL = rf"(?:async\s+)?(?:function\*?|class|const)\s+(?P<name>{_NAME})"
_EXPORT_DECL = re.compile(rf"^(?P<indent>[ \t]*)export\s+(?P<decl>{_DECL})", re.MULTILINE)
# What is left after the rewrites that still reads as an import or export statement, or a
# dynamic import().
_LEFT = re.compile(
    r"(?:^|[;}])[ \t]*(?:import\b\s*[{\"'*\w(]|export\b)|\bimport\s*\(", re.MULTILINE
)


class BundleError(Exception):
    """A module uses a form of import or export the bundler does not understand."""


def _pairs(names: str) -> list[tuple[str, str]]:
    """'a, b as c' as [('a', 'a'), ('b', 'c')]: (name in the module, name outside)."""
    pairs = []
    for part in filter(None, (p.strip() for p in names.split(","))):
        inner, _, outer = part.partition(" as ")
        pairs.append((inner.strip(), (outer or inner).strip()))
    return pairs


def _transform(name: str, source: str, resolve: Callable[[str], str]) -> tuple[str, list[str], str]:
    """(body, dependencies, exports object) of one module."""
    deps: list[str] = []
    exports: list[str] = []

    def imported(match: re.Match[str]) -> str:
        spec = resolve(match["spec"])
        deps.append(spec)
        what = match["what"].strip()
        if what.startswith("{") and what.endswith("}"):
            fields = ", ".join(a if a == b else f"{a}: {b}" for a, b in _pairs(what[1:-1]))
            return f"const {{ {fields} }} = {MODULES}[{spec!r}];"
        if re.fullmatch(_NAME, what):
            return f"const {what} = {MODULES}[{spec!r}].default;"
        raise BundleError(f"{name}: import {what} is not understood")

    def reexported(match: re.Match[str]) -> str:
        spec = resolve(match["spec"])
        deps.append(spec)
        exports.extend(
            f"{outer}: {MODULES}[{spec!r}].{inner}" for inner, outer in _pairs(match["names"])
        )
        return ""

    def listed(match: re.Match[str]) -> str:
        exports.extend(f"{outer}: {inner}" for inner, outer in _pairs(match["names"]))
        return ""

    def declared(match: re.Match[str]) -> str:
        exports.append(match["name"])
        return match["indent"] + match["decl"]

    body = _IMPORT.sub(imported, source)
    body = _EXPORT_FROM.sub(reexported, body)
    body = _EXPORT_DECL.sub(declared, body)
    body = _EXPORT_LIST.sub(listed, body)
    if left := _LEFT.search(body):
        raise BundleError(f"{name}: {left.group(0).strip()!r} is not understood")
    return body, deps, "{ " + ", ".join(exports) + " }"


def bundle(sources: dict[str, str], entry: str, resolve: Callable[[str, str], str]) -> str:
    """`entry` and every module it imports as one script (run as a module)."""
    parts: list[str] = []
    done: set[str] = set()
    running: list[str] = []

    def add(name: str) -> None:
        if name in done:
            return
        if name in running:
            raise BundleError(f"circular import: {' -> '.join([*running, name])}")
        if name not in sources:
            raise BundleError(f"{running[-1] if running else '?'} imports {name}, not found")
        running.append(name)
        body, deps, exports = _transform(name, sources[name], lambda spec: resolve(name, spec))
        for dep in deps:
            add(dep)
        running.pop()
        done.add(name)
        parts.append(f"{MODULES}[{name!r}] = (() => {{\n{body}\nreturn {exports};\n}})();")

    add(entry)
    return f"const {MODULES} = {{}};\n" + "\n".join(parts) + "\n"


def resolved(importer: str, spec: str) -> str:
    """`spec` ('./x.js', '../y.js') resolved against the folder of `importer`."""
    parts: list[str] = []
    for part in (Path(importer).parent / spec).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
