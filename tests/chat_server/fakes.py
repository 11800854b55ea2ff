"""In-process stand-ins for the unit layer: an MCP server that records what it is asked."""

import json
from typing import Any

from agents.mcp import MCPServer
from mcp import Tool as MCPTool
from mcp.types import CallToolResult, GetPromptResult, ListPromptsResult, TextContent

TASK_TOOLS = ["add_task", "list_tasks", "get_task", "update_task", "complete_task", "delete_task"]


class FakeTaskServer(MCPServer):
    """Answers task tool calls from a dict per user; raises `fail_with` when set."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(failure_error_function=None, **kwargs)
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self.tasks: dict[str, list[dict[str, Any]]] = {}
        self.fail_with: Exception | None = None
        self.up = True

    @property
    def name(self) -> str:
        return "fake-tasks"

    async def connect(self) -> None:
        pass

    async def cleanup(self) -> None:
        pass

    async def ping(self) -> bool:
        return self.up

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[MCPTool]:
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        return [MCPTool(name=name, input_schema=schema) for name in TASK_TOOLS]

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        self.calls.append((tool_name, arguments or {}, meta))
        if self.fail_with is not None:
            raise self.fail_with
        user = (meta or {}).get("taskchat/user_id", "?")
        tasks = self.tasks.setdefault(user, [])
        args = arguments or {}
        if tool_name == "add_task":
            task = new_task(len(tasks) + 1, args["title"])
            tasks.append(task)
            return tool_result(
                {
                    "task_id": task["id"],
                    "status": "created",
                    "title": task["title"],
                    "task": task,
                    "next_task": None,
                }
            )
        if tool_name == "list_tasks":
            return tool_result({"tasks": tasks, "next_cursor": None})
        if tool_name == "get_task":
            found = [t for t in tasks if t["id"] == args.get("task_id")]
            if not found:
                return CallToolResult(
                    content=[
                        TextContent(
                            type="text",
                            text=f"Error executing tool get_task: "
                            f"Task {args.get('task_id')} not found",
                        )
                    ],
                    is_error=True,
                )
            return tool_result(found[0])
        raise AssertionError(f"unexpected tool {tool_name}")

    async def list_prompts(self) -> ListPromptsResult:
        return ListPromptsResult(prompts=[])

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        raise KeyError(name)


def new_task(task_id: int, title: str) -> dict[str, Any]:
    """A task in the contract's shape, with every optional field at its default."""
    return {
        "id": task_id, "title": title, "description": None, "completed": False,
        "completed_at": None, "priority": "medium", "tags": [], "due": None,
        "recurrence": "none", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def tool_result(data: dict[str, Any]) -> CallToolResult:
    """A successful tool result as the MCP server sends it: JSON text plus structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(data))], structured_content=data
    )
