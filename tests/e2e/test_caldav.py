"""CalDAV end to end: the chat server and the task server as processes, app passwords made
through the API, and real clients (the `caldav` library, Debian's `vdirsyncer`) syncing
tasks both ways over HTTP on 127.0.0.1, repeating tasks and deletions included."""

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from caldav.davclient import DAVClient

from taskchat_cli.cli import main as taskchat
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, running_stack
from tests.e2e.test_live_events import agent, called, stream_of, token

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('caldav')}/caldav.db"
    with running_stack(
        url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN, RATE_LIMIT="1000/minute"
    ) as running:
        yield running


def api(stack: Stack, user_id: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(user_id)}"}
    return httpx.Client(base_url=stack.chat_url, headers=headers, timeout=30)


def app_password(stack: Stack, user_id: str) -> dict[str, Any]:
    with api(stack, user_id) as http:
        made = http.post("/api/app-passwords", headers=JSON)
    assert made.status_code == 200, made.text
    answer: dict[str, Any] = made.json()
    return answer


def calendars(stack: Stack, credentials: dict[str, Any]) -> list[Any]:
    """The user's calendars as the client discovers them from the CalDAV root."""
    principal = dav(stack, credentials).principal()  # type: ignore[no-untyped-call]
    return list(principal.calendars())


def dav(stack: Stack, credentials: dict[str, Any]) -> DAVClient:
    return DAVClient(
        url=credentials["url"], username=credentials["username"],
        password=credentials["password"], timeout=60,
    )  # fmt: skip


async def tasks_of(user_id: str, stack: Stack, status: str = "all") -> dict[str, Any]:
    """The user's tasks by title, as the task server has them."""
    async with agent(stack, user_id) as client:
        page = await called(client, "list_tasks", status=status, subtasks="all", limit=200)
    return {task["title"]: task for task in page["tasks"]}


def dav_request(
    stack: Stack, method: str, path: str, auth: tuple[str, str], **kwargs: Any
) -> httpx.Response:
    return httpx.request(method, f"{stack.chat_url}{path}", auth=auth, timeout=30, **kwargs)


def propfind(
    stack: Stack, path: str, auth: tuple[str, str] | None, **headers: str
) -> httpx.Response:
    body = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><displayname/></prop></propfind>'
    return httpx.request(
        "PROPFIND", f"{stack.chat_url}{path}", auth=auth, content=body,
        headers={"Depth": "1", "Content-Type": "application/xml", **headers}, timeout=30,
    )  # fmt: skip


async def test_an_app_password_signs_a_client_in_to_its_own_lists_only_until_revoked(
    stack: Stack,
) -> None:
    ann, bob = f"ann-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    async with agent(stack, ann) as client:
        secret = await called(client, "add_task", title="Ann's secret", list="Work")
    made = app_password(stack, ann)
    assert made["username"] == ann and len(made["password"]) >= 32
    assert made["url"] == f"{stack.chat_url}/caldav/"
    bobs = app_password(stack, bob)

    redirect = propfind(stack, "/.well-known/caldav", None)
    assert (redirect.status_code, redirect.headers["location"]) == (301, "/caldav/")

    names = {calendar.get_display_name() for calendar in calendars(stack, made)}
    assert "Work" in names

    # No password, a wrong one, the JWT secret, a JWT, another user's password: all 401.
    for auth in (None, (ann, "wrong"), (ann, SECRET), (ann, token(ann)), (ann, bobs["password"])):
        assert propfind(stack, f"/caldav/{ann}/", auth).status_code == 401, auth
    # Bob, signed in, finds nothing of Ann's.
    seen = propfind(stack, f"/caldav/{ann}/", (bob, bobs["password"]))
    assert seen.status_code in (403, 404) and "Work" not in seen.text
    # A page on another site cannot drive it with the browser's remembered password, and a
    # foreign Host (DNS rebinding) is refused before anything runs.
    assert propfind(stack, f"/caldav/{ann}/", (ann, made["password"]),
                    Origin="https://evil.example").status_code == 403  # fmt: skip
    assert propfind(stack, f"/caldav/{ann}/", (ann, made["password"]),
                    Host="evil.example").status_code == 421  # fmt: skip

    # A stale write or delete (the task changed since the client read it) is refused: 412.
    href = f"/caldav/{ann}/{secret['task']['list_id']}/{secret['task_id']}.ics"
    auth = (ann, made["password"])
    read = dav_request(stack, "GET", href, auth)
    assert read.status_code == 200 and "SUMMARY:Ann's secret" in read.text
    async with agent(stack, ann) as client:
        await called(client, "update_task", task_id=secret["task_id"], title="Renamed here")
    stale = {"If-Match": read.headers["etag"], "Content-Type": "text/calendar"}
    edit = read.text.replace("Ann's secret", "Edited on the phone")
    put = dav_request(stack, "PUT", href, auth, content=edit, headers=stale)
    dropped = dav_request(stack, "DELETE", href, auth, headers=stale)
    assert (put.status_code, dropped.status_code) == (412, 412)
    assert (await tasks_of(ann, stack))["Renamed here"]["id"] == secret["task_id"]

    with api(stack, ann) as http:
        listed = http.get("/api/app-passwords").json()["app_passwords"]
        assert [entry["id"] for entry in listed] == [made["id"]]
        assert "password" not in listed[0]
        assert http.delete(f"/api/app-passwords/{bobs['id']}", headers=JSON).status_code == 404
        assert http.delete(f"/api/app-passwords/{made['id']}", headers=JSON).status_code == 200
    assert propfind(stack, f"/caldav/{ann}/", (ann, made["password"])).status_code == 401


def test_the_terminal_makes_lists_and_revokes_app_passwords(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ann, bob = f"ann-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    as_ann = ["--url", stack.chat_url, "--token", token(ann), "app-password"]
    assert taskchat([*as_ann, "list"]) == 0
    assert "no app passwords" in capsys.readouterr().err
    assert taskchat(as_ann) == 0  # `new` is the default
    printed = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    made = {key: value.strip() for key, value in printed.items()}
    assert made["server"] == f"{stack.chat_url}/caldav/" and made["user name"] == ann
    auth = (ann, made["password"])
    assert propfind(stack, f"/caldav/{ann}/", auth).status_code == 207
    assert taskchat([*as_ann, "list"]) == 0
    (only,) = capsys.readouterr().out.splitlines()
    password_id = only.split()[0]

    # Bob cannot revoke Ann's password, and a bad id is a usage error, not a request.
    as_bob = ["--url", stack.chat_url, "--token", token(bob), "app-password"]
    assert taskchat([*as_bob, "revoke", password_id]) == 1
    assert "no app password with this id" in capsys.readouterr().err
    assert propfind(stack, f"/caldav/{ann}/", auth).status_code == 207
    assert taskchat([*as_ann, "revoke", "one"]) == 2

    assert taskchat([*as_ann, "revoke", password_id]) == 0
    assert capsys.readouterr().out.startswith(f"app password {password_id} revoked")
    assert propfind(stack, f"/caldav/{ann}/", auth).status_code == 401
    assert taskchat([*as_ann, "list"]) == 0
    assert capsys.readouterr().out == ""


def todo_named(calendar: Any, title: str) -> Any:
    for todo in calendar.todos(include_completed=True):
        if str(todo.icalendar_component["summary"]) == title:
            return todo
    return None


async def add_in(stack: Stack, user_id: str, title: str, list_name: str) -> int:
    async with agent(stack, user_id) as client:
        added = await called(client, "add_task", title=title, list=list_name)
    task_id: int = added["task_id"]
    return task_id


async def test_the_caldav_library_syncs_tasks_both_ways_with_repeats_and_deletions(
    stack: Stack,
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    async with agent(stack, ann) as client:
        gym = await called(
            client, "add_task", title="Gym", due="2026-03-16T08:00:00Z", list="Home",
            repeat="FREQ=WEEKLY;BYDAY=MO", timezone="Europe/Berlin",
        )  # fmt: skip
        await called(client, "add_task", title="Old junk", list="Home")
        await called(client, "add_task", title="Work exists", list="Work")
    made = app_password(stack, ann)
    auth = (ann, made["password"])
    home = next(
        calendar for calendar in calendars(stack, made)
        if calendar.get_display_name() == "Home"
    )  # fmt: skip
    first_token = home.objects_by_sync_token(load_objects=False).sync_token

    # taskchat -> client: the repeating task with its rule and zone.
    todo = todo_named(home, "Gym")
    assert todo is not None
    component = todo.icalendar_component
    assert component["rrule"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"
    assert str(component.decoded("due").tzinfo) == "Europe/Berlin"

    # client -> taskchat: a new repeating task, a completed one, a deleted one.
    home.save_todo(summary="Water plants", due=date(2026, 3, 16), priority=1,
                   rrule={"FREQ": "WEEKLY", "BYDAY": "MO"})  # fmt: skip
    # The page hears of a phone's edit live, as of any other.
    async with stream_of(stack, ann) as page:
        todo.complete()
        # The done occurrence and the next one (created), in either order.
        heard = [await page.next(within=10), await page.next(within=10)]
    assert ("task", {"task_id": gym["task_id"], "status": "completed"}) in heard
    todo_named(home, "Old junk").delete()
    tasks = await tasks_of(ann, stack)
    plants = tasks["Water plants"]
    assert (plants["due"], plants["repeat"], plants["priority"], plants["list"]) == (
        "2026-03-16",
        "FREQ=WEEKLY;BYDAY=MO",
        "high",
        "Home",
    )
    assert "Old junk" not in tasks
    async with agent(stack, ann) as client:
        done = await called(client, "get_task", task_id=gym["task_id"])
    assert done["completed"]
    # The series goes on: the next Monday's Gym is open.
    assert (await tasks_of(ann, stack, "pending"))["Gym"]["due"].startswith("2026-03-23")
    # The client's own href and UID stay: its task is not served twice.
    assert [t.icalendar_component["summary"] for t in home.todos()].count("Water plants") == 1

    # A client moves a task to another list (MOVE): taskchat moves it, href and all.
    async with agent(stack, ann) as client:
        lists = {entry["name"]: entry["list_id"] for entry in
                 (await called(client, "list_lists"))["lists"]}  # fmt: skip
    moving = await add_in(stack, ann, "Move me", "Home")
    source = f"/caldav/{ann}/{lists['Home']}/{moving}.ics"
    target = f"{stack.chat_url}/caldav/{ann}/{lists['Work']}/{moving}.ics"
    moved = dav_request(stack, "MOVE", source, auth, headers={"Destination": target})
    assert moved.status_code in (201, 204), moved.text
    assert (await tasks_of(ann, stack))["Move me"]["list"] == "Work"
    assert dav_request(stack, "GET", target.removeprefix(stack.chat_url), auth).status_code == 200

    # taskchat -> client: a rename and a deletion show at the next sync, and the sync token
    # from before names exactly what changed.
    async with agent(stack, ann) as client:
        await called(client, "update_task", task_id=plants["id"], title="Water the plants")
        await called(client, "delete_task", task_id=plants["id"])
        kept = await called(client, "add_task", title="New from chat", list="Home")
    changed = home.objects_by_sync_token(sync_token=first_token, load_objects=False)
    hrefs = {str(obj.url).rsplit("/", 1)[1] for obj in changed}
    assert f"{kept['task_id']}.ics" in hrefs
    titles = {str(t.icalendar_component["summary"]) for t in home.todos(include_completed=True)}
    assert "New from chat" in titles and "Water plants" not in titles
    assert "Water the plants" not in titles and "Old junk" not in titles
    again = home.objects_by_sync_token(sync_token=changed.sync_token, load_objects=False)
    assert list(again) == []


VDIRSYNCER = shutil.which("vdirsyncer")


def vdirsyncer(config: Path, *args: str) -> str:
    assert VDIRSYNCER is not None
    done = subprocess.run(
        [VDIRSYNCER, "-c", str(config), *args], check=False, capture_output=True, text=True,
        timeout=120, input="y\n" * 10,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


async def test_vdirsyncer_syncs_a_folder_of_ics_files_both_ways(
    stack: Stack, tmp_path: Path
) -> None:
    if VDIRSYNCER is None:
        if os.environ.get("CI"):
            pytest.fail("vdirsyncer is missing: .ci/run installs Debian's package")
        pytest.skip("needs Debian's vdirsyncer (.ci/run installs it)")
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    async with agent(stack, ann) as client:
        gym = await called(
            client, "add_task", title="Gym", due="2026-03-16", list="Inbox",
            repeat="FREQ=WEEKLY;BYDAY=MO",
        )  # fmt: skip
        await called(client, "add_task", title="Drop me", list="Inbox")
    made = app_password(stack, ann)
    local = tmp_path / "tasks"
    local.mkdir()
    config = tmp_path / "config"
    config.write_text(f"""
[general]
status_path = "{tmp_path / "status"}"

[pair tasks]
a = "local"
b = "taskchat"
collections = ["from b"]
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "{local}"
fileext = ".ics"

[storage taskchat]
type = "caldav"
url = "{made["url"]}"
username = "{made["username"]}"
password = "{made["password"]}"
item_types = ["VTODO"]
""")
    vdirsyncer(config, "discover", "tasks")
    vdirsyncer(config, "sync")

    def files() -> dict[str, Path]:
        found = {}
        for path in local.glob("*/*.ics"):
            todo = next(iter(icalendar.Calendar.from_ical(path.read_text()).walk("VTODO")))
            found[str(todo["summary"])] = path
        return found

    seen = files()
    assert {"Gym", "Drop me"} <= set(seen)
    assert "RRULE:FREQ=WEEKLY;BYDAY=MO" in seen["Gym"].read_text()

    # Local edits: Gym done, Drop me deleted, a new repeating task.
    seen["Gym"].write_text(seen["Gym"].read_text().replace("NEEDS-ACTION", "COMPLETED"))
    seen["Drop me"].unlink()
    (seen["Gym"].parent / "phone-made.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
        "UID:phone-made-1\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Phone task\r\n"
        "DTSTART;VALUE=DATE:20260302\r\nDUE;VALUE=DATE:20260302\r\n"
        "RRULE:FREQ=DAILY\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    vdirsyncer(config, "sync")
    tasks = await tasks_of(ann, stack)
    assert "Drop me" not in tasks
    assert (tasks["Phone task"]["due"], tasks["Phone task"]["repeat"]) == (
        "2026-03-02",
        "FREQ=DAILY",
    )
    async with agent(stack, ann) as client:
        gym_now = await called(client, "get_task", task_id=gym["task_id"])
    assert gym_now["completed"]

    # taskchat -> local: a deletion and a rename arrive at the next sync.
    async with agent(stack, ann) as client:
        await called(client, "delete_task", task_id=tasks["Phone task"]["id"])
        await called(client, "add_task", title="From the chat", list="Inbox")
    vdirsyncer(config, "sync")
    seen = files()
    assert "Phone task" not in seen and "From the chat" in seen


async def test_a_clients_mistakes_are_refused_with_a_4xx_and_change_nothing(stack: Stack) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    kept = await add_in(stack, ann, "Keep me", "Home")
    made = app_password(stack, ann)
    auth = (ann, made["password"])
    async with agent(stack, ann) as client:
        lists = {entry["name"]: entry["list_id"] for entry in
                 (await called(client, "list_lists"))["lists"]}  # fmt: skip
    home = f"/caldav/{ann}/{lists['Home']}/"
    vtodo = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:{kind}\r\n"
        "UID:{uid}\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:{title}\r\n{extra}"
        "END:{kind}\r\nEND:VCALENDAR\r\n"
    )
    ics = {"Content-Type": "text/calendar"}
    mistakes = {
        "a list made by a client": dav_request(stack, "MKCALENDAR", f"/caldav/{ann}/new/", auth),
        "a list deleted by a client": dav_request(stack, "DELETE", home, auth),
        "an event in a task list": dav_request(
            stack, "PUT", f"{home}event.ics", auth, headers=ics,
            content=vtodo.format(kind="VEVENT", uid="e1", title="Party",
                                 extra="DTSTART:20260301T100000Z\r\n"),
        ),
        "a title longer than the task server takes": dav_request(
            stack, "PUT", f"{home}long.ics", auth, headers=ics,
            content=vtodo.format(kind="VTODO", uid="l1", title="x" * 5000, extra=""),
        ),
        "a rule the task server refuses": dav_request(
            stack, "PUT", f"{home}rule.ics", auth, headers=ics,
            content=vtodo.format(kind="VTODO", uid="r1", title="Odd rule",
                                 extra="DUE;VALUE=DATE:20260302\r\nRRULE:FREQ=SECONDLY\r\n"),
        ),
        "not iCalendar at all": dav_request(
            stack, "PUT", f"{home}junk.ics", auth, headers=ics, content="hello"
        ),
    }  # fmt: skip
    for mistake, answer in mistakes.items():
        assert 400 <= answer.status_code < 500, (mistake, answer.status_code, answer.text)
    tasks = await tasks_of(ann, stack)
    assert list(tasks) == ["Keep me"] and tasks["Keep me"]["id"] == kept


# Last in this module: it stops the task server.
async def test_a_task_server_outage_is_a_503_to_clients_not_a_500(stack: Stack) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    await add_in(stack, ann, "Keep me", "Home")
    made = app_password(stack, ann)
    assert stack.mcp is not None
    stack.mcp.stop()

    answer = propfind(stack, f"/caldav/{ann}/", (ann, made["password"]))

    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "30"
