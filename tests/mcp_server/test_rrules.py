"""The repeat rules: the RRULE subset, its words, and next occurrences (DST included)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_server import rrules
from mcp_server.rrules import RuleError, canonical, following, in_words, legacy_rule, plain_name

BERLIN = ZoneInfo("Europe/Berlin")


def nexts(rule: str, start: datetime, count: int, zone=UTC) -> list[datetime]:
    found, rule = [], canonical(rule)
    for _ in range(count):
        step = following(rule, start, zone)
        if step is None:
            break
        start, rule = step
        found.append(start)
    return found


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        # every weekday, from a Friday
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", datetime(2025, 3, 7, 9),
         [datetime(2025, 3, 10, 9), datetime(2025, 3, 11, 9), datetime(2025, 3, 12, 9)]),
        # every 2 weeks on Tue and Thu, from a Tuesday
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", datetime(2025, 3, 11),
         [datetime(2025, 3, 13), datetime(2025, 3, 25), datetime(2025, 3, 27)]),
        # last Friday of the month
        ("FREQ=MONTHLY;BYDAY=-1FR", datetime(2025, 1, 31),
         [datetime(2025, 2, 28), datetime(2025, 3, 28), datetime(2025, 4, 25)]),
        # every 3 months on the 1st
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", datetime(2025, 1, 1),
         [datetime(2025, 4, 1), datetime(2025, 7, 1), datetime(2025, 10, 1)]),
        # yearly on Dec 24
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", datetime(2025, 12, 24),
         [datetime(2026, 12, 24), datetime(2027, 12, 24)]),
        # a start that does not fit the rule: the rule continues from it
        ("FREQ=WEEKLY;BYDAY=TU,TH", datetime(2025, 3, 10), [datetime(2025, 3, 11)]),
        # monthly from the 31st falls back to the month's last day
        ("FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1", datetime(2025, 1, 31),
         [datetime(2025, 2, 28), datetime(2025, 3, 31), datetime(2025, 4, 30)]),
    ],
)  # fmt: skip
def test_each_rule_family_gives_its_next_occurrences(rule, start, expected):
    assert nexts(rule, start, len(expected)) == expected


def test_count_counts_the_occurrences_left_and_ends_the_series():
    assert following("FREQ=DAILY;COUNT=3", datetime(2025, 3, 1), UTC) == (
        datetime(2025, 3, 2), "FREQ=DAILY;COUNT=2"
    )  # fmt: skip
    assert following("FREQ=DAILY;COUNT=1", datetime(2025, 3, 1), UTC) is None
    assert nexts("FREQ=DAILY;COUNT=3", datetime(2025, 3, 1), 5) == [
        datetime(2025, 3, 2), datetime(2025, 3, 3)
    ]  # fmt: skip


def test_until_includes_its_whole_day_and_ends_the_series():
    assert nexts("FREQ=DAILY;UNTIL=20250303", datetime(2025, 3, 1, 9), 5) == [
        datetime(2025, 3, 2, 9), datetime(2025, 3, 3, 9)
    ]  # fmt: skip


def test_a_utc_until_is_read_in_the_tasks_zone():
    # 07:00Z is 09:00 in Berlin on 30 March (summer time): that occurrence is the last.
    assert nexts("FREQ=DAILY;UNTIL=20250330T070000Z", datetime(2025, 3, 28, 9), 5, BERLIN) == [
        datetime(2025, 3, 29, 9), datetime(2025, 3, 30, 9)
    ]  # fmt: skip


def test_a_daily_nine_oclock_task_in_berlin_stays_at_nine_across_the_march_change():
    local = nexts("FREQ=DAILY", datetime(2025, 3, 29, 9), 2, BERLIN)
    utc = [moment.replace(tzinfo=BERLIN).astimezone(UTC) for moment in local]
    assert [moment.hour for moment in local] == [9, 9]
    assert utc == [datetime(2025, 3, 30, 7, tzinfo=UTC), datetime(2025, 3, 31, 7, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=HOURLY", "FREQ=HOURLY is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported with FREQ=DAILY"),
        ("FREQ=DAILY;COLOUR=RED", "unknown part 'COLOUR'"),
        ("INTERVAL=2", "FREQ is missing (DAILY, WEEKLY, MONTHLY or YEARLY)"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1 to 1000"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20250101", "give COUNT or UNTIL, not both"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY: 'XX' is not a day like MO, TU or -1FR"),
        ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY: 1MO has a position, which only MONTHLY and YEARLY allow"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY: '40' must be numbers from -31 to 31, not 0"),
        ("FREQ=DAILY;UNTIL=tomorrow",
         "UNTIL: 'TOMORROW' is not a date like 20251231 or a time like 20251231T170000Z"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
    ],
)  # fmt: skip
def test_rules_outside_the_subset_are_refused_by_name(rule, message):
    with pytest.raises(RuleError) as refused:
        canonical(rule)
    assert str(refused.value) == message


def test_a_rule_that_never_gives_an_occurrence_is_refused():
    for rule in ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;UNTIL=20240101"):
        with pytest.raises(RuleError, match="^it never gives an occurrence"):
            rrules.check_produces(canonical(rule), datetime(2025, 1, 1), UTC)


def test_canonical_form_is_upper_case_ordered_and_drops_defaults():
    assert canonical(" rrule:byday=TU,TH;interval=2;freq=weekly;wkst=MO ") == (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"
    )
    assert canonical("FREQ=DAILY;INTERVAL=1") == "FREQ=DAILY"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "every 2 weeks on Tue and Thu"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "every month on the last Fri"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", "every 3 months on the 1st"),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "every year on Dec 24"),
        ("FREQ=DAILY;INTERVAL=3", "every 3 days"),
        ("FREQ=DAILY;COUNT=3", "every day, 3 times including this one"),
        ("FREQ=WEEKLY;UNTIL=20250601", "every week, until 2025-06-01"),
        ("FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1",
         "every month on the 31st (or the month's last day)"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "every month on the last weekday"),
    ],
)  # fmt: skip
def test_rules_read_as_plain_words(rule, words):
    assert in_words(canonical(rule)) == words


def test_old_recurrence_names_map_to_rules_and_back():
    assert legacy_rule("daily", None) == "FREQ=DAILY"
    assert legacy_rule("monthly", date(2025, 1, 15)) == "FREQ=MONTHLY"
    assert legacy_rule("monthly", date(2025, 1, 31)) == "FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1"
    assert legacy_rule("yearly", date(2024, 2, 29)) == (
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1"
    )
    assert legacy_rule("none", None) is None
    assert [plain_name(r) for r in (None, "FREQ=WEEKLY", "FREQ=MONTHLY;BYMONTHDAY=30,-1;BYSETPOS=1",
                                    "FREQ=WEEKLY;BYDAY=MO")] == [
        "none", "weekly", "monthly", "custom"
    ]  # fmt: skip
