"""The agent every turn runs: its tools come from the MCP server, converted once."""

from types import SimpleNamespace
from typing import Any

from agents import Runner
from agents.testing import ScriptedModel, assistant_message, function_call
from mcp import Tool as MCPTool

from chat_server.agent.agent import build_agent, user_meta
from shared.auth import Principal
from shared.contract import USER_META_KEY
from tests.chat_server.fakes import FakeTaskServer


class ListingCounter(FakeTaskServer):
    """A task server that counts how often its tools are listed."""

    listings = 0

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[MCPTool]:
        self.listings += 1
        return await super().list_tools(run_context, agent)


async def test_the_agent_converts_its_mcp_tools_once_and_each_run_still_acts_for_its_user() -> None:
    server = ListingCounter()
    server.tool_meta_resolver = user_meta
    model = ScriptedModel([
        [function_call("add_task", {"title": "milk"}, call_id="call_1")],
        [assistant_message("Added milk.", item_id="msg_1")],
        [function_call("add_task", {"title": "bread"}, call_id="call_2")],
        [assistant_message("Added bread.", item_id="msg_2")],
    ])
    agent = build_agent(model, server)
    for user in ("alice", "bob"):
        context = SimpleNamespace(request_context=Principal(user))
        await Runner.run(agent, "add something", context=context)
    # Four model steps, one listing: the SDK alone would list and convert at every step.
    assert server.listings == 1
    assert [(name, meta) for name, _, meta in server.calls] == [
        ("add_task", {USER_META_KEY: "alice"}),
        ("add_task", {USER_META_KEY: "bob"}),
    ]
