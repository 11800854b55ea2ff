"""Who a tool call acts for: bearer-token verification and the acting user of each call.

Local mode (no JWT_SECRET): no authentication, every call acts for the local user.
JWT mode: a user JWT acts for its `sub`, always, whatever the call's `_meta` says. The
service token (the chat backend) acts for the user named in `_meta["taskchat/user_id"]`
of each call, and is refused without one.
"""

import hmac
from collections.abc import Mapping
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from shared.auth import AuthError, check_user_id, verify_jwt
from shared.contract import USER_META_KEY
from shared.settings import Settings

SERVICE_CLIENT = "taskchat-service"
USER_CLIENT = "taskchat-user"


class TaskchatTokenVerifier:
    """Accepts user JWTs and the service token; anything else is refused (HTTP 401)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service_token = (settings.mcp_service_token or "").encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        """An AccessToken for a valid token, else None (the transport answers 401)."""
        if self._service_token and hmac.compare_digest(token.encode(), self._service_token):
            return AccessToken(token=token, client_id=SERVICE_CLIENT, scopes=[])
        try:
            principal = verify_jwt(token, self.settings)
        except AuthError:
            return None
        return AccessToken(token=token, client_id=USER_CLIENT, scopes=[], subject=principal.user_id)


class CallerIdentity:
    """Resolves the user every query of a tool call is scoped to."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def user_id(self, ctx: Context) -> str:
        """The acting user of this call, or a ToolError saying why there is none."""
        if self.settings.local_mode:
            return self.settings.local_user_id
        token = get_access_token()
        if token is None:
            # Unreachable over HTTP (the transport answers 401 first); kept for in-process use.
            raise ToolError("not authenticated: send a bearer token")
        if token.client_id != SERVICE_CLIENT:
            # A user token acts for its own subject; `_meta` can never change that.
            return str(token.subject)
        meta: Mapping[str, Any] = ctx.request_context.meta or {}
        if USER_META_KEY not in meta:
            raise ToolError(
                f"the service token acts for a user: name them in _meta[{USER_META_KEY!r}]"
            )
        try:
            return check_user_id(meta[USER_META_KEY])
        except AuthError as exc:
            raise ToolError(f"_meta[{USER_META_KEY!r}]: {exc}") from None
