"""The page's modules bundled into one script: each import and export form the page uses,
refusals of the rest, and the real static folder bundling in full."""

import re

import pytest

from chat_server.web.bundle import MODULES, BundleError, bundle, resolved
from chat_server.web.page import assets


def test_imports_and_exports_become_reads_and_returns_in_dependency_order() -> None:
    sources = {
        "main.js": 'import { el, b as c } from "./lib/dom.js";\nimport D from "./vendor/d.js";\n'
                   "el(c, D);\n",
        "lib/dom.js": 'import { helper } from "../vendor/index.js";\n'
                      "export function el() {}\nexport const b = 2;\n",
        "vendor/index.js": "export { helper } from './impl.js';\n",
        "vendor/impl.js": "function h(){}\nexport class Helper {}\n;export{h as helper}",
        "vendor/d.js": "const d = 1;\nexport { d as default };\n",
    }

    script = bundle(sources, "main.js", resolved)

    order = [line.split("'")[1] for line in script.splitlines() if line.endswith("= (() => {")]
    assert order == ["vendor/impl.js", "vendor/index.js", "lib/dom.js", "vendor/d.js", "main.js"]
    assert f"const {{ el, b: c }} = {MODULES}['lib/dom.js'];" in script
    assert f"const D = {MODULES}['vendor/d.js'].default;" in script
    assert f"return {{ helper: {MODULES}['vendor/impl.js'].helper }};" in script
    assert "return { Helper, helper: h };" in script
    assert "return { el, b };" in script
    assert "export" not in script.replace("exports", "")


@pytest.mark.parametrize(("source", "why"), [
    ('import * as all from "./b.js";', r"import \* as all is not understood"),
    ('import "./b.js";', "import"),
    ("export let counter = 0;", "export"),
    ("export default 3;", "export"),
    ('const lazy = () => import("./b.js");', "import"),
])
def test_forms_it_does_not_understand_are_refused(source: str, why: str) -> None:
    with pytest.raises(BundleError, match=why):
        bundle({"a.js": source, "b.js": ""}, "a.js", resolved)


def test_circular_and_missing_imports_are_refused() -> None:
    loop = {"a.js": 'import { b } from "./b.js";', "b.js": 'import { a } from "./a.js";'}
    with pytest.raises(BundleError, match="circular import: a.js -> b.js -> a.js"):
        bundle(loop, "a.js", resolved)
    with pytest.raises(BundleError, match="a.js imports c.js, not found"):
        bundle({"a.js": 'import { c } from "./c.js";'}, "a.js", resolved)


def test_the_page_s_modules_bundle_whole() -> None:
    files = assets()
    assert files.bundled
    script = files.files["bundle.js"].body.decode()
    for name in files.module_graph("main.js"):
        # The bundle is served minified: the minifier may pick either quote.
        assert re.search(rf"""{MODULES}\[(['"]){re.escape(name)}\1\]""", script), name
