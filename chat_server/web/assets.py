"""The page's scripts and styles, gzipped once, under a content-hashed URL.

`GET /assets/<version>/<path>` serves a file of `static/`, where `<version>` is a hash of
every file's content: a changed file changes the URL of them all, so browsers may keep each
one for a year without asking again (`immutable`). One version for the whole folder, not
one per file, because the ES modules import each other by relative path (`./client.js`):
they all resolve under the same versioned folder with no import rewritten.

`/static/<path>` keeps serving the same files unhashed (the sign-in page's stylesheet,
anything linked from outside the app page), revalidated on every use.

Styles are minified with rcssmin (comments and whitespace). Scripts are served as written:
rjsmin, the usual Python minifier, squeezes the spaces out of a template string nested in
another (`${n} open, ${m} overdue` became "960 open,180overdue" on the page), and gzip
already takes the bundle from 313 KB to 88 KB (62 KB minified: not worth wrong text).

The app page loads `main.js` and every module it imports as one script, `BUNDLE`
(chat_server/web/bundle.py); if a module cannot be bundled, it loads them one by one.
"""

import gzip
import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

import rcssmin

from chat_server.web.bundle import BundleError, bundle, resolved

log = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
SUFFIXES = (".js", ".css", ".svg")
ENTRY, BUNDLE = "main.js", "bundle.js"
# `import ... from "./x.js"` and `import "./x.js"`: a module's static imports, for preloading.
_IMPORT = re.compile(r"""(?m)^\s*(?:import|export)\b[^"';]*?["'](\.{1,2}/[^"']+)["']""")


@dataclass(frozen=True)
class Asset:
    """One file as served: its bytes, gzipped bytes and media type."""

    body: bytes
    gzipped: bytes
    media_type: str


def _minified(path: Path, text: str) -> str:
    if path.suffix == ".css":
        return str(rcssmin.cssmin(text))
    return text


def _media_type(path: Path) -> str:
    guessed = "text/javascript" if path.suffix == ".js" else mimetypes.guess_type(path.name)[0]
    return f"{guessed or 'application/octet-stream'}; charset=utf-8"


class Assets:
    """Every script, style and icon of a folder, read once at start-up."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, Asset] = {}
        self.sources: dict[str, str] = {}
        digest = hashlib.sha256()
        for path in sorted(directory.rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            name = path.relative_to(directory).as_posix()
            text = path.read_text(encoding="utf-8")
            body = _minified(path, text).encode()
            self.sources[name] = text
            # mtime=0: the same bytes (and so the same ETag-free answer) in every process.
            self.files[name] = Asset(body, gzip.compress(body, 9, mtime=0), _media_type(path))
            digest.update(name.encode() + b"\0" + body + b"\0")
        self.version = digest.hexdigest()[:16]
        self.prefix = f"/assets/{self.version}/"
        self.bundled = self._bundle()

    def _bundle(self) -> bool:
        """Add BUNDLE (ENTRY and its imports as one script); False if it cannot be made."""
        graph = self.module_graph(ENTRY)
        if not graph:
            return False
        try:
            text = bundle({name: self.sources[name] for name in graph}, ENTRY, resolved)
        except BundleError as exc:
            log.warning("the page's modules load one by one: %s", exc)
            return False
        body = text.encode()
        self.files[BUNDLE] = Asset(body, gzip.compress(body, 9, mtime=0), _media_type(Path(BUNDLE)))
        return True

    def url(self, name: str) -> str:
        """The long-lived URL of `name` (a path under the folder)."""
        return self.prefix + name

    def get(self, version: str, name: str) -> Asset | None:
        """The file at `name` of this version, or None (another version, or no such file)."""
        return self.files.get(name) if version == self.version else None

    def module_graph(self, entry: str) -> list[str]:
        """`entry` and every module it imports, directly or not, in the order first reached."""
        seen: list[str] = []
        todo = [entry]
        while todo:
            name = todo.pop(0)
            if name in seen or name not in self.sources:
                continue
            seen.append(name)
            todo.extend(resolved(name, spec) for spec in _IMPORT.findall(self.sources[name]))
        return seen
