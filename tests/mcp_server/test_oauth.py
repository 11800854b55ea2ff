"""OAuth resource server mode end to end: a real authorization server, `python -m mcp_server`
with OAUTH_ISSUER and MCP_RESOURCE_URL, and the official client's OAuth support."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from mcp_server.oauth import IssuerKeys
from shared.auth import AuthError
from testbed.servers import Server, free_port, running
from tests.mcp_server.oauth_issuer import KEY_ID, TEST_USER

pytestmark = pytest.mark.e2e

SERVICE_TOKEN = "oauth-e2e-service-token-of-32-chars-or-more"
ACCEPT = {"Accept": "application/json, text/event-stream"}
LIST_CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
             "params": {"name": "list_tasks", "arguments": {}}}  # fmt: skip


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The issuer's RSA key (in a file it reads), and an EC key it also publishes."""
    folder = tmp_path_factory.mktemp("oauth")
    rsa_pem = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    (folder / "issuer.pem").write_bytes(rsa_pem)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    public = jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    (folder / "extra.json").write_text(json.dumps([{**public, "kid": "ec-1", "alg": "ES256"}]))
    return {"rsa": rsa_pem, "ec": pem(ec_key), "file": folder / "issuer.pem",
            "extra": folder / "extra.json"}  # fmt: skip


@pytest.fixture(scope="module")
def issuer(keys: dict[str, Any]) -> Iterator[Server]:
    """The authorization server, on 127.0.0.1."""
    port = free_port()
    env = {"PORT": str(port), "ISSUER_KEY_FILE": str(keys["file"]),
           "ISSUER_EXTRA_JWKS": str(keys["extra"])}  # fmt: skip
    with running("tests.mcp_server.oauth_issuer", env, port) as server:
        yield server


@pytest.fixture(scope="module")
def server(issuer: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The task server in OAuth mode (no JWT_SECRET), with the chat backend's service token."""
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('oauth-db') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "JWT_SECRET": "",
        "OAUTH_ISSUER": issuer.base_url,
        "MCP_RESOURCE_URL": f"http://127.0.0.1:{port}/mcp",
        "MCP_SERVICE_TOKEN": SERVICE_TOKEN,
    }
    with running("mcp_server", env, port) as server:
        yield server


def mint(keys: dict[str, Any], issuer: Server, server: Server, **claims: Any) -> str:
    """An access token as the issuer would sign it, with `claims` changed."""
    key, kid = claims.pop("key", keys["rsa"]), claims.pop("kid", KEY_ID)
    algorithm = claims.pop("alg", "RS256")
    now = int(time.time())
    body = {"iss": issuer.base_url, "aud": f"{server.base_url}/mcp", "sub": "bob",
            "scope": "tasks:read tasks:write", "iat": now, "exp": now + 600, **claims}  # fmt: skip
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm,
                      headers={"kid": kid})  # fmt: skip


async def post(server: Server, token: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {**ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    async with httpx.AsyncClient() as http:
        return await http.post(f"{server.base_url}/mcp", json=body, headers=headers)


class MemoryStorage:
    """Where the client keeps its registration and tokens, for one test."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def test_the_official_client_discovers_registers_authorizes_and_calls_tools(
    server: Server,
):
    redirected: dict[str, str] = {}

    async def follow_redirect(authorization_url: str) -> None:
        # The "browser": the issuer approves the test user at once and redirects back.
        async with httpx.AsyncClient() as http:
            response = await http.get(authorization_url)
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        redirected.update({name: values[0] for name, values in query.items()})

    async def callback() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=redirected["code"], state=redirected.get("state"))

    storage = MemoryStorage()
    oauth = OAuthClientProvider(
        server_url=f"{server.base_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="taskchat test",
            redirect_uris=["http://127.0.0.1:9/callback"],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=follow_redirect,
        callback_handler=callback,
    )
    async with create_mcp_http_client(auth=oauth) as http:
        transport = streamable_http_client(f"{server.base_url}/mcp", http_client=http)
        async with Client(transport) as client:  # type: ignore[arg-type]
            added = await client.call_tool("add_task", {"title": "from an OAuth client"})
            page = await client.call_tool("list_tasks", {})
    assert not added.is_error, added.content
    assert [t["title"] for t in page.structured_content["tasks"]] == [  # type: ignore[index]
        "from an OAuth client"
    ]
    # Registered dynamically, and the token names the user, this server and both scopes.
    assert storage.client is not None and storage.client.client_id
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})  # type: ignore[union-attr]
    assert (claims["sub"], claims["aud"]) == (TEST_USER, f"{server.base_url}/mcp")
    assert claims["scope"].split() == ["tasks:read", "tasks:write"]


async def test_protected_resource_metadata_is_served_at_both_well_known_paths(
    server: Server, issuer: Server
):
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        answers = [
            (await http.get(path)).json()
            for path in ("/.well-known/oauth-protected-resource/mcp",
                         "/.well-known/oauth-protected-resource")
        ]  # fmt: skip
    expected = {
        "resource": f"{server.base_url}/mcp",
        "authorization_servers": [issuer.base_url],
        "scopes_supported": ["tasks:read", "tasks:write"],
        "bearer_methods_supported": ["header"],
    }
    for answer in answers:
        assert {key: answer[key] for key in expected} == expected


async def test_a_request_without_a_token_is_pointed_at_the_metadata(server: Server):
    response = await post(server, None, LIST_CALL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp", '
        'scope="tasks:read tasks:write"'
    )


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://other.example.com/mcp"},
         "invalid token: its audience (aud) is not {server}/mcp"),
        ({"iss": "https://evil.example.com"}, "invalid token: its issuer (iss) is not {issuer}"),
        ({"exp": int(time.time()) - 60}, "token expired"),
        ({"kid": "never-published"},
         "invalid token: signed with a key the issuer does not publish (never-published)"),
        ({"key": "other"}, "invalid token: bad signature"),
        ({"sub": None}, "invalid token: it has no sub claim"),
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "unknown-key", "bad-signature", "no-sub"],
)  # fmt: skip
async def test_a_bad_token_gets_401_saying_what_was_wrong(
    server: Server, issuer: Server, keys: dict[str, Any], claims: dict[str, Any], reason: str
):
    if claims.get("key") == "other":
        claims["key"] = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    response = await post(server, mint(keys, issuer, server, **claims), LIST_CALL)
    assert response.status_code == 401
    described = reason.format(server=server.base_url, issuer=issuer.base_url)
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{described}", '
        f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp", '
        'scope="tasks:read tasks:write"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": described}


async def call(server: Server, token: str, tool: str, **arguments: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}  # fmt: skip
    response = await post(server, token, body)
    assert response.status_code == 200, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


async def tool_names(server: Server, token: str) -> list[str]:
    response = await post(server, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 200, response.text
    return [tool["name"] for tool in response.json()["result"]["tools"]]


def scope_challenge(server: Server, needed: str, granted: str) -> str:
    return (
        f'Bearer error="insufficient_scope", scope="{needed}", '
        f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp", '
        f'error_description="this call needs the {needed} scope (the token has: {granted})"'
    )


async def test_a_read_only_token_is_offered_only_the_read_tools(
    server: Server, issuer: Server, keys: dict[str, Any]
):
    reader = mint(keys, issuer, server, sub="erin", scope="tasks:read")
    writer = mint(keys, issuer, server, sub="erin", scope="tasks:write")
    assert await tool_names(server, reader) == [
        "list_tasks", "get_task", "list_deleted_tasks", "list_lists", "list_members"
    ]  # fmt: skip
    assert await tool_names(server, writer) == [
        "add_task", "list_tasks", "get_task", "update_task", "complete_task", "delete_task",
        "restore_task", "list_deleted_tasks", "add_tasks", "update_tasks", "complete_tasks",
        "delete_tasks", "list_lists", "rename_list", "delete_list", "share_list", "unshare_list",
        "list_members",
    ]  # fmt: skip
    assert await tool_names(server, mint(keys, issuer, server, sub="erin", scope="profile")) == []


async def test_a_write_beyond_the_tokens_scope_gets_403_naming_the_scope_and_changes_nothing(
    server: Server, issuer: Server, keys: dict[str, Any]
):
    reader = mint(keys, issuer, server, sub="carol", scope="tasks:read")
    writer = mint(keys, issuer, server, sub="carol", scp=["tasks:write"], scope=None)
    await call(server, writer, "add_task", title="carol's")
    before = await call(server, reader, "list_tasks")
    assert [t["title"] for t in before["structuredContent"]["tasks"]] == ["carol's"]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "add_task", "arguments": {"title": "sneaked in"}}}  # fmt: skip
    refused = await post(server, reader, body)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == scope_challenge(
        server, "tasks:write", "tasks:read"
    )
    assert refused.json() == {
        "error": "insufficient_scope",
        "error_description": "this call needs the tasks:write scope (the token has: tasks:read)",
    }
    assert await call(server, reader, "list_tasks") == before
    nothing = mint(keys, issuer, server, sub="carol", scope="profile")
    response = await post(server, nothing, LIST_CALL)
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == scope_challenge(
        server, "tasks:read", "profile"
    )


async def test_a_scope_refusal_does_not_hide_a_bad_token_or_an_unknown_tool(
    server: Server, issuer: Server, keys: dict[str, Any]
):
    expired = mint(keys, issuer, server, scope="tasks:read", exp=int(time.time()) - 60)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "add_task", "arguments": {"title": "x"}}}  # fmt: skip
    assert (await post(server, expired, body)).status_code == 401
    reader = mint(keys, issuer, server, scope="tasks:read")
    unknown = await call(server, reader, "no_such_tool")
    assert unknown["isError"] is True


async def test_es256_tokens_and_the_service_token_work_beside_rs256(
    server: Server, issuer: Server, keys: dict[str, Any]
):
    token = mint(keys, issuer, server, key=keys["ec"], kid="ec-1", alg="ES256", sub="dave")
    response = await post(server, token, LIST_CALL)
    assert response.status_code == 200, response.headers.get("www-authenticate")
    assert response.json()["result"]["isError"] is False
    meta = {"taskchat/user_id": "dave"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_tasks", "arguments": {}, "_meta": meta}}  # fmt: skip
    assert (await post(server, SERVICE_TOKEN, body)).json()["result"]["isError"] is False


async def test_keys_are_fetched_again_for_an_unknown_kid_at_most_once_a_minute(
    issuer: Server, keys: dict[str, Any]
):
    async def fetches() -> int:
        async with httpx.AsyncClient() as http:
            return int((await http.get(f"{issuer.base_url}/jwks-fetches")).json()["fetches"])

    cached = IssuerKeys(issuer.base_url)
    eager = IssuerKeys(issuer.base_url, refetch_after=0)
    first = await fetches()
    assert (await cached.key(KEY_ID)).key_id == KEY_ID
    assert (await eager.key(KEY_ID)).key_id == KEY_ID
    # The issuer starts publishing a new key: found by the next fetch the minute allows.
    published = json.loads(keys["extra"].read_text())
    keys["extra"].write_text(json.dumps([*published, {**published[0], "kid": "rotated-in"}]))
    for _ in range(5):
        with pytest.raises(AuthError, match="does not publish"):
            await cached.key("rotated-in")
    assert (await eager.key("rotated-in")).key_id == "rotated-in"
    assert await fetches() == first + 3


def test_half_an_oauth_set_up_is_refused_at_start_up(tmp_path: Path):
    env = {"OAUTH_ISSUER": "https://auth.example.com", "MCP_RESOURCE_URL": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("taskchat-mcp: MCP_RESOURCE_URL: is needed with OAUTH_ISSUER")
