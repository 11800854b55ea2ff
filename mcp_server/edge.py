"""The HTTP edge around /mcp: OAuth metadata, 401 challenges that say why, and CORS.

The mcp SDK does the bearer check itself (its AuthenticationMiddleware and
RequireAuthMiddleware, fed by our token verifier). Its 401 always says "Authentication
required", so a client cannot tell an expired token from a missing one: the challenge
middleware here asks the verifier what was wrong and says so in `WWW-Authenticate`
(RFC 6750 section 3), with `resource_metadata` (RFC 9728) in OAuth mode.
"""

import json

from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server.auth import TaskchatTokenVerifier
from mcp_server.oauth import SCOPES
from shared.auth import AuthError
from shared.settings import McpSettings

METADATA_ROOT = "/.well-known/oauth-protected-resource"
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Mcp-Protocol-Version", "Last-Event-ID"]
CORS_EXPOSE_HEADERS = ["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"]


def auth_settings(settings: McpSettings) -> AuthSettings:
    """The SDK's auth settings: OAuth resource server mode, or the bearer check alone."""
    if settings.oauth_issuer and settings.mcp_resource_url:
        return AuthSettings(
            issuer_url=settings.oauth_issuer,  # type: ignore[arg-type]
            resource_server_url=settings.mcp_resource_url,  # type: ignore[arg-type]
            # The verifier checks the audience itself, against both spellings of the URL.
            validate_token_resource=False,
        )
    # HS256 mode: no OAuth routes and no resource metadata, so this issuer URL (required by
    # the SDK) is never published.
    return AuthSettings(issuer_url="http://localhost", resource_server_url=None)  # type: ignore[arg-type]


def resource_metadata_url(settings: McpSettings) -> str | None:
    """Where this server's protected resource metadata is, in OAuth mode."""
    resource = auth_settings(settings).resource_server_url
    return None if resource is None else str(build_resource_metadata_url(resource))


def metadata_routes(settings: McpSettings) -> list[Route]:
    """RFC 9728 metadata at the resource's own well-known path and at the root one."""
    # AuthSettings parses the URLs without adding a trailing slash to an empty path.
    auth = auth_settings(settings)
    assert auth.resource_server_url is not None
    [route] = create_protected_resource_routes(
        resource_url=auth.resource_server_url,
        authorization_servers=[auth.issuer_url],
        scopes_supported=list(SCOPES),
        resource_name="taskchat tasks",
    )
    if route.path == METADATA_ROOT:
        return [route]
    return [route, Route(METADATA_ROOT, endpoint=route.endpoint, methods=["GET", "OPTIONS"])]


class BearerChallenge:
    """Rewrites the SDK's 401 so it says what was wrong with the token that was sent."""

    def __init__(
        self, app: ASGIApp, verifier: TaskchatTokenVerifier, metadata_url: str | None
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.metadata_url = metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _bearer_token(Headers(scope=scope))
        replaced = False

        async def challenging_send(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 401:
                replaced = True
                start, body = await self._challenge(message, token)
                await send(start)
                await send({"type": "http.response.body", "body": body})
            elif not (replaced and message["type"] == "http.response.body"):
                await send(message)

        await self.app(scope, receive, challenging_send)

    async def _challenge(self, start: Message, token: str | None) -> tuple[Message, bytes]:
        params = []
        if token is None:
            # RFC 6750 section 3.1: no error code when the request carried no token.
            body = {"error": "invalid_token", "error_description": "authentication required"}
        else:
            reason = await self._reason(token)
            params = ['error="invalid_token"', f'error_description="{_quotable(reason)}"']
            body = {"error": "invalid_token", "error_description": reason}
        if self.metadata_url:
            params.append(f'resource_metadata="{self.metadata_url}"')
        challenge = "Bearer " + ", ".join(params) if params else "Bearer"
        data = json.dumps(body).encode()
        headers = [
            (name, value)
            for name, value in start["headers"]
            if name.lower() not in (b"www-authenticate", b"content-length")
        ]
        headers += [
            (b"www-authenticate", challenge.encode()),
            (b"content-length", b"%d" % len(data)),
        ]
        return {**start, "headers": headers}, data

    async def _reason(self, token: str) -> str:
        try:
            await self.verifier.check(token)
        except AuthError as exc:
            return str(exc)
        return "token refused"


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _quotable(text: str) -> str:
    # A quoted-string in a header: printable ASCII, without quotes or backslashes.
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "'" for c in text)


def protect(app: Starlette, settings: McpSettings, verifier: TaskchatTokenVerifier | None) -> None:
    """Add the metadata routes, the explained 401s and CORS (outermost) to the /mcp app."""
    if settings.oauth_issuer:
        # Ahead of the SDK's own metadata route, which cannot list both scopes as supported
        # without requiring both of every token.
        app.router.routes[:0] = metadata_routes(settings)
    if verifier is not None:
        app.add_middleware(
            BearerChallenge, verifier=verifier, metadata_url=resource_metadata_url(settings)
        )
    if settings.mcp_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.mcp_cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=600,
        )
