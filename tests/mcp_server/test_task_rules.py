"""The pure task rules: field validation, due parsing, cursors (repeat rules: test_rrules.py)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from mcp_server.task_rules import (
    MAX_DUE,
    InvalidTaskInput,
    clean_description,
    clean_recurrence,
    clean_tags,
    clean_title,
    decode_cursor,
    encode_cursor,
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
    ("value", "field"),
    [
        ("9999-12-31T23:59:59-23:59", "due"),  # past year 9999 in UTC
        ("0001-01-01T00:00:00+14:00", "due"),  # before year 1 in UTC
        ("0001-01-01", "due_after"),
        ("1899-12-31", "due_before"),
        ("1899-12-31T23:59:59Z", "due"),
        ("9999-12-31", "due"),
        ("9999-12-31T00:00:00Z", "due"),
        ("9999-12-30T23:59:59-00:01", "due"),
    ],
)
def test_a_date_outside_the_supported_range_is_refused_naming_the_field(value, field):
    with pytest.raises(InvalidTaskInput) as caught:
        parse_due(value, field)
    assert str(caught.value) == (
        f"{field}: {value!r} is outside the supported range, 1900-01-01 to 9999-12-30 (UTC)"
    )


def test_the_ends_of_the_supported_range_are_accepted():
    assert parse_due("1900-01-01") == (datetime(1900, 1, 1, tzinfo=UTC), True)
    assert parse_due("9999-12-30") == (datetime(9999, 12, 30, tzinfo=UTC), True)
    assert parse_due("1900-01-01T01:00:00+01:00") == (datetime(1900, 1, 1, tzinfo=UTC), False)
    assert parse_due("9999-12-30T23:59:59.999Z") == (MAX_DUE, False)


SECRET = b"test-cursor-secret-" + b"s" * 20
CURSOR_INVALID = "cursor is invalid (changed or cut short?); start again without a cursor"


def signed(payload: bytes, secret: bytes = SECRET) -> str:
    """A cursor around `payload`, signed as the deployment with `secret` signs its own."""
    check = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(check + payload).rstrip(b"=").decode()


def test_cursor_round_trips_its_position():
    cursor = encode_cursor(SECRET, "created", "desc", "2025-03-10T12:00:00Z", 42)
    assert decode_cursor(SECRET, cursor, "created", "desc") == (
        datetime(2025, 3, 10, 12, tzinfo=UTC),
        42,
    )
    assert decode_cursor(SECRET, encode_cursor(SECRET, "due", "asc", None, 7), "due", "asc") == (
        None,
        7,
    )
    title = encode_cursor(SECRET, "title", "asc", "milk ☕", 3)
    assert decode_cursor(SECRET, title, "title", "asc") == ("milk ☕", 3)
    assert signed(b'["title","asc","milk \xe2\x98\x95",3]') == title


def test_edited_cursor_is_refused():
    cursor = encode_cursor(SECRET, "priority", "asc", 1, 42)
    for tampered in (cursor[:-2], cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "x" + cursor):
        with pytest.raises(InvalidTaskInput) as caught:
            decode_cursor(SECRET, tampered, "priority", "asc")
        assert str(caught.value) == CURSOR_INVALID


def test_cursor_signed_with_another_secret_is_refused():
    cursor = encode_cursor(b"another-deployment-" + b"x" * 20, "priority", "asc", 1, 42)
    with pytest.raises(InvalidTaskInput) as caught:
        decode_cursor(SECRET, cursor, "priority", "asc")
    assert str(caught.value) == CURSOR_INVALID


@pytest.mark.parametrize("garbage", ["", "not a cursor!", "%%%", "AAAA", "é" * 8, "A" * 4097])
def test_garbage_cursor_is_refused(garbage):
    with pytest.raises(InvalidTaskInput, match="^cursor is invalid"):
        decode_cursor(SECRET, garbage, "created", "asc")


def test_cursor_of_another_sort_is_refused():
    cursor = encode_cursor(SECRET, "created", "asc", "2025-03-10T12:00:00Z", 1)
    with pytest.raises(InvalidTaskInput) as caught:
        decode_cursor(SECRET, cursor, "due", "desc")
    assert str(caught.value) == (
        "cursor belongs to sort=created order=asc, not sort=due order=desc; "
        "start again without a cursor"
    )


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        ("created", b'{"sort":"created"}'),
        ("created", b'["created","asc","2025-03-10T12:00:00Z"]'),
        ("created", b'["created","asc","2025-03-10T12:00:00Z",1,2]'),
        ("created", b'[["created"],"asc","2025-03-10T12:00:00Z",1]'),
        ("created", b'["created","asc",["2025-03-10T12:00:00Z"],1]'),
        ("created", b'["created","asc",{"k":1},1]'),
        ("created", b'["created","asc",20250310,1]'),
        ("created", b'["created","asc","yesterday",1]'),
        ("created", b'["created","asc","2025-03-10T12:00:00",1]'),  # no zone
        ("created", b'["created","asc",null,1]'),
        ("created", b'["created","asc","9999-12-31T23:59:59-23:59",1]'),  # past year 9999
        ("due", b'["due","asc","0001-01-01T00:00:00+14:00",1]'),  # before year 1
        ("due", b'["due","asc","2025-03-10T12:00:00Z",true]'),
        ("due", b'["due","asc","2025-03-10T12:00:00Z",1.0]'),
        ("due", b'["due","asc","2025-03-10T12:00:00Z",0]'),
        ("due", b'["due","asc","2025-03-10T12:00:00Z",-5]'),
        ("due", b'["due","asc","2025-03-10T12:00:00Z",2147483648]'),
        ("due", b'["due","asc","2025-03-10T12:00:00Z",' + b"9" * 5000 + b"]"),
        ("due", b'["due","asc","2025-03-10T12:00:00Z","7"]'),
        ("priority", b'["priority","asc","1",1]'),
        ("priority", b'["priority","asc",true,1]'),
        ("priority", b'["priority","asc",3,1]'),
        ("priority", b'["priority","asc",1e400,1]'),
        ("title", b'["title","asc",7,1]'),
        ("title", rb'["title","asc","nul\u0000",1]'),
        ("title", rb'["title","asc","\ud800",1]'),  # a lone surrogate
        ("title", b'["title","asc","' + b"x" * 401 + b'",1]'),
        ("title", b'["title","asc",NaN,1]'),
        ("title", b"[" * 3000 + b"]" * 3000),
        ("title", b"\xff\xfe not UTF-8"),
        ("title", b'["Title","asc","milk",1]'),
    ],
)
def test_a_signed_cursor_holding_the_wrong_types_is_refused(sort, payload):
    with pytest.raises(InvalidTaskInput) as caught:
        decode_cursor(SECRET, signed(payload), sort, "asc")
    assert str(caught.value) == CURSOR_INVALID
