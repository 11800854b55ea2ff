"""The one rule for IANA time zone names, which both servers read a zone name by."""

from zoneinfo import ZoneInfo

import pytest

from shared.zones import MAX_ZONE_CHARS, UnknownZone, zone_named


@pytest.mark.parametrize("name", ["Europe/Paris", "Asia/Tokyo", "UTC", "America/Argentina/Salta"])
def test_an_iana_name_is_its_zone(name: str) -> None:
    assert zone_named(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus", "../etc/passwd", "/etc/localtime", "America", "a\0b", "", " ", None, 3,
     "x" * (MAX_ZONE_CHARS + 1)],
)  # fmt: skip
def test_anything_else_is_an_unknown_zone_that_says_what_was_wrong(name: object) -> None:
    with pytest.raises(UnknownZone) as refused:
        zone_named(name)
    assert str(refused.value) == f"{name!r} is not an IANA time zone name like Europe/Paris"
    assert isinstance(refused.value, ValueError)
