"""Write the schema-and-data dumps of the last release before migrations (tests/migrations/).

Run it with that release's code, not this checkout's:

    git archive 7278ce5 | tar -x -C /tmp/release-7278ce5
    .venv/bin/python tests/migrations/make_release_dumps.py /tmp/release-7278ce5

It builds each database the way that release did (create_all at start-up), fills it through
that release's own task functions and ChatKit store, and dumps it as SQL (pg_dump for
PostgreSQL, so it needs the client tools and the server in TEST_POSTGRES_URL).
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

RELEASE = "7278ce5"
HERE = Path(__file__).parent
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2025, 3, 10, 9, 0, 0, tzinfo=UTC)
HEADER = (
    f"-- The schema and rows of a {{dialect}} database made by taskchat at commit {RELEASE}\n"
    "-- (the last release before migrations: tables from create_all, no version table).\n"
    "-- Written by tests/migrations/make_release_dumps.py; do not edit by hand.\n"
)


def fill(url: str) -> None:
    """Create the release's tables in `url` and add tasks, threads, items and an attachment."""
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        FileAttachment,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
    )
    from sqlmodel import Session

    import chat_server.conversation.store_tables  # noqa: F401  (registers the chat tables)
    from chat_server.conversation.store import SQLStore
    from shared import tasks
    from shared.auth import Principal
    from shared.db import create_tables, make_engine

    engine = make_engine(url)
    create_tables(engine)
    with Session(engine) as session:

        def add(user_id: str, minutes: int, **fields: Any) -> int:
            data = tasks.NewTask(**fields)
            now = NOW + timedelta(minutes=minutes)
            return tasks.add_task(session, user_id=user_id, data=data, now=now)["task"]["id"]

        add("ann", 0, title="Buy milk", priority="high", tags=["errands"], due="2025-03-11")
        call = add("ann", 1, title="Call mom", description="About Sunday lunch")
        add("ann", 2, title="Pay rent", due="2025-04-01T09:00:00Z", recurrence="monthly")
        add("bob", 3, title="Bob's task")
        add("ann", 4, title="Water plants", priority="low")
        tasks.set_completed(session, user_id="ann", task_id=call, now=NOW + timedelta(hours=1))
        # The newest task is deleted: SQLite without AUTOINCREMENT gives its id out again.
        newest = add("ann", 5, title="Deleted newest task")
        tasks.delete_task(session, user_id="ann", task_id=newest)

    async def chat() -> None:
        store = SQLStore(engine)
        for user, thread_id, title in (("ann", "thr_ann", "Groceries"), ("bob", "thr_bob", None)):
            principal = Principal(user)
            created = datetime(2025, 3, 10, 9, 30)
            thread = ThreadMetadata(id=thread_id, created_at=created, title=title)
            await store.save_thread(thread, principal)
            user_item = UserMessageItem(
                id=f"msg_{user}_1",
                thread_id=thread_id,
                created_at=created,
                content=[UserMessageTextContent(text="add buy milk")],
                inference_options=InferenceOptions(),
            )
            answer = AssistantMessageItem(
                id=f"msg_{user}_2",
                thread_id=thread_id,
                created_at=created + timedelta(seconds=2),
                content=[AssistantMessageContent(text="Added task 1: Buy milk.")],
            )
            await store.add_thread_item(thread_id, user_item, principal)
            await store.add_thread_item(thread_id, answer, principal)
        note = FileAttachment(
            id="atc_ann", name="list.txt", mime_type="text/plain", thread_id="thr_ann"
        )
        await store.save_attachment(note, Principal("ann"))

    asyncio.run(chat())
    engine.dispose()


def dump_sqlite() -> str:
    """The SQLite dump, as sqlite3's iterdump writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "release.db"
        fill(f"sqlite:///{path}")
        conn = sqlite3.connect(path)
        lines = list(conn.iterdump())
        conn.close()
    return HEADER.format(dialect="SQLite") + "\n".join(lines) + "\n"


def dump_postgres() -> str:
    """The PostgreSQL dump of one schema, with the schema name taken out so it loads anywhere."""
    schema = f"release_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        fill(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
        url = make_url(POSTGRES_URL)
        dumped = subprocess.run(
            [
                "pg_dump",
                "--schema",
                schema,
                "--inserts",
                "--no-owner",
                "--no-privileges",
                "--no-comments",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                url.database or "test",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    skipped = ("--", "\\", "SET ", "SELECT pg_catalog.set_config", "CREATE SCHEMA")
    kept = [
        line.replace(f"{schema}.", "")
        for line in dumped.splitlines()
        if line.strip() and not line.startswith(skipped)
    ]
    return HEADER.format(dialect="PostgreSQL") + "\n".join(kept) + "\n"


def main() -> None:
    """Dump both databases made by the release at sys.argv[1]."""
    release = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(release))
    import shared

    if not Path(shared.__file__).resolve().is_relative_to(release):
        sys.exit(f"shared was imported from {shared.__file__}, not from {release}")
    # chatkit's naive local timestamps are stored as UTC: pin the zone so dumps are stable.
    os.environ["TZ"] = "UTC"
    time.tzset()
    (HERE / f"release_{RELEASE}.sqlite.sql").write_text(dump_sqlite())
    (HERE / f"release_{RELEASE}.postgresql.sql").write_text(dump_postgres())


if __name__ == "__main__":
    main()
