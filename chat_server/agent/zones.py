"""The user's time zone for one request: the client's X-Timezone header when it names a
real IANA zone, else TASKCHAT_TIMEZONE, else the server's own zone.

The zone travels in a context variable set at the HTTP edge: the agent run (and the model
it calls) runs inside that request's context, and the Agents SDK passes a model nothing
of the request itself.
"""

import contextlib
import os
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfoNotFoundError

import tzlocal

from shared.zones import UnknownZone, zone_named

HEADER = "X-Timezone"
REQUEST_ZONE: ContextVar[tzinfo | None] = ContextVar("request_zone", default=None)


def local_zone(name: str | None) -> tzinfo:
    """The IANA zone `name`, else the machine's zone (DST-aware when it can be read)."""
    if name:
        return zone_named(name)
    # The machine's zone (`TZ` when set, as for time.localtime, else the system's) by its
    # IANA name, so it can be named to the task server; a ZoneInfo keeps DST rules, unlike
    # the fixed offset datetime.astimezone() reports.
    system = os.environ.get("TZ", "").lstrip(":")
    if system:
        with contextlib.suppress(UnknownZone):
            return zone_named(system)
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError, LookupError):
        return tzlocal.get_localzone()
    return datetime.now().astimezone().tzinfo or UTC


def zone_from_header(value: str | None) -> tzinfo | None:
    """The IANA zone a header names, or None for none, an unknown name or a malformed one."""
    with contextlib.suppress(UnknownZone):
        return zone_named((value or "").strip())
    return None


def user_zone(fallback: tzinfo) -> tzinfo:
    """This request's zone, or `fallback` (TASKCHAT_TIMEZONE or the server's zone)."""
    return REQUEST_ZONE.get() or fallback
