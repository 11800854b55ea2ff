"""A real OpenID Connect provider process for the sign-in tests: testbed/oidc/provider.mjs.

It is panva's `oidc-provider` (npm), installed once from testbed/oidc/package-lock.json into
a cache folder named after the lock file's hash, and run with Node on 127.0.0.1.
"""

import hashlib
import os
import shutil
import subprocess
import time
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest

from testbed.servers import ROOT, Server

SOURCE = Path(ROOT) / "testbed" / "oidc"
FILES = ("package.json", "package-lock.json", "provider.mjs")


def _missing(message: str) -> None:
    """Node or the package cannot be had: skip on a developer's machine, fail in CI."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def installed_provider() -> Path:
    """A folder holding provider.mjs beside its node_modules, installed with `npm ci` once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("Node.js and npm are needed for the sign-in tests: apt-get install -y nodejs npm")
    lock = (SOURCE / "package-lock.json").read_bytes() + (SOURCE / "provider.mjs").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "taskchat" / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / "oidc-provider").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copy(SOURCE / name, folder / name)
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder, capture_output=True, text=True, timeout=300, check=False,
        )
        if result.returncode != 0:
            _missing(f"npm ci of oidc-provider failed: {result.stderr.strip()[-500:]}")
    return folder


def start_oidc_provider(
    port: int, *, client_id: str, client_secret: str, redirect_uri: str, timeout: float = 30
) -> Server:
    """Run the provider at http://127.0.0.1:`port` and wait until it serves its discovery."""
    folder = installed_provider()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URI": redirect_uri,
    }
    process = subprocess.Popen(["node", "provider.mjs"], cwd=folder, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", port)
    discovery = f"{server.base_url}/.well-known/openid-configuration"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with {process.returncode}")
        try:
            if httpx.get(discovery, timeout=1).status_code == HTTPStatus.OK:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"the OIDC provider did not answer on {server.base_url} in {timeout} s")
