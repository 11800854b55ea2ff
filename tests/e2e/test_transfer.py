"""Import and export through both real servers: a Todoist export imported twice (once only
added), uploads refused cross-site, too big or unreadable, and a full export imported into
a fresh taskchat (its own database) giving back the same tasks; the terminal client too."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from taskchat_cli.cli import main as taskchat
from tests.chat_server.test_imports import TODOIST_CSV
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, running_stack
from tests.e2e.test_live_events import agent, called, token

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('transfer')}/tasks.db"
    with running_stack(
        url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN, RATE_LIMIT="1000/minute"
    ) as running:
        yield running


def api(stack: Stack, user_id: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(user_id)}", "X-Timezone": "Europe/Berlin"}
    return httpx.Client(base_url=stack.chat_url, headers=headers, timeout=60)


def upload(http: httpx.Client, name: str, data: bytes, **form: str) -> httpx.Response:
    return http.post("/api/import", files={"file": (name, data)}, data=form)


def test_a_todoist_export_is_imported_once_however_often_it_is_uploaded(stack: Stack) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    with api(stack, ann) as http:
        first = upload(http, "Home.csv", TODOIST_CSV.encode())
        assert first.status_code == 200, first.text
        report = first.json()
        assert (report["format"], report["imported"], report["already_imported"]) == (
            "todoist-csv", 5, 0
        )
        assert report["not_imported"] == 1
        assert {"item": "row 8", "title": "", "reason": "it has no title", "imported": False} in (
            report["problems"]
        )
        assert any("every full moon" in p["reason"] for p in report["problems"])

        again = upload(http, "Home.csv", TODOIST_CSV.encode(), format="todoist-csv").json()
        assert (again["imported"], again["already_imported"]) == (0, 5)

        tasks = {t["title"]: t for t in http.get("/api/tasks").json()["tasks"]}
        assert len(tasks) == 5
        # taskchat nests one level: "Find the big can" (indent 3) goes under the top task.
        parent = tasks["Water plants"]["id"]
        assert {tasks[t]["parent_id"] for t in ("Fill the can", "Find the big can")} == {parent}
        water = tasks["Water plants"]
        assert (water["list"], water["tags"], water["priority"]) == (
            "Home", ["home", "weekly"], "high"
        )
        assert (water["repeat"], water["timezone"], water["open_subtasks"]) == (
            "FREQ=WEEKLY;BYDAY=MO", "Europe/Berlin", 2
        )
        assert tasks["Pay rent"]["list"] == "Home / Errands"


def test_uploads_are_refused_cross_site_too_big_or_unreadable(stack: Stack) -> None:
    with api(stack, "ann") as http:
        cross_site = http.post(
            "/api/import", files={"file": ("a.csv", b"title\nx\n")},
            headers={"Origin": "https://evil.example"},
        )  # fmt: skip
        assert cross_site.status_code == 403
        fetched = http.post(
            "/api/import", files={"file": ("a.csv", b"title\nx\n")},
            headers={"Sec-Fetch-Site": "cross-site"},
        )  # fmt: skip
        assert fetched.status_code == 403
        # Multipart is taken at /api/import only.
        assert http.post("/api/tasks", files={"file": ("a", b"x")}).status_code == 415

        huge = upload(http, "big.csv", b"title\n" + b"x" * 5_000_001)
        assert huge.status_code == 413
        assert huge.json() == {
            "error": "body_too_large", "message": "request body is over 5000000 bytes"
        }
        unreadable = upload(http, "a.json", b"{nope", format="json")
        assert unreadable.status_code == 400
        assert unreadable.json()["error"] == "unreadable_file"
        assert unreadable.json()["message"].startswith("not a json file: the file is not JSON")
        assert upload(http, "a.csv", b"title\n", format="excel").status_code == 422
        assert http.post("/api/import", files={"other": ("a", b"x")}).status_code == 422
    with httpx.Client(base_url=stack.chat_url, timeout=30) as anonymous:
        assert upload(anonymous, "a.csv", b"title\nx\n").status_code == 401
        assert anonymous.get("/api/export").status_code == 401


async def make_everything(stack: Stack, user_id: str) -> None:
    """One of each: a repeating timed task with reminders and a subtask, a done task, a task
    in another list with tags and notes, an undated one."""
    async with agent(stack, user_id) as client:
        gym = await called(
            client, "add_task", title="Gym", due="2026-03-16T08:00:00Z", priority="high",
            tags=["health"], list="Fitness", repeat="FREQ=WEEKLY;BYDAY=MO,TH",
            timezone="Europe/Berlin", reminders=[{"before": "PT30M"}], description="Legs",
        )  # fmt: skip
        await called(client, "add_task", title="Pack shoes", parent_id=gym["task_id"])
        await called(
            client, "add_task", title="Rent", due="2026-04-01", priority="low",
            repeat="FREQ=MONTHLY", repeat_from="completion", tags=["money", "home"],
        )  # fmt: skip
        done = await called(client, "add_task", title="Old", due="2026-01-01", list="Archive")
        await called(client, "complete_task", task_id=done["task_id"])
        await called(client, "add_task", title="Someday, maybe", description='Say "hi", ok')


COMPARED = (
    "title", "description", "completed", "priority", "tags", "due", "repeat", "repeat_from",
    "timezone", "reminders", "list",
)  # fmt: skip


def comparable(exported: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of a JSON export without what a new server gives anew (ids, times), each
    subtask naming its parent by title."""
    by_id = {task["id"]: task for task in exported["tasks"]}
    rows = [
        {
            **{name: task.get(name) for name in COMPARED},
            "parent": by_id[task["parent_id"]]["title"] if task.get("parent_id") else None,
        }
        for task in exported["tasks"]
    ]
    return sorted(rows, key=lambda row: row["title"])


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_an_export_imported_into_a_fresh_taskchat_gives_back_the_same_tasks(
    stack: Stack, sqlite_url: str, fmt: str
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    await make_everything(stack, ann)
    with api(stack, ann) as http:
        exported = http.get("/api/export", params={"format": fmt})
        original = http.get("/api/export", params={"format": "json"}).json()
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="taskchat-tasks.{fmt}"'
    )
    assert len(original["tasks"]) == 5
    assert {entry["name"] for entry in original["lists"]} >= {"Inbox", "Fitness", "Archive"}

    with (
        running_stack(sqlite_url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN) as fresh,
        api(fresh, ann) as http,
    ):
        report = upload(http, f"export.{fmt}", exported.content).json()
        assert (report["format"], report["imported"], report["not_imported"]) == (fmt, 5, 0)
        assert report["problems"] == []
        back = http.get("/api/export", params={"format": "json"}).json()
        again = upload(http, f"export.{fmt}", exported.content).json()
        assert (again["imported"], again["already_imported"]) == (0, 5)
    assert comparable(back) == comparable(original)


def test_the_ics_export_holds_every_task_as_a_vtodo(stack: Stack) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    with api(stack, ann) as http:
        upload(http, "Home.csv", TODOIST_CSV.encode())
        exported = http.get("/api/export", params={"format": "ics"})
    assert exported.headers["content-type"].startswith("text/calendar")
    todos = icalendar.Calendar.from_ical(exported.content).walk("VTODO")
    assert sorted(str(todo["SUMMARY"]) for todo in todos) == [
        "Call mum", "Fill the can", "Find the big can", "Pay rent", "Water plants"
    ]
    with api(stack, ann) as http:
        assert http.get("/api/export", params={"format": "xlsx"}).status_code == 422


def test_the_terminal_imports_a_file_and_exports_everything(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "Home.csv"
    source.write_text(TODOIST_CSV)
    common = ["--url", stack.chat_url, "--token", token(ann)]
    # One row is not imported (no title): the exit status says so.
    assert taskchat([*common, "import", str(source)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("5 imported, 0 already there, 1 not imported (todoist-csv)\n")
    assert "  row 8 '': not imported: it has no title\n" in out

    target = tmp_path / "tasks.json"
    assert taskchat([*common, "export", "--format", "json", "-o", str(target)]) == 0
    assert len(json.loads(target.read_text())["tasks"]) == 5
    assert taskchat([*common, "import", str(tmp_path / "missing.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
