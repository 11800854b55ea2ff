"""Empty databases of their own: a PostgreSQL schema per user of it, dropped afterwards."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_problem() -> str | None:
    """Why the PostgreSQL server at POSTGRES_URL cannot be used, or None when it answers."""
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}"
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of its own, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
