"""The offline model on everyday phrasings it was not written from (tests/chat_server/phrasings.py).

Run `python -m tests.chat_server.phrasings` to see each miss and the score by family.
"""

from tests.chat_server.phrasings import PHRASINGS, report, score

PASS_MARK = 0.95


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
    _, reply = chat.turn("undo")
    assert reply == "Undone. Restored “Dentist appointment” as task 21."
