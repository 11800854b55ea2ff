"""Fixtures for the deployment tests: taskchat-db run as a command, rows compared table by table."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from shared.db import make_engine

TASKCHAT_DB = str(Path(sys.executable).with_name("taskchat-db"))


def taskchat_db(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `taskchat-db ARGS` on `database_url`, as an operator would."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [TASKCHAT_DB, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def every_row(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database, in a stable order."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {
                table: sorted(
                    (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{table}"'))),
                    key=repr,
                )
                for table in tables
            }
    finally:
        engine.dispose()
