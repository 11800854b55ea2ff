"""Fixtures for the schema migrations: a second empty database and the last release's dumps."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.engine import Engine

from shared.db import make_engine
from tests.conftest import postgres_schema

RELEASE = "7278ce5"
DUMPS = Path(__file__).parent


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
    else:
        with postgres_schema() as url:
            yield url


def load_release_dump(url: str) -> None:
    """Fill the empty database at `url` with the tables and rows release 7278ce5 made."""
    if url.startswith("sqlite"):
        script = (DUMPS / f"release_{RELEASE}.sqlite.sql").read_text()
        conn = sqlite3.connect(make_url(url).database or "")
        conn.executescript(script)
        conn.close()
        return
    script = (DUMPS / f"release_{RELEASE}.postgresql.sql").read_text()
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        # No parameters: psycopg sends the whole script as one simple query.
        raw.cursor().execute(script)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


@pytest.fixture
def release_database(database_url: str) -> str:
    """A database made and filled by release 7278ce5 (no version table yet)."""
    load_release_dump(database_url)
    return database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`, disposed afterwards."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
