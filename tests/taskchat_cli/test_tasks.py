"""The terminal's task commands: how tasks, lists and channels are shown (pure functions),
and `taskchat tasks`, `remind`, `channels` and `digest` against both real servers."""

import argparse
import io
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import tzlocal

from taskchat_cli.cli import main as taskchat
from taskchat_cli.tasks import channel_line, reminder_spec, reminder_text, task_line, task_lines
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, running_stack
from tests.e2e.test_live_events import token


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's clock is Berlin's: times are shown on it, whatever zone they came in."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    tzlocal.reload_localzone()  # it keeps the zone it found first
    yield
    monkeypatch.undo()
    time.tzset()
    tzlocal.reload_localzone()


def task(task_id: int, title: str, **fields: Any) -> dict[str, Any]:
    return {"id": task_id, "title": title, "completed": False, "priority": "medium",
            "tags": [], "due": None, "list": "Inbox", "parent_id": None, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("word", "spec"),
    [("30m", {"before": "PT30M"}), ("2h", {"before": "PT2H"}), ("1d", {"before": "P1D"}),
     ("1w", {"before": "P1W"}), ("due", {"before": "PT0S"}), ("pt90m", {"before": "PT90M"}),
     ("2026-05-01T08:00+02:00", {"at": "2026-05-01T08:00+02:00"})],
)  # fmt: skip
def test_a_reminder_is_read_from_short_iso_or_absolute_words(
    word: str, spec: dict[str, str]
) -> None:
    assert reminder_spec(word) == spec


@pytest.mark.parametrize("word", ["soon", "30 minutes", "-5m", "m30", ""])
def test_other_reminder_words_are_refused_with_the_forms_that_work(word: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="30m, 2h, 1d"):
        reminder_spec(word)


@pytest.mark.parametrize(
    ("spec", "said"),
    [({"before": "PT0S"}, "at the due time"), ({"before": "PT30M"}, "30 min before"),
     ({"before": "P1D"}, "1 day before"), ({"before": "P1DT2H"}, "1 day 2 hours before"),
     ({"at": "2026-05-01T08:00:00+02:00"}, "at 2026-05-01 08:00")],
)  # fmt: skip
@pytest.mark.usefixtures("berlin")
def test_reminders_are_said_in_words(spec: dict[str, str], said: str) -> None:
    assert reminder_text(spec) == said


@pytest.mark.usefixtures("berlin")
def test_tasks_are_shown_under_their_lists_with_subtasks_repeats_reminders_and_sharing() -> None:
    tasks = [
        task(1, "Buy milk", due="2026-05-01", priority="high", tags=["shop"]),
        task(2, "Clean the flat", list="Home", due="2026-05-02T07:00:00+00:00",
             repeat_text="every week", reminders=[{"before": "PT30M"}], assignee="ann"),
        task(3, "Vacuum", list="Home", parent_id=2, completed=True, changed_by="bob"),
        task(6, "Bread", completed=True, changed_by="ann"),
        task(4, "Orphan step", list="Home", parent_id=99),
    ]  # fmt: skip
    lists = [{"name": "Inbox", "role": "owner", "shared": False},
             {"name": "Home", "owner": "bob", "role": "editor", "shared": True}]  # fmt: skip
    assert task_lines(tasks, lists) == [
        "Inbox",
        "  [ ] 1  Buy milk  (due 2026-05-01; high; #shop)",
        "  [x] 6  Bread",  # not shared: who did it goes without saying
        "Home (shared by bob; you: editor)",
        "  [ ] 2  Clean the flat  (due 2026-05-02 09:00; repeats every week; "
        "remind 30 min before; assigned to ann)",
        "      [x] 3  Vacuum  (completed by bob)",
        "  [ ] 4  Orphan step",
    ]
    mine = [{"name": "Home", "owner": "ann", "role": "owner", "shared": True}]
    assert task_lines([task(5, "Dust", list="Home")], mine)[0] == "Home (shared by you)"


def test_a_rule_counted_from_completion_says_so() -> None:
    water = task(6, "Water", repeat_text="every 3 days", repeat_from="completion")
    assert task_line(water) == "  [ ] 6  Water  (repeats every 3 days after it's done)"


def test_a_channel_line_says_what_is_wrong_with_a_failing_one() -> None:
    ok = {"id": 3, "type": "email", "address": "ann@example.com", "status": "ok"}
    failing = {"id": 12, "type": "webhook", "url": "https://example.com/h", "status": "failing",
               "last_error": "answered HTTP 500"}  # fmt: skip
    assert channel_line(ok) == "   3  email    ann@example.com"
    assert channel_line(failing) == (
        "  12  webhook  https://example.com/h  (failing: answered HTTP 500)"
    )


# --- against both real servers -------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('terminal')}/tasks.db"
    with running_stack(url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN,
                       RATE_LIMIT="1000/minute", REMINDER_ALLOW_PRIVATE_URLS="true") as running:
        yield running  # fmt: skip


@pytest.mark.e2e
@pytest.mark.usefixtures("berlin")
def test_the_terminal_lists_tasks_sets_reminders_channels_and_the_digest(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    common = ["--url", stack.chat_url, "--token", token(ann)]
    headers = {"Authorization": f"Bearer {token(ann)}"}
    with httpx.Client(base_url=stack.chat_url, headers=headers, timeout=60) as http:
        parent = http.post("/api/tasks", json={
            "title": "Clean the flat", "list": "Home", "due": "2026-05-02T07:00:00Z",
            "repeat": "FREQ=WEEKLY"}).json()["task_id"]  # fmt: skip
        child = http.post("/api/tasks", json={"title": "Vacuum", "parent_id": parent})
        assert child.status_code == 200, child.text

    assert taskchat([*common, "remind", str(parent), "30m", "1d"]) == 0
    assert "remind 30 min before, 1 day before" in capsys.readouterr().out
    assert taskchat([*common, "tasks"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("Home")
    assert out[at + 1].startswith(f"  [ ] {parent}  Clean the flat  (due 2026-05-02 09:00; "
                                  "repeats ")  # fmt: skip
    assert out[at + 1].endswith("remind 30 min before, 1 day before)")
    assert out[at + 2].startswith("      [ ] ") and out[at + 2].endswith("  Vacuum")
    # The same at the chat prompt.
    monkeypatch.setattr(sys, "stdin", io.StringIO("/tasks\n/tasks later\n/quit\n"))
    assert taskchat(common) == 0
    prompt, err = capsys.readouterr()
    assert "\n".join(out[at : at + 3]) in prompt
    assert err == "taskchat: usage: /tasks [all|done]\n"
    assert taskchat([*common, "remind", str(parent)]) == 0  # none given: cleared
    assert "remind" not in capsys.readouterr().out
    assert taskchat([*common, "remind", str(parent), "soon"]) == 2  # noqa: PLR2004
    assert taskchat([*common, "remind", "999999", "30m"]) == 1
    assert "404" in capsys.readouterr().err

    assert taskchat([*common, "channels"]) == 0
    assert "no channels" in capsys.readouterr().err
    assert taskchat([*common, "channels", "add", "webhook", "http://127.0.0.1:9/hook"]) == 0
    made = capsys.readouterr().out.splitlines()
    assert made[0].split()[1:] == ["webhook", "http://127.0.0.1:9/hook"]
    assert made[1].startswith("signing secret (shown once): ")
    assert taskchat([*common, "channels", "add", "email", "not-an-address"]) == 1
    assert "address must be one email address" in capsys.readouterr().err
    assert taskchat([*common, "channels"]) == 0
    assert capsys.readouterr().out == f"{made[0]}\n"
    channel_id = made[0].split()[0]
    assert taskchat([*common, "channels", "remove", channel_id]) == 0
    assert taskchat([*common, "channels", "remove", channel_id]) == 1
    assert "404" in capsys.readouterr().err

    assert taskchat([*common, "digest", "7:30"]) == 0
    assert capsys.readouterr().out == "daily digest at 07:30 (Europe/Berlin)\n"
    assert taskchat([*common, "digest", "off"]) == 0
    assert capsys.readouterr().out == "daily digest off\n"
    assert taskchat([*common, "digest", "25:00"]) == 1
    assert "HH:MM" in capsys.readouterr().err


@pytest.mark.e2e
def test_the_terminal_sets_the_default_reminder_a_new_timed_task_gets(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    common = ["--url", stack.chat_url, "--token", token(ann)]
    assert taskchat([*common, "default-reminder", "due", "30m"]) == 0
    said = "new tasks with a time: remind at the due time, 30 min before\n"
    assert capsys.readouterr().out == said
    headers = {"Authorization": f"Bearer {token(ann)}"}
    with httpx.Client(base_url=stack.chat_url, headers=headers, timeout=60) as http:
        made = http.post("/api/tasks", json={"title": "Dentist", "due": "2026-05-02T07:00:00Z"})
    assert made.json()["task"]["reminders"] == [{"before": "PT0S"}, {"before": "PT30M"}]
    assert taskchat([*common, "default-reminder", "2026-05-01T08:00+02:00"]) == 1
    assert "before" in capsys.readouterr().err
    assert taskchat([*common, "default-reminder"]) == 0
    assert capsys.readouterr().out == "new tasks: no default reminder\n"
