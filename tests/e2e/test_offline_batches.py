"""End to end: the offline model turns several tasks in one message into one batch call.

Both servers run as real processes on a real database; the tool calls are read from the
chat's own workflow entries (one per call the chat server made to the task server).
"""

import pytest

from tests.e2e.stack import running_stack
from tests.e2e.test_chat_stack import tasks_of

pytestmark = pytest.mark.e2e


def test_several_tasks_in_one_message_are_one_batch_call_and_each_result_is_said(
    sqlite_url: str,
) -> None:
    with running_stack(sqlite_url) as stack:
        chat = stack.client()
        added = chat.create("add milk, eggs, bread, butter and flour")
        thread = added.thread_id
        assert added.tools == ["add_tasks"]
        tasks = {t["title"]: t["id"] for t in tasks_of(sqlite_url, "local")}
        assert set(tasks) == {"Milk", "Eggs", "Bread", "Butter", "Flour"}
        for title, task_id in tasks.items():
            assert f"Added task {task_id}: {title}" in added.reply

        ids = [tasks["Milk"], tasks["Eggs"], 999]
        done = chat.say(thread, f"mark {ids[0]}, {ids[1]} and {ids[2]} done")
        assert done.tools == ["complete_tasks"]  # one call, not three
        completed = {t["title"] for t in tasks_of(sqlite_url, "local") if t["completed"]}
        assert completed == {"Milk", "Eggs"}
        # Each item's result, the refused one too, in the reply; the card shows the two done.
        assert f"Marked task {ids[0]} as done: Milk." in done.reply
        assert f"Marked task {ids[1]} as done: Eggs." in done.reply
        assert "I couldn't complete task 999" in done.reply
        [card] = [item for item in done.items if item["type"] == "widget"]
        assert str(card["widget"]).count("task.reopen") == 2  # two done rows, each reopenable

        every = ", ".join(str(n) for n in tasks.values())
        asked = chat.say(thread, f"delete tasks {every}")
        assert asked.tools == []  # five or more: asked first, nothing deleted
        assert "Delete these 5 tasks for good?" in asked.reply
        assert len(tasks_of(sqlite_url, "local")) == len(tasks)

        deleted = chat.say(thread, "yes")
        assert deleted.tools == ["delete_tasks"]
        assert tasks_of(sqlite_url, "local") == []
        for title, task_id in tasks.items():
            assert f"Deleted task {task_id}: {title}." in deleted.reply
