"""Widget builders: exact widget JSON for lists, cards and empty lists, and the turn's widget."""

import json
from datetime import datetime
from typing import Any, cast

from chatkit.types import ThreadItem, WidgetItem
from pydantic import TypeAdapter

from chat_server.conversation import widgets
from shared.contract import TaskDict

SERVER_ACTION = {"handler": "server", "loadingBehavior": "auto", "streaming": True}


def task(task_id: int = 1, **fields: Any) -> TaskDict:
    base = {
        "id": task_id, "title": "buy milk", "description": None, "completed": False,
        "completed_at": None, "priority": "medium", "tags": [], "due": "2025-06-02",
        "recurrence": "none", "created_at": "2025-06-01T08:00:00Z",
        "updated_at": "2025-06-01T08:00:00Z",
    }
    return cast(TaskDict, base | fields)


def change(status: str, t: dict[str, Any], next_task: dict[str, Any] | None = None) -> str:
    return json.dumps({"task_id": t["id"], "status": status, "title": t["title"], "task": t,
                       "next_task": next_task})


def listing(*tasks: dict[str, Any]) -> str:
    return json.dumps({"tasks": list(tasks), "next_cursor": None})


def dump(widget: Any) -> Any:
    return widget.model_dump(mode="json", exclude_none=True)


def button(label: str, color: str, variant: str, action: str, task_id: int) -> dict[str, Any]:
    return {
        "type": "Button", "label": label, "color": color, "variant": variant, "size": "sm",
        "onClickAction": {"type": action, "payload": {"task_id": task_id}, **SERVER_ACTION},
    }


def test_task_list_lists_title_due_priority_tags_and_buttons() -> None:
    widget = widgets.task_list([task(7, priority="high", tags=["shop", "home"])])

    assert dump(widget) == {
        "type": "ListView",
        "status": {"text": "Tasks: 1"},
        "children": [{
            "type": "ListViewItem", "key": "task-7", "gap": 3, "align": "center",
            "children": [
                {"type": "Col", "flex": 1, "gap": 1, "children": [
                    {"type": "Text", "value": "buy milk", "weight": "semibold"},
                    {"type": "Row", "gap": 2, "wrap": "wrap", "children": [
                        {"type": "Caption", "value": "Due 2025-06-02"},
                        {"type": "Badge", "label": "High", "color": "danger", "variant": "soft"},
                        {"type": "Badge", "label": "#shop", "color": "info", "variant": "outline"},
                        {"type": "Badge", "label": "#home", "color": "info", "variant": "outline"},
                    ]},
                ]},
                {"type": "Row", "gap": 2, "children": [
                    button("Complete", "success", "solid", "task.complete", 7),
                    button("Delete", "danger", "outline", "task.delete", 7),
                ]},
            ],
        }],
    }


def test_completed_task_row_is_struck_through_marked_done_and_offers_reopen() -> None:
    row = widgets.task_row(task(3, completed=True, due=None, priority="low"))

    title, details = row["children"][0]["children"]
    assert title == {"type": "Text", "value": "buy milk", "weight": "semibold",
                     "lineThrough": True, "color": "secondary"}
    assert details["children"] == [
        {"type": "Caption", "value": "No due date"},
        {"type": "Badge", "label": "Done", "color": "success"},
        {"type": "Badge", "label": "Low", "color": "secondary", "variant": "soft"},
    ]
    assert row["children"][1]["children"] == [
        button("Reopen", "secondary", "outline", "task.reopen", 3),
        button("Delete", "danger", "outline", "task.delete", 3),
    ]


def test_empty_task_list_says_there_are_no_tasks() -> None:
    assert dump(widgets.task_list([])) == {
        "type": "ListView",
        "status": {"text": "Tasks: none"},
        "children": [{
            "type": "ListViewItem", "key": "empty",
            "children": [{"type": "Text", "value": "No tasks to show.", "color": "secondary"}],
        }],
    }


def test_long_task_list_is_cut_and_says_how_many_it_shows() -> None:
    widget = dump(widgets.task_list([task(i) for i in range(1, 31)]))

    assert widget["status"] == {"text": "Tasks: 25 of 30"}
    assert [row["key"] for row in widget["children"]] == [f"task-{i}" for i in range(1, 26)]


def test_task_card_shows_status_description_details_recurrence_and_buttons() -> None:
    card = widgets.task_card(
        task(4, description="2 litres", due="2025-06-02T14:30:00Z", recurrence="weekly",
             repeat="FREQ=WEEKLY", repeat_text="every week"),
        status="Task added",
    )

    assert dump(card) == {
        "type": "Card", "key": "task-4", "size": "md",
        "status": {"text": "Task added"},
        "children": [
            {"type": "Title", "value": "buy milk", "size": "sm"},
            {"type": "Text", "value": "2 litres", "size": "sm"},
            {"type": "Row", "gap": 2, "wrap": "wrap", "children": [
                {"type": "Caption", "value": "Due 2025-06-02 14:30 UTC"},
                {"type": "Caption", "value": "Repeats every week"},
            ]},
            {"type": "Row", "gap": 2, "children": [
                button("Complete", "success", "solid", "task.complete", 4),
                button("Delete", "danger", "outline", "task.delete", 4),
            ]},
        ],
    }


def test_deleted_task_card_offers_only_undo() -> None:
    card = dump(widgets.task_card(task(4), status="Task deleted", deleted=True))

    assert card["status"] == {"text": "Task deleted"}
    assert card["children"] == [
        {"type": "Title", "value": "buy milk", "size": "sm", "color": "secondary"},
        {"type": "Row", "gap": 2, "wrap": "wrap", "children": [
            {"type": "Caption", "value": "Due 2025-06-02"},
            {"type": "Badge", "label": "Deleted", "color": "danger"},
        ]},
        {"type": "Row", "gap": 2, "children": [
            button("Undo", "secondary", "outline", "task.restore", 4),
        ]},
    ]


def test_widgets_survive_a_round_trip_through_stored_thread_item_json() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(ThreadItem)
    for widget in (widgets.task_list([task(1, tags=["a"])]), widgets.task_list([]),
                   widgets.task_card(task(2, completed=True), status="Task completed")):
        item = WidgetItem(id="m1", thread_id="t1", created_at=datetime(2025, 1, 1), widget=widget)

        stored = adapter.validate_json(item.model_dump_json())

        assert dump(stored.widget) == dump(widget)


def test_turn_without_task_tools_has_no_widget() -> None:
    assert widgets.widget_for_turn([]) is None


def test_turn_that_lists_tasks_shows_the_list() -> None:
    widget = widgets.widget_for_turn([("list_tasks", listing(task(1), task(2, title="walk")))])

    assert dump(widget) == dump(widgets.task_list([task(1), task(2, title="walk")]))


def test_turn_that_adds_a_task_shows_its_card() -> None:
    added = task(5)

    widget = widgets.widget_for_turn([("add_task", change("created", added))])

    assert dump(widget) == dump(widgets.task_card(added, status="Task added"))


def test_turn_that_looks_up_then_completes_shows_only_the_completed_task() -> None:
    done = task(1, completed=True)

    widget = widgets.widget_for_turn([
        ("list_tasks", listing(task(1))),
        ("complete_task", change("completed", done)),
    ])

    assert dump(widget) == dump(widgets.task_card(done, status="Task completed"))


def test_turn_that_changes_several_tasks_lists_them() -> None:
    first, second = task(1), task(2, title="walk")

    widget = dump(widgets.widget_for_turn([
        ("add_task", change("created", first)),
        ("add_task", change("created", second)),
    ]))

    assert widget["status"] == {"text": "Changed tasks: 2"}
    assert widget["children"] == [widgets.task_row(first), widgets.task_row(second)]


def test_completing_a_recurring_task_shows_it_and_its_next_occurrence() -> None:
    done, nxt = task(1, completed=True, recurrence="daily"), task(2, due="2025-06-03")

    widget = dump(widgets.widget_for_turn([("complete_task", change("completed", done, nxt))]))

    assert widget["children"] == [widgets.task_row(done), widgets.task_row(nxt)]


def test_failed_tool_calls_and_non_json_output_are_ignored() -> None:
    widget = widgets.widget_for_turn([
        ("complete_task", '{"error": {"code": "not_found", "message": "Task 9 not found"}}'),
        ("list_tasks", "not json"),
    ])

    assert widget is None


def test_redraw_replaces_only_the_changed_row() -> None:
    before = widgets.task_list([task(1), task(2, title="walk")])

    after = dump(widgets.redraw(before, task(2, title="walk", completed=True),
                                status="Task completed"))

    assert after["children"][0] == widgets.task_row(task(1))
    assert after["children"][1] == widgets.task_row(task(2, title="walk", completed=True))
    assert after["status"] == {"text": "Tasks: 2"}


def test_redraw_of_a_card_rebuilds_it_with_the_new_status() -> None:
    before = widgets.task_card(task(1), status="Task added")

    after = widgets.redraw(before, task(1), status="Task deleted", deleted=True)

    assert dump(after) == dump(widgets.task_card(task(1), status="Task deleted", deleted=True))


def test_add_row_puts_the_next_occurrence_after_its_task() -> None:
    before = widgets.task_list([task(1), task(2)])

    after = dump(widgets.add_row(before, task(9), after_id=1))

    assert [row["key"] for row in after["children"]] == ["task-1", "task-9", "task-2"]


def test_results_out_of_the_contracts_shape_show_no_widget() -> None:
    output = listing({"id": 1, "title": "buy milk"}, {"title": "no id"}, {"id": True, "title": "x"})

    assert widgets.widget_for_turn([("list_tasks", output)]) is None


def test_priority_shows_as_a_badge_only_when_it_is_not_the_default() -> None:
    assert "Medium" not in json.dumps(dump(widgets.task_card(task(priority="medium"))))
    high = json.dumps(dump(widgets.task_card(task(priority="high"))))
    assert '"label": "High", "color": "danger"' in high


def details_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    children: list[dict[str, Any]] = row["children"][0]["children"][1]["children"]
    return children


def test_a_row_shows_its_list_unless_inbox_its_repeat_in_words_and_open_subtasks() -> None:
    row = widgets.task_row(task(
        2, list="Groceries", recurrence="custom", repeat="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        repeat_text="every 2 weeks on Tue and Thu", open_subtasks=2,
    ))
    inbox = widgets.task_row(task(3, list="Inbox", open_subtasks=1))

    assert details_of(row) == [
        {"type": "Caption", "value": "Due 2025-06-02"},
        {"type": "Badge", "label": "Groceries", "color": "discovery", "variant": "soft"},
        {"type": "Caption", "value": "Repeats every 2 weeks on Tue and Thu"},
        {"type": "Caption", "value": "2 open subtasks"},
    ]
    assert details_of(inbox) == [
        {"type": "Caption", "value": "Due 2025-06-02"},
        {"type": "Caption", "value": "1 open subtask"},
    ]


def test_a_custom_rule_without_words_from_an_older_server_says_nothing_odd() -> None:
    assert details_of(widgets.task_row(task(recurrence="custom"))) == [
        {"type": "Caption", "value": "Due 2025-06-02"},
    ]
    assert widgets.repeat_label(task(recurrence="monthly")) == "Repeats monthly"


def test_a_rule_counted_from_completion_says_so() -> None:
    water = task(repeat="FREQ=DAILY;INTERVAL=3", repeat_text="every 3 days", recurrence="custom",
                 repeat_from="completion")
    assert widgets.repeat_label(water) == "Repeats every 3 days after it's done"


def subtask_line(task_id: int, title: str, *, done: bool = False) -> dict[str, Any]:
    text: dict[str, Any] = {"type": "Text", "value": title, "size": "sm"}
    toggle = button("Complete", "success", "solid", "task.complete", task_id)
    if done:
        text |= {"lineThrough": True, "color": "secondary"}
        toggle = button("Reopen", "secondary", "outline", "task.reopen", task_id)
    return {"type": "Row", "key": f"subtask-{task_id}", "gap": 2, "align": "center",
            "children": [{"type": "Box", "flex": 1, "children": [text]}, toggle]}


def packing() -> str:
    """get_task's output for a parent with one done and two open subtasks."""
    subtasks = [task(11, title="socks", completed=True), task(12, title="charger"),
                task(13, title="passport")]
    return json.dumps({**task(10, title="pack", list="Trip", open_subtasks=2),
                       "subtasks": subtasks})


def test_get_task_card_lists_subtasks_each_with_its_own_checkbox() -> None:
    card = dump(widgets.widget_for_turn([("get_task", packing())]))

    assert card["key"] == "task-10"
    details, block, buttons = card["children"][1:]
    assert details["children"] == [
        {"type": "Caption", "value": "Due 2025-06-02"},
        {"type": "Badge", "label": "Trip", "color": "discovery", "variant": "soft"},
    ]
    assert block == {"type": "Col", "key": "subtasks", "gap": 1, "children": [
        {"type": "Caption", "value": "2 of 3 subtasks open"},
        subtask_line(11, "socks", done=True),
        subtask_line(12, "charger"),
        subtask_line(13, "passport"),
    ]}
    assert [b["label"] for b in buttons["children"]] == ["Complete", "Delete"]


def test_completing_a_subtask_in_its_parents_card_redraws_its_line_and_the_count() -> None:
    card = widgets.widget_for_turn([("get_task", packing())])
    assert card is not None

    after = dump(widgets.redraw(card, task(12, title="charger", completed=True, parent_id=10),
                                status="Task completed"))

    assert after["key"] == "task-10" and after["status"] == dump(card)["status"]
    block = after["children"][2]
    assert block["children"][0] == {"type": "Caption", "value": "1 of 3 subtasks open"}
    assert block["children"][2] == subtask_line(12, "charger", done=True)
    assert block["children"][3] == subtask_line(13, "passport")


def test_a_parents_card_redrawn_after_its_own_change_keeps_its_subtasks() -> None:
    card = widgets.widget_for_turn([("get_task", packing())])
    assert card is not None

    after = dump(widgets.redraw(card, task(10, title="pack", list="Trip", open_subtasks=2),
                                status="Task updated"))

    assert after["status"] == {"text": "Task updated"}
    assert after["children"][1]["children"] == [
        {"type": "Caption", "value": "Due 2025-06-02"},
        {"type": "Badge", "label": "Trip", "color": "discovery", "variant": "soft"},
    ]
    assert after["children"][2]["children"][0]["value"] == "2 of 3 subtasks open"


def test_subtask_cards_are_valid_stored_widgets() -> None:
    card = widgets.widget_for_turn([("get_task", packing())])
    assert card is not None
    item = WidgetItem(id="w", thread_id="t", created_at=datetime(2025, 6, 1), widget=card)
    adapter: TypeAdapter[Any] = TypeAdapter(ThreadItem)

    stored = adapter.validate_json(item.model_dump_json())

    assert dump(stored.widget) == dump(card)
