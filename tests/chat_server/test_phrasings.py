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
