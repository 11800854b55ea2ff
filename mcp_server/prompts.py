"""Prompts for common task workflows; each tells the model which tools to call.

They read nothing themselves (the model calls the tools, so the user sees what it does),
and their arguments are optional words a client can complete (resources.py)."""

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts import Prompt
from pydantic import Field


def plan_my_day(
    list_name: str | None = Field(default=None, description="Plan only this list"),
) -> str:
    """Plan today from what is overdue, due today and high priority."""
    where = f' in the list "{list_name}"' if list_name else ""
    return (
        f"Help me plan my day{where}. Call list_tasks with overdue: true, then with "
        "due_before set to today (and timezone, if you know mine), then with priority: "
        "\"high\" and status: \"pending\"" + (f', each with list: "{list_name}"' if list_name
        else "") + ". Propose an order for today in at most 7 items, say what could move "
        "to another day, and ask before changing anything. When I agree, use update_tasks "
        "to move due dates and complete_tasks for what is already done, in one call each."
    )


def weekly_review(
    tag: str | None = Field(default=None, description="Review only tasks with this tag"),
) -> str:
    """Review the past week and plan the next one."""
    only = f' tagged "{tag}"' if tag else ""
    filters = f', tag: "{tag}"' if tag else ""
    return (
        f"Let's do my weekly review of the tasks{only}. Call list_lists for an overview, "
        f"then list_tasks with status: \"completed\", sort: \"created\", order: \"desc\"{filters} "
        f"to recall what I finished, list_tasks with overdue: true{filters} for what slipped, "
        f"and list_tasks with due_after today and due_before a week from today{filters} for "
        "what is coming. Summarise in three short parts (done, slipped, next week), suggest "
        "new due dates for the slipped tasks, and apply the ones I accept with one "
        "update_tasks call."
    )


def add_prompts(server: MCPServer) -> None:
    """Add every prompt to `server`."""
    for fn, title in ((plan_my_day, "Plan my day"), (weekly_review, "Weekly review")):
        server.add_prompt(Prompt.from_function(fn, title=title))
