"""Who a tool call acts for: bearer-token verification and the acting user of each call.

Local mode (neither JWT_SECRET nor OAUTH_ISSUER): no authentication, every call acts for
the local user. With tokens: a user token (an HS256 JWT, or in OAuth mode an access token
of OAUTH_ISSUER) acts for its `sub`, always, whatever the call's `_meta` says. The service
token (the chat backend) acts for the user named in `_meta["taskchat/user_id"]` of each
call, and is refused without one. OAuth tokens act only within their scopes.
"""

import hmac
from collections.abc import Mapping
from typing import Any

import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from mcp_server.errors import Refused
from mcp_server.oauth import SCOPES, OAuthTokens, missing_scope, scope_problem
from shared.auth import AuthError, check_user_id, verify_jwt
from shared.contract import USER_META_KEY, ErrorCode
from shared.settings import McpSettings

SERVICE_CLIENT = "taskchat-service"
USER_CLIENT = "taskchat-user"


class TaskchatTokenVerifier:
    """Accepts the service token, user JWTs and (in OAuth mode) the issuer's access tokens."""

    def __init__(self, settings: McpSettings) -> None:
        self.settings = settings
        self._service_token = (settings.mcp_service_token or "").encode()
        self.oauth = OAuthTokens(settings) if settings.oauth_issuer else None

    async def verify_token(self, token: str) -> AccessToken | None:
        """An AccessToken for a valid token, else None (the transport answers 401)."""
        try:
            return await self.check(token)
        except AuthError:
            return None

    async def check(self, token: str) -> AccessToken:
        """An AccessToken for a valid token, else AuthError saying what is wrong with it."""
        if self._service_token and hmac.compare_digest(token.encode(), self._service_token):
            return AccessToken(token=token, client_id=SERVICE_CLIENT, scopes=list(SCOPES))
        if self.oauth is not None:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise AuthError("invalid token: not a JWT") from None
            # HS256 tokens of JWT_SECRET keep working beside the issuer's, when both are set.
            if not (self.settings.jwt_secret and header.get("alg") == self.settings.jwt_algorithm):
                return await self.oauth.verify(token, header)
        principal = verify_jwt(token, self.settings)
        # These tokens carry no scopes: they may do everything their user may.
        return AccessToken(
            token=token, client_id=USER_CLIENT, scopes=list(SCOPES), subject=principal.user_id
        )


class CallerIdentity:
    """Resolves the user every query of a tool call is scoped to."""

    def __init__(self, settings: McpSettings) -> None:
        self.settings = settings

    def user_id(self, ctx: Context, scope: str) -> str:
        """The acting user of a call that needs `scope`, or a ToolError saying why there is none."""
        if self.settings.mcp_local_mode:
            return self.settings.local_user_id
        token = get_access_token()
        if token is None:
            # Unreachable over HTTP (the transport answers 401 first); kept for in-process use.
            raise Refused("not authenticated: send a bearer token", ErrorCode.UNAUTHORIZED)
        if (missing := missing_scope(token.scopes, scope)) is not None:
            # Over HTTP the edge answers 403 first (scopes.py); this is for other transports.
            raise Refused(
                f"insufficient_scope: {scope_problem(missing, token.scopes)}",
                ErrorCode.UNAUTHORIZED,
            )
        if token.client_id != SERVICE_CLIENT:
            # A user token acts for its own subject; `_meta` can never change that.
            return str(token.subject)
        meta: Mapping[str, Any] = ctx.request_context.meta or {}
        if USER_META_KEY not in meta:
            raise Refused(
                f"the service token acts for a user: name them in _meta[{USER_META_KEY!r}]",
                ErrorCode.UNAUTHORIZED,
            )
        try:
            return check_user_id(meta[USER_META_KEY])
        except AuthError as exc:
            raise Refused(f"_meta[{USER_META_KEY!r}]: {exc}", ErrorCode.INVALID_INPUT) from None
