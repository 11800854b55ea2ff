"""The page's scripts and styles, gzipped once, under a content-hashed URL.

`GET /assets/<version>/<path>` serves a file of `static/`, where `<version>` is a hash of
every file's content: a changed file changes the URL of them all, so browsers may keep each
one for a year without asking again (`immutable`). One version for the whole folder, not
one per file, because the ES modules import each other by relative path (`./client.js`):
they all resolve under the same versioned folder with no import rewritten.

`/static/<path>` keeps serving the same files unhashed (the sign-in page's stylesheet,
anything linked from outside the app page), revalidated on every use.

Styles are minified with rcssmin (comments and whitespace). The script bundle is minified
with tdewolff/minify, which parses the JavaScript (so template strings nested in others keep
their text, unlike rjsmin's: "960 open,180overdue") and renames local names: 319 KB as
written, 89 KB gzipped, become 171 KB and 55 KB. Each module's own file is served as
written: it is only the fallback when bundling fails, and a module's exported names must
stay as they are. If the minifier fails, the bundle is served as written.

The app page loads `main.js` and every module it imports as one script, `BUNDLE`
(chat_server/web/bundle.py); if a module cannot be bundled, it loads them one by one.
"""

import gzip
import hashlib
import logging
import mimetypes
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import rcssmin

from chat_server.web.bundle import BundleError, bundle, resolved

log = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
SUFFIXES = (".js", ".css", ".svg")
ENTRY, BUNDLE = "main.js", "bundle.js"
MINIFY_TIMEOUT_SECONDS = 60
_MINIFY = (
    "import sys, minify; "
    "sys.stdout.buffer.write(minify.string('application/javascript', "
    "sys.stdin.buffer.read().decode()).encode())"
)
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


def _minified_script(text: str) -> str:
    # In a child process: the minifier is a Go library, whose runtime would otherwise stay
    # in every server process (13 MB more resident, 5 more threads) for one call.
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MINIFY], input=text.encode(), capture_output=True,
            timeout=MINIFY_TIMEOUT_SECONDS, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", None) or b""
        log.warning("the page's script is served as written: %r %s", exc, stderr.decode()[-300:])
        return text
    return done.stdout.decode()


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
        body = _minified_script(text).encode()
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
