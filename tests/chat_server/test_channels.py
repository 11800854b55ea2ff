"""/api/channels and /api/digest: the signed-in user's reminder channels and digest time."""

from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from chat_server.agent.offline import OfflineModel
from chat_server.app import create_app
from shared.channels import DIGEST_TABLE
from shared.db import make_engine
from shared.deployment_keys import b64url, unb64url
from shared.migrate import TASKS, upgrade
from shared.settings import Settings
from tests.chat_server.fakes import FakeTaskServer

JSON = {"Content-Type": "application/json"}


async def test_channels_are_added_listed_and_deleted_and_the_digest_keeps_the_users_zone(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    engine = make_engine(url)
    upgrade(engine, TASKS)  # the task server's migration makes the tables
    settings = Settings(_env_file=None, database_url=url, taskchat_timezone="UTC")
    app = create_app(settings, model=OfflineModel(timezone="UTC"), mcp_server=FakeTaskServer())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            refused = await client.post("/api/channels", headers=JSON,
                                        json={"type": "webhook", "url": "http://127.0.0.1/x"})
            made = await client.post("/api/channels", headers=JSON,
                                     json={"type": "email", "address": "ann@example.com"})
            listed = await client.get("/api/channels")
            no_digest = await client.get("/api/digest")
            digest = await client.put("/api/digest", json={"time": "07:30"},
                                      headers={**JSON, "X-Timezone": "Asia/Tokyo"})
            read_back = await client.get("/api/digest")
            no_default = await client.get("/api/reminders/default")
            default = await client.put("/api/reminders/default", headers=JSON,
                                       json={"reminders": [{"before": "pt30m"}]})  # fmt: skip
            bad_defaults = [await client.put("/api/reminders/default", headers=JSON, json=body)
                            for body in ({"reminders": [{"at": "2025-03-11T09:00:00Z"}]},
                                         {"reminders": [{"before": "soon"}]}, {})]  # fmt: skip
            default_read = await client.get("/api/reminders/default")
            gone = await client.delete(f"/api/channels/{made.json()['id']}", headers=JSON)
            again = await client.delete(f"/api/channels/{made.json()['id']}", headers=JSON)

    assert refused.status_code == 422
    assert "private" in refused.text
    assert made.status_code == 201
    assert made.json()["address"] == "ann@example.com"
    assert [channel["type"] for channel in listed.json()["channels"]] == ["email"]
    assert no_digest.json() == {"time": None, "timezone": None}
    assert no_default.json() == {"reminders": []}
    assert default.json() == default_read.json() == {"reminders": [{"before": "PT30M"}]}
    assert [answer.status_code for answer in bad_defaults] == [422, 422, 422]
    assert "ISO 8601 duration" in bad_defaults[1].json()["message"]
    assert digest.json() == read_back.json() == {"time": "07:30", "timezone": "Asia/Tokyo"}
    assert (gone.status_code, again.status_code) == (204, 404)
    with engine.connect() as conn:
        assert conn.execute(select(DIGEST_TABLE.c.timezone)).scalars().all() == ["Asia/Tokyo"]
    engine.dispose()


async def test_a_browser_subscribes_with_the_servers_push_key_and_bad_subscriptions_are_refused(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    engine = make_engine(url)
    upgrade(engine, TASKS)
    settings = Settings(_env_file=None, database_url=url, reminder_allow_private_urls=True)
    app = create_app(settings, model=OfflineModel(timezone="UTC"), mcp_server=FakeTaskServer())
    browser = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    subscription = {"endpoint": "http://127.0.0.1:9/push/1", "expirationTime": None,
                    "keys": {"p256dh": b64url(browser), "auth": b64url(b"a" * 16)}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            key = (await client.get("/api/push/key")).json()["key"]
            again = (await client.get("/api/push/key")).json()["key"]
            made = await client.post("/api/channels", headers=JSON,
                                     json={"type": "webpush", "subscription": subscription})
            renewed = await client.post("/api/channels", headers=JSON,
                                        json={"type": "webpush", "subscription": subscription})
            ntfy = await client.post("/api/channels", headers=JSON, json={
                "type": "ntfy", "url": "http://127.0.0.1:9/ann", "token": "tk_abc"})
            refused = [await client.post("/api/channels", headers=JSON, json=body) for body in (
                {"type": "webpush", "subscription": {**subscription, "keys": {
                    "p256dh": "AAAA", "auth": b64url(b"a" * 16)}}},
                {"type": "webpush", "url": "http://127.0.0.1:9/x"},
                {"type": "webpush", "subscription": {"endpoint": "http://127.0.0.1:9/x"}},
                {"type": "email", "address": "ann@example.com", "token": "tk"},
                {"type": "sms", "address": "+4912345"},
            )]
            listed = (await client.get("/api/channels")).json()["channels"]

    assert key == again and len(unb64url(key)) == 65  # an uncompressed P-256 point, kept
    assert made.status_code == renewed.status_code == 201
    assert "secret" not in made.json() and "secret" not in ntfy.json()
    assert [r.status_code for r in refused] == [422] * 5
    # The same browser subscribing again replaces its channel instead of adding one.
    assert [(c["type"], c["url"], c["status"]) for c in listed] == [
        ("webpush", "http://127.0.0.1:9/push/1", "ok"), ("ntfy", "http://127.0.0.1:9/ann", "ok")]
    engine.dispose()
