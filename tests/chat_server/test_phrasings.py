"""The offline model on everyday phrasings it was not written from (tests/chat_server/phrasings.py).

Run `python -m tests.chat_server.phrasings` to see each miss and the score by family.
"""

from typing import Any

from tests.chat_server.phrasings import PHRASINGS, report, score

PASS_MARK = 0.95
# What each retired held-out set reached when it joined the dev set: 07b 213/242, 07c
# 176/201 (first read at 153/201, 13 wrong changes), 07d 163/202 (first read at 153/202,
# 15 wrong changes), 07e 146/204 (first read at 137/204, 16 wrong changes).
RETIRED_MARKS = {"b-": 0.88, "c-": 0.87, "d-": 0.80, "e-": 0.71}


def test_at_least_95_percent_of_everyday_phrasings_do_the_right_thing_and_none_is_dangerous():
    by_family, results = score()
    print(report(by_family))
    dangerous = [r.phrasing.text for r in results if r.dangerous]
    assert dangerous == []
    passed = sum(r.passed for r in results)
    assert passed / len(results) >= PASS_MARK, report(by_family)


def test_the_phrasing_set_has_at_least_100_phrasings_in_every_family_of_the_issue():
    families = {p.family for p in PHRASINGS}
    assert len(PHRASINGS) >= 100
    assert families == {
        "add",
        "priority",
        "tags",
        "complete",
        "delete",
        "several",
        "shifts",
        "undo",
        "typos",
        "unclear",
        "questions",
        "multi",
        "followups",
        "everyday",
    }


def test_answering_which_one_after_a_typo_picks_from_the_close_titles_offered():
    from tests.chat_server.phrasings import Chat

    chat = Chat()
    _, asked = chat.turn("complete meting")
    assert "#10 Team meeting" in asked and "#11 Meeting notes" in asked
    calls, reply = chat.turn("the second one")
    assert [(c.name, c.args) for c in calls] == [("complete_task", {"task_id": 11})]
    assert reply == "Marked task 11 as done: Meeting notes."


def test_undo_says_what_it_restored():
    from tests.chat_server.phrasings import Chat

    chat = Chat()
    chat.turn("delete task 7")
    calls, reply = chat.turn("undo")
    # The same task under its own id (restore_task), not a copy with a new one.
    assert [(c.name, c.args) for c in calls] == [("restore_task", {"task_id": 7})]
    assert reply == "Undone. Restored task 7 (Dentist appointment) as it was."
    calls, reply = chat.turn("undo")  # the restore is undone in turn
    assert [(c.name, c.args) for c in calls] == [("delete_task", {"task_id": 7})]


def test_a_past_tense_that_does_not_lead_the_only_match_asks_before_completing():
    from tests.chat_server.phrasings import Chat

    for said, task_id, title in [
        ("I sold the car", 8, "Car wash"),
        ("I emailed the plumber", 2, "Call the plumber"),
        ("I bought a dog", 3, "Walk the dog"),
    ]:
        chat = Chat()
        calls, asked = chat.turn(said)
        assert [c.name for c in calls] == ["list_tasks"], said
        assert f"#{task_id} {title}" in asked and asked.endswith(f"like “{task_id}”."), asked
        calls, reply = chat.turn(str(task_id))  # the user says yes, that one
        assert [(c.name, c.args) for c in calls] == [("complete_task", {"task_id": task_id})]


def test_done_words_complete_the_task_the_words_name_and_missed_completes_nothing():
    from tests.chat_server.phrasings import Chat

    calls, _ = Chat().turn("I finished the slides")
    assert [(c.name, c.args) for c in calls][-1] == ("complete_task", {"task_id": 6})
    for said in ("I missed the dentist appointment", "I postponed the car wash"):
        calls, _ = Chat().turn(said)
        assert not [c for c in calls if c.name == "complete_task"], said


def test_a_days_possessive_is_a_date_not_a_tag():
    from tests.chat_server.phrasings import Chat

    for said in ("show today's tasks", "move all of today's tasks to tomorrow"):
        calls, _ = Chat().turn(said)
        [listed] = [c.args for c in calls]
        assert "tag" not in listed and "search" not in listed, said
        assert (listed["due_after"], listed["due_before"]) == ("2026-11-26", "2026-11-26")


def test_undo_puts_back_a_change_made_by_number_to_a_task_the_chat_had_not_seen():
    from tests.chat_server.phrasings import Chat

    chat = Chat()
    calls, _ = chat.turn("set task 8 priority to high")
    assert [c.name for c in calls] == ["get_task", "update_task"]  # read first, for undo
    calls, reply = chat.turn("undo")
    assert [(c.name, c.args) for c in calls] == [
        ("update_task", {"task_id": 8, "priority": "medium"})
    ]
    assert reply == "Undone. Task 8 is back as it was: Car wash."


def test_listed_items_keep_their_own_dates_and_a_tag_it_segment_is_a_tag():
    from tests.chat_server.phrasings import Chat, as_singles

    cases = {
        "add buy milk monday, call mom tomorrow": [
            {"title": "Buy milk", "due": "2026-11-30"},
            {"title": "Call mom", "due": "2026-11-27"},
        ],
        "add milk, eggs and bread tomorrow": [
            {"title": title, "due": "2026-11-27"} for title in ("Milk", "Eggs", "Bread")
        ],
        "add call mom, tag it family": [{"title": "Call mom", "tags": ["family"]}],
        "add file taxes!!!": [{"title": "File taxes", "priority": "high"}],
    }
    for said, added in cases.items():
        calls, _ = Chat().turn(said)
        assert [c.args for c in as_singles(calls)] == added, said


def test_every_development_conversation_does_what_it_asks_and_changes_nothing_else():
    """The retired held-out conversations (and the new families), judged as the scorer judges."""
    from tests.chat_server.phrasings import conversation_report, dev_cases, run_case

    data, cases = dev_cases()
    results = [run_case(case, data) for case in cases]
    report = conversation_report(results)
    assert sum(len(r.verdict.wrong) for r in results) == 0, report
    # The sets retired on 2026-12-07b (ids "b-...", first read at 81%), 07c ("c-...", 76%)
    # and 07d ("d-...", 76%) hold what they reach when retired; the rest stays at the usual
    # mark. No case of any of them may make a wrong change.
    for prefix, mark in RETIRED_MARKS.items():
        retired = [r for r in results if r.case["id"].startswith(prefix)]
        assert sum(r.verdict.passed for r in retired) / len(retired) >= mark, (prefix, report)
    tuned = [r for r in results if not r.case["id"].startswith(tuple(RETIRED_MARKS))]
    assert sum(r.verdict.passed for r in tuned) / len(tuned) >= PASS_MARK, report


def _writes(chat: Any, said: str) -> list[tuple[str, dict[str, Any]]]:
    calls, _ = chat.turn(said)
    return [(c.name, c.args) for c in calls if c.name not in {"list_tasks", "get_task"}]


def test_sentences_read_only_in_part_change_nothing():
    """Issue 19: news of a change, a sign-off, a day relative to a task's own due date."""
    from tests.chat_server.phrasings import Chat

    for said in (
        "good night, talk tomorrow",
        "roadmap deadline moved to 4pm",
        "the login bug isn't high priority after all",
        "remind me about the insurance at 9am the day it's due",
    ):
        assert _writes(Chat(), said) == [], said


def test_an_add_keeps_its_correction_and_its_reminder_out_of_the_list_of_tasks():
    from tests.chat_server.phrasings import Chat

    gas = _writes(Chat(), "add call the gas company, but not today - tomorrow")
    assert gas == [("add_task", {"title": "Call the gas company", "due": "2026-11-27"})]
    vet = _writes(Chat(), "remind me to call the vet tmrw at 10am, 15 min before")
    assert [(name, args["title"], args["reminders"]) for name, args in vet] == [
        ("add_task", "Call the vet", [{"before": "PT15M"}])
    ]


def test_a_new_task_with_subtasks_is_added_then_its_steps_under_it():
    from tests.chat_server.phrasings import Chat

    chat = Chat()
    calls = _writes(chat, "add plan garden party with subtasks buy charcoal, invite neighbours")
    assert calls[0] == ("add_task", {"title": "Plan garden party"})
    (parent,) = [
        i for i, t in chat.task_list.all_tasks().items() if t["title"] == "Plan garden party"
    ]
    steps = [
        {"title": "Buy charcoal", "parent_id": parent},
        {"title": "Invite neighbours", "parent_id": parent},
    ]
    assert calls[1:] == [("add_tasks", {"items": steps})]


def test_follow_ups_change_the_task_just_added_as_said():
    from tests.chat_server.phrasings import Chat

    chat = Chat()
    chat.turn("add pick up Zoe from school at 3pm tomorrow")
    (update,) = _writes(chat, "change it to 3:30")
    assert update[1]["due"].startswith("2026-11-27T15:30")
    chat.turn("add order new glasses")
    (update,) = _writes(chat, "it's due monday btw")
    assert update[0] == "update_task" and update[1]["due"] == "2026-11-30"
    chat.turn("add chase the invoice")
    (update,) = _writes(chat, "put that in the Work list and make it urgent")
    assert {k: update[1][k] for k in ("list", "priority")} == {"list": "Work", "priority": "high"}
    chat.turn("mark buy milk done")
    assert _writes(chat, "wait, wrong one, undo that") == [
        ("complete_task", {"task_id": 1, "completed": False})
    ]
