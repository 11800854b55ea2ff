"""Identity at both servers' doors: tokens for another audience and user ids with invisible
or direction-changing characters are refused, by the chat server and the MCP server alike."""

import httpx
import pytest

from shared.auth import mint_jwt
from shared.contract import USER_META_KEY
from shared.settings import Settings
from tests.e2e.stack import SECRET, SERVICE_TOKEN
from tests.reliability.harness import SplitStack, call, fresh_user, mcp_client, tool_text
from tests.reliability.pg import PgSandbox

pytestmark = pytest.mark.timeout(120)

SIGNING = Settings(_env_file=None, jwt_secret=SECRET)
# Same secret, minted for another service: it names that service as its audience.
FOR_BILLING = Settings(_env_file=None, jwt_secret=SECRET, jwt_audience="billing")
MCP_CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_tasks", "arguments": {}}}  # fmt: skip
HIDDEN = [("\u202e", "U+202E"), ("\u200b", "U+200B"), ("\ufeff", "U+FEFF")]


@pytest.mark.parametrize(
    ("bearer", "reason"),
    [
        (mint_jwt("ann", FOR_BILLING), "its audience (aud) is not this server"),
        (mint_jwt("ann\u202eevil", SIGNING), "(found U+202E)"),
        (mint_jwt("ann\u200b", SIGNING), "(found U+200B)"),
    ],
    ids=["audience-of-another-service", "sub-with-bidi-override", "sub-with-zero-width-space"],
)
async def test_both_servers_refuse_the_token_with_401(
    stack: SplitStack, http: httpx.AsyncClient, bearer: str, reason: str
) -> None:
    assert stack.mcp is not None and stack.chat is not None
    auth = {"Authorization": f"Bearer {bearer}"}
    mcp = await http.post(
        stack.mcp_url,
        json=MCP_CALL,
        headers={**auth, "Accept": "application/json, text/event-stream"},
    )
    assert mcp.status_code == 401
    assert mcp.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    me = await http.get(f"{stack.chat.base_url}/api/me", headers=auth)
    chatkit = await http.post(
        f"{stack.chat.base_url}/chatkit", json={"type": "threads.list", "params": {}}, headers=auth
    )
    for response in (me, chatkit):
        assert response.status_code == 401
        assert reason in response.json()["message"]


async def test_the_service_token_naming_a_user_with_hidden_characters_gets_a_tool_error(
    stack: SplitStack, pg_sandbox: PgSandbox
) -> None:
    ann = fresh_user("ann")
    async with mcp_client(stack.mcp_url, SERVICE_TOKEN) as service:
        for char, code_point in HIDDEN:
            result = await call(service, "add_task", {"title": "planted"}, as_user=ann + char)
            assert result.is_error
            assert tool_text(result) == (
                f"Error executing tool add_task: _meta[{USER_META_KEY!r}]: user id must not "
                f"contain control or format characters (found {code_point})"
            )
    for char, _ in HIDDEN:
        assert pg_sandbox.tasks(ann + char) == []
