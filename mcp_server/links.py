"""Resource URIs of tasks, and the resource links a write's result carries to them."""

from typing import Any

from mcp_types import ResourceLink

JSON = "application/json"
ALL_LISTS = "all"


def task_uri(task_id: int) -> str:
    """The resource URI of one task."""
    return f"task://{task_id}"


def changed_uris(task_id: int) -> list[str]:
    """The resources a change to task `task_id` updates."""
    return [task_uri(task_id), f"list://{ALL_LISTS}"]


def links_of(result: Any) -> list[ResourceLink]:
    """Resource links to the tasks a write left in place (none for a deleted one)."""
    if not isinstance(result, dict):
        return []
    if "results" in result:  # a batch
        found = [item for item in result["results"] if item.get("ok")]
    elif "task_id" in result and "task" in result:
        found = [result]
    else:
        return []
    links = []
    for item in found:
        for task in (item.get("task"), item.get("next_task")):
            if task is not None and item.get("status") != "deleted":
                links.append(_link(task))
    return links


def _link(task: dict[str, Any]) -> ResourceLink:
    return ResourceLink(
        type="resource_link", uri=task_uri(task["id"]), name=f"task {task['id']}",
        title=task["title"], mime_type=JSON,
    )  # fmt: skip
