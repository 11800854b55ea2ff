"""IANA time zone names: the one rule both processes read a zone name by.

The chat server reads a name from a client's X-Timezone header, TASKCHAT_TIMEZONE and the
machine's TZ (chat_server/agent/zones.py); the task server from a list query's `timezone`
argument (mcp_server/task_rules.py). Each turns `UnknownZone` into its own answer: a
header falls back, a setting refuses, a tool argument is an invalid-input error.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_ZONE_CHARS = 64  # the longest IANA names are about 30 characters


class UnknownZone(ValueError):
    """A name that is no IANA time zone (or too long to be one)."""

    def __init__(self, name: object) -> None:
        super().__init__(f"{name!r} is not an IANA time zone name like Europe/Paris")
        self.name = name


def zone_named(name: object) -> ZoneInfo:
    """The IANA zone `name` (Europe/Paris, UTC), else UnknownZone."""
    if not isinstance(name, str) or not name or len(name) > MAX_ZONE_CHARS:
        raise UnknownZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: not a zone key at all ("../etc", "a\0b"); OSError: a directory name
        # ("America").
        raise UnknownZone(name) from None
