"""Each request's X-Timezone decides what "today" means: two users in far-apart zones
talk to one in-process app at the same (fixed) instant."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from chat_server.agent.agent import build_agent, instructions_for
from chat_server.agent.offline import OfflineModel
from chat_server.agent.zones import REQUEST_ZONE, zone_from_header
from chat_server.app import create_app
from shared.settings import Settings
from tests.chat_server.app_client import create_thread
from tests.chat_server.fakes import FakeTaskServer

# Thursday 23:30 in UTC: already Friday 08:30 in Tokyo, still Thursday 15:30 in Los Angeles.
INSTANT = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)


async def _added(tmp_path: Path, said: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Each (text, X-Timezone) sent as a new thread; the add_task arguments, in order."""
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'chat.db'}", taskchat_timezone="UTC"
    )
    mcp = FakeTaskServer()
    model = OfflineModel(clock=lambda: INSTANT, timezone="UTC")
    app = create_app(settings, model=model, mcp_server=mcp)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for text, zone in said:
                headers = {"X-Timezone": zone} if zone is not None else {}
                await create_thread(client, text, headers=headers)
    return [args for name, args, _ in mcp.calls if name == "add_task"]


async def test_tomorrow_and_tonight_are_each_users_own_at_the_same_instant(tmp_path: Path) -> None:
    added = await _added(
        tmp_path,
        [
            ("add pay rent tomorrow", "Asia/Tokyo"),
            ("add pay rent tomorrow", "America/Los_Angeles"),
            ("add call mom tonight", "Asia/Tokyo"),
            ("add call mom tonight", "America/Los_Angeles"),
        ],
    )
    assert [a["due"] for a in added] == [
        "2026-11-28",  # Tokyo's tomorrow is Saturday
        "2026-11-27",  # Los Angeles' tomorrow is Friday
        "2026-11-27T11:00:00Z",  # 20:00 in Tokyo on Friday
        "2026-11-27T04:00:00Z",  # 20:00 in Los Angeles on Thursday
    ]


async def test_a_missing_or_invalid_zone_falls_back_to_taskchat_timezone_never_a_500(
    tmp_path: Path,
) -> None:
    bad = [None, "Mars/Base", "../../etc/passwd", "", "x" * 500, "Europe"]
    added = await _added(
        tmp_path,
        [("add pay rent tomorrow", "Asia/Tokyo")] + [("add pay rent tomorrow", z) for z in bad],
    )
    # Tokyo's tomorrow first (so the header is read at all), then UTC's for every bad one.
    assert [a["due"] for a in added] == ["2026-11-28"] + ["2026-11-27"] * len(bad)


def test_zone_names_are_checked_before_use() -> None:
    assert zone_from_header(" Asia/Tokyo ") == ZoneInfo("Asia/Tokyo")
    for bad in (None, "", "Mars/Base", "/etc/passwd", "Europe", "a" * 100):
        assert zone_from_header(bad) is None


def test_the_real_models_instructions_name_the_users_date_time_and_zone() -> None:
    text = instructions_for(INSTANT.astimezone(ZoneInfo("Asia/Tokyo")))
    assert "it is now 08:30 in the user's time zone, Asia/Tokyo; today is Friday 2026-11-27" in text
    assert "2025-03-10T17:00:00+09:00" in text
    assert 'description "", due "", tags [], repeat "" (stops a task repeating)' in text


async def test_the_agents_instructions_follow_the_requests_zone() -> None:
    agent = build_agent("gpt-test", FakeTaskServer(), ZoneInfo("UTC"))
    token = REQUEST_ZONE.set(ZoneInfo("America/Los_Angeles"))
    try:
        text = await agent.get_system_prompt(None)  # type: ignore[arg-type]
    finally:
        REQUEST_ZONE.reset(token)
    assert text is not None and "America/Los_Angeles" in text
    assert "UTC" in (await agent.get_system_prompt(None) or "")  # type: ignore[arg-type]
