"""The pure task rules: field validation, due parsing, recurrence dates, cursors."""

from datetime import UTC, datetime

import pytest

from mcp_server.task_rules import (
    InvalidTaskInput,
    clean_description,
    clean_recurrence,
    clean_tags,
    clean_title,
    decode_cursor,
    encode_cursor,
    next_due,
    parse_due,
    priority_rank,
)


def test_title_is_trimmed():
    assert clean_title("  Buy milk \n") == "Buy milk"


@pytest.mark.parametrize("title", ["", "   ", None])
def test_empty_title_is_refused(title):
    with pytest.raises(InvalidTaskInput, match="^title must not be empty$"):
        clean_title(title)


def test_title_of_200_characters_after_trimming_is_accepted():
    assert clean_title(" " + "x" * 200 + " ") == "x" * 200


def test_title_over_200_characters_is_refused_with_its_length():
    with pytest.raises(
        InvalidTaskInput, match=r"^title must be at most 200 characters \(got 201\)$"
    ):
        clean_title("x" * 201)


def test_blank_description_becomes_none():
    assert clean_description("   ") is None
    assert clean_description(None) is None
    assert clean_description(" notes ") == "notes"


def test_description_over_2000_characters_is_refused():
    assert clean_description("d" * 2000) == "d" * 2000
    with pytest.raises(
        InvalidTaskInput, match=r"^description must be at most 2000 characters \(got 2001\)$"
    ):
        clean_description("d" * 2001)


def test_tags_are_lowercased_stripped_of_hash_and_deduplicated_in_order():
    assert clean_tags(["#Home", "work", "home", " WORK ", "a_b-1"]) == ["home", "work", "a_b-1"]


def test_no_tags_is_an_empty_list():
    assert clean_tags(None) == []
    assert clean_tags([]) == []


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "tag '' is empty"),
        ("#", "tag '#' is empty"),
        ("two words", "tag 'two words' may only contain letters a-z, digits, '_' and '-'"),
        ("café", "tag 'café' may only contain letters a-z, digits, '_' and '-'"),
        ("a,b", "tag 'a,b' may only contain letters a-z, digits, '_' and '-'"),
        ("x" * 33, f"tag '{'x' * 33}' is longer than 32 characters"),
    ],
)
def test_bad_tag_is_refused_by_name(tag, message):
    with pytest.raises(InvalidTaskInput) as caught:
        clean_tags([tag])
    assert str(caught.value) == message


def test_tag_of_32_characters_is_accepted():
    assert clean_tags(["#" + "x" * 32]) == ["x" * 32]


def test_more_than_20_distinct_tags_are_refused():
    assert len(clean_tags([f"t{i}" for i in range(20)] + ["t0"])) == 20
    with pytest.raises(InvalidTaskInput, match=r"^a task can have at most 20 tags \(got 21\)$"):
        clean_tags([f"t{i}" for i in range(21)])


def test_priorities_rank_low_to_high():
    assert [priority_rank(p) for p in ("low", "medium", "high")] == [0, 1, 2]


def test_unknown_priority_is_refused():
    with pytest.raises(InvalidTaskInput) as caught:
        priority_rank("urgent")
    assert str(caught.value) == "priority must be one of low, medium, high (got 'urgent')"


def test_unknown_recurrence_is_refused():
    assert clean_recurrence("weekly") == "weekly"
    with pytest.raises(InvalidTaskInput) as caught:
        clean_recurrence("hourly")
    assert str(caught.value) == (
        "recurrence must be one of none, daily, weekly, monthly, yearly (got 'hourly')"
    )


def test_plain_date_is_midnight_utc_and_date_only():
    assert parse_due("2025-03-10") == (datetime(2025, 3, 10, tzinfo=UTC), True)


def test_zoned_date_time_is_converted_to_utc_whole_seconds():
    assert parse_due("2025-03-10T17:30:15.75+02:00") == (
        datetime(2025, 3, 10, 15, 30, 15, tzinfo=UTC),
        False,
    )
    assert parse_due("2025-03-10T17:30Z") == (datetime(2025, 3, 10, 17, 30, tzinfo=UTC), False)


@pytest.mark.parametrize("value", ["next blursday", "2025-13-01", "10/03/2025", ""])
def test_unparseable_due_is_refused_naming_the_value(value):
    with pytest.raises(InvalidTaskInput) as caught:
        parse_due(value)
    assert str(caught.value) == f"due: {value!r} is not an ISO 8601 date or date-time"


def test_due_without_time_zone_is_refused():
    with pytest.raises(InvalidTaskInput) as caught:
        parse_due("2025-03-10T17:00", "due_before")
    assert str(caught.value) == (
        "due_before: '2025-03-10T17:00' has no time zone; end it with Z or an offset like "
        "+02:00, or give a plain date"
    )


@pytest.mark.parametrize(
    ("due", "recurrence", "expected"),
    [
        (datetime(2025, 3, 10, 9, tzinfo=UTC), "daily", datetime(2025, 3, 11, 9, tzinfo=UTC)),
        (datetime(2025, 12, 31, tzinfo=UTC), "daily", datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2025, 3, 10, tzinfo=UTC), "weekly", datetime(2025, 3, 17, tzinfo=UTC)),
        (datetime(2025, 1, 15, tzinfo=UTC), "monthly", datetime(2025, 2, 15, tzinfo=UTC)),
        (datetime(2025, 1, 31, tzinfo=UTC), "monthly", datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), "monthly", datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2025, 3, 31, tzinfo=UTC), "monthly", datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2025, 12, 31, 8, tzinfo=UTC), "monthly", datetime(2026, 1, 31, 8, tzinfo=UTC)),
        (datetime(2025, 6, 1, tzinfo=UTC), "yearly", datetime(2026, 6, 1, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), "yearly", datetime(2025, 2, 28, tzinfo=UTC)),
    ],
)
def test_next_due_advances_one_interval_and_clamps_to_month_end(due, recurrence, expected):
    assert next_due(due, recurrence) == expected


def test_cursor_round_trips_its_position():
    cursor = encode_cursor("created", "desc", "2025-03-10T12:00:00Z", 42)
    assert decode_cursor(cursor, "created", "desc") == (
        datetime(2025, 3, 10, 12, tzinfo=UTC),
        42,
    )
    assert decode_cursor(encode_cursor("due", "asc", None, 7), "due", "asc") == (None, 7)
    assert decode_cursor(encode_cursor("title", "asc", "milk", 3), "title", "asc") == ("milk", 3)


def test_edited_cursor_is_refused():
    cursor = encode_cursor("priority", "asc", 1, 42)
    for tampered in (cursor[:-2], cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "x" + cursor):
        with pytest.raises(InvalidTaskInput) as caught:
            decode_cursor(tampered, "priority", "asc")
        assert str(caught.value) == (
            "cursor is invalid (changed or cut short?); start again without a cursor"
        )


@pytest.mark.parametrize("garbage", ["", "not a cursor!", "%%%", "AAAA"])
def test_garbage_cursor_is_refused(garbage):
    with pytest.raises(InvalidTaskInput, match="^cursor is invalid"):
        decode_cursor(garbage, "created", "asc")


def test_cursor_of_another_sort_is_refused():
    cursor = encode_cursor("created", "asc", "2025-03-10T12:00:00Z", 1)
    with pytest.raises(InvalidTaskInput) as caught:
        decode_cursor(cursor, "due", "desc")
    assert str(caught.value) == (
        "cursor belongs to sort=created order=asc, not sort=due order=desc; "
        "start again without a cursor"
    )
