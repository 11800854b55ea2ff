"""App passwords for CalDAV clients: made (shown once) and revoked by their owner.

`POST /api/app-passwords` answers the username, a new password and the CalDAV address;
only a digest of the password is kept, so it cannot be shown again. `DELETE
/api/app-passwords/{id}` signs that client out at its next request.
"""

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from chat_server.caldav import tables
from chat_server.caldav.server import PREFIX
from chat_server.web.calendar import in_database
from chat_server.web.deps import PanelUser

router = APIRouter()

# 192 random bits, URL-safe: 32 characters a person can still type into a phone.
PASSWORD_BYTES = 24


@router.post("/api/app-passwords")
async def new_app_password(request: Request, user: PanelUser) -> dict[str, Any]:
    """A new app password for one CalDAV client (shown this once)."""
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    password_id = await in_database(
        request, tables.add_password, user_id=user.user_id, password=password,
        now=datetime.now(UTC),
    )  # fmt: skip
    url = f"{str(request.base_url).rstrip('/')}{PREFIX}/"
    return {"id": password_id, "username": user.user_id, "password": password, "url": url}


@router.get("/api/app-passwords")
async def app_passwords(request: Request, user: PanelUser) -> dict[str, Any]:
    """The user's app passwords: ids and dates only."""
    found = await in_database(request, tables.list_passwords, user_id=user.user_id)
    return {"app_passwords": found}


@router.delete("/api/app-passwords/{password_id}")
async def revoke_app_password(
    password_id: int, request: Request, user: PanelUser
) -> dict[str, bool]:
    """Revoke one app password: its client is refused from its next request on."""
    gone = await in_database(
        request, tables.revoke_password, user_id=user.user_id, password_id=password_id
    )
    if not gone:
        raise HTTPException(404, "no app password with this id")
    return {"revoked": True}
