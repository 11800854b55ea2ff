"""What the offline model says after a list tool ran: list_lists, list_members, share_list,
unshare_list, rename_list, delete_list."""

from collections.abc import Callable
from typing import Any

from chat_server.agent.markdown import plain

Result = dict[str, Any]


def _list_line(one: Result) -> str:
    details = [f"{one.get('open', 0)} open"]
    if one.get("role") and one.get("role") != "owner":
        details.append(f"shared by {one.get('owner')}, you're {one['role']}")
    elif one.get("shared"):
        details.append("shared")
    return f"- {plain(one['name'])} ({', '.join(details)})"


def lists(page: Result, args: Result) -> str:
    found = page.get("lists") or []
    if not found:
        return "You have no lists yet."
    head = f"You have {len(found)} list{'s' if len(found) > 1 else ''}:"
    return "\n".join([head, *(_list_line(one) for one in found)])


def members(result: Result, args: Result) -> str:
    name = plain(result["list"]["name"])
    people = result.get("members") or []
    owner = next((m["user_id"] for m in people if m["role"] == "owner"), None)
    others = [f"{m['user_id']} ({m['role']})" for m in people if m["role"] != "owner"]
    if not others:
        return f"Only its owner ({owner}) can see {name}: it isn't shared."
    return f"{name} is owned by {owner} and shared with {', '.join(others)}."


def shared(result: Result, args: Result) -> str:
    name = plain(result["list"]["name"])
    others = [f"{m['user_id']} ({m['role']})" for m in result.get("members") or []
              if m["role"] != "owner"]  # fmt: skip
    return f"Shared {name}. Who else can see it now: {', '.join(others)}."


def unshared(result: Result, args: Result) -> str:
    name = plain(result["list"]["name"])
    if result.get("status") == "left":
        return f"You left {name}."
    others = [m["user_id"] for m in result.get("members") or [] if m["role"] != "owner"]
    rest = f" It is still shared with {', '.join(others)}." if others else " Only you see it now."
    return f"Stopped sharing {name} with {args.get('user_id')}.{rest}"


def renamed(result: Result, args: Result) -> str:
    return f"Renamed the list: it's now called {plain(result['list']['name'])}."


def deleted(result: Result, args: Result) -> str:
    name = plain(result["list"]["name"])
    if moved := result.get("moved_to"):
        return f"Deleted the list {name}; its tasks moved to {plain(moved)}."
    return f"Deleted the list {name} and its tasks."


SAY: dict[str, Callable[[Result, Result], str]] = {
    "list_lists": lists,
    "list_members": members,
    "share_list": shared,
    "unshare_list": unshared,
    "rename_list": renamed,
    "delete_list": deleted,
}
