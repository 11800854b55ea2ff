"""Fixtures every test layer shares: databases (SQLite and the real PostgreSQL), Redis."""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from testbed.databases import POSTGRES_URL, postgres_problem
from testbed.databases import postgres_schema as testbed_schema

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _postgres_or_fail() -> None:
    """Skip locally when PostgreSQL is down, but fail loudly in CI."""
    if (problem := postgres_problem()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (in CI)")
        pytest.skip(problem)


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of its own, dropped afterwards."""
    _postgres_or_fail()
    with testbed_schema(prefix) as url:
        yield url


@pytest.fixture
def postgres_server_url() -> str:
    """The URL of the PostgreSQL server itself (skips, or fails in CI, when it is down)."""
    _postgres_or_fail()
    return POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of its own, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL to a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'taskchat.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(name)


def redis_or_fail() -> str:
    """The real Redis (TEST_REDIS_URL): skipped locally when it is down, a failure in CI."""
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
        if not answer.startswith((b"+PONG", b"-NOAUTH")):
            raise ConnectionError(f"unexpected answer to PING: {answer!r}")
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable in CI: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return REDIS_URL


@pytest.fixture
def redis_url() -> str:
    """The real Redis (TEST_REDIS_URL): skipped locally when it is down, a failure in CI.

    Tests keep apart by their fresh user ids, which every rate-limit key contains.
    """
    return redis_or_fail()
