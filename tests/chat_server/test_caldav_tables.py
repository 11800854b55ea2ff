"""App passwords and sync states on a database the chat migrations made."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from chat_server.caldav import tables
from shared.db import make_engine
from shared.migrate import CHAT, upgrade

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path}/chat.db")
    upgrade(engine, CHAT)
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def test_an_app_password_signs_in_only_its_owner_until_revoked(session: Session) -> None:
    first = tables.add_password(session, user_id="ann", password="p" * 32, now=NOW)
    tables.add_password(session, user_id="ann", password="q" * 32, now=NOW)

    assert tables.password_owner(session, user_id="ann", password="p" * 32)
    assert not tables.password_owner(session, user_id="bob", password="p" * 32)
    assert not tables.password_owner(session, user_id="ann", password="p" * 31)
    assert not tables.revoke_password(session, user_id="bob", password_id=first)
    assert tables.revoke_password(session, user_id="ann", password_id=first)
    assert not tables.password_owner(session, user_id="ann", password="p" * 32)
    assert tables.password_owner(session, user_id="ann", password="q" * 32)
    # Revoked ids are not handed out again.
    again = tables.add_password(session, user_id="ann", password="r" * 32, now=NOW)
    assert again > first + 1
    assert [entry["id"] for entry in tables.list_passwords(session, user_id="ann")] == [
        first + 1, again,
    ]  # fmt: skip


def test_a_sync_token_names_its_state_until_newer_states_push_it_out(session: Session) -> None:
    mine = {"user_id": "ann", "collection": "ann/1"}
    first = tables.keep_sync_state(session, **mine, state={"1.ics": '"a"'}, now=NOW)
    assert tables.keep_sync_state(session, **mine, state={"1.ics": '"a"'}, now=NOW) == first
    assert tables.sync_state(session, **mine, token=first) == {"1.ics": '"a"'}
    assert tables.sync_state(session, user_id="bob", collection="ann/1", token=first) is None

    for n in range(tables.KEPT_STATES):
        later = NOW + timedelta(minutes=n + 1)
        tables.keep_sync_state(session, **mine, state={f"{n}.ics": '"b"'}, now=later)
    assert tables.sync_state(session, **mine, token=first) is None
