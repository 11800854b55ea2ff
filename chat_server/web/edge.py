"""What the chat server's HTTP edge refuses before any route runs.

The default mode has no sign-in, so a web page the user happens to visit must not be able
to drive the server: a foreign `Host` header (DNS rebinding) gets 421, and a state-changing
request a page could send cross-site without a CORS preflight (a form, `no-cors` fetch)
gets 415 or 403. Same-origin pages, the terminal client and curl are unaffected.
"""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import LOOPBACK_HOSTS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Sent with every response: no page may frame ours, sniff types or learn where it came from.
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
# For an HTML response that brings no policy of its own (the page sets a fuller one).
FRAME_POLICY = (b"content-security-policy", b"frame-ancestors 'none'")


def host_name(host: str) -> str:
    """The name part of a Host header or netloc: no port, no IPv6 brackets, lowercase."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_host_names(chat_host: str, extra: Iterable[str]) -> frozenset[str]:
    """Loopback names, the bind address unless it is a wildcard, and the configured names."""
    names = {*LOOPBACK_HOSTS, *(host_name(name) for name in extra)}
    if chat_host not in ("0.0.0.0", "::", ""):
        names.add(host_name(chat_host))
    return frozenset(names)


def _origin_key(scheme: str, netloc: str) -> tuple[str, int | None]:
    """`host:port` of an origin or Host header, with the scheme's default port filled in."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or "", port or DEFAULT_PORTS.get(scheme))


class HostGuard:
    """ASGI middleware, outermost: 421 for a Host this server does not serve (DNS rebinding),
    before anything else answers, CORS preflights included."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            if host_name(host) not in self.allowed_hosts:
                message = (
                    f"Host {host!r} is not served here; add it to CHAT_ALLOWED_HOSTS if a "
                    "proxy forwards it"
                )
                refusal = {"error": "misdirected_request", "message": message}
                await JSONResponse(refusal, 421)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class EdgeGuard:
    """ASGI middleware: CSRF checks on state-changing requests, security headers on answers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cors_origins: Iterable[str] = (),
        cors_origin_regex: str | None = None,
        session_cookie: str = "",
        multipart_paths: Iterable[str] = (),
        dav_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        # CalDAV's paths: clients send WebDAV methods and XML or iCalendar bodies there, signed
        # in by an app password (Basic auth). The Origin checks below still refuse a browser
        # sending one cross-site.
        self.dav_prefixes = tuple(dav_prefixes)
        # The paths that take a file upload (multipart/form-data); the Origin checks below
        # still refuse one sent cross-site.
        self.multipart_paths = frozenset(multipart_paths)
        self.cors_origins = frozenset(origin.rstrip("/") for origin in cors_origins)
        self.cors_regex = re.compile(cors_origin_regex) if cors_origin_regex else None
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            status, code, message = refusal
            await JSONResponse({"error": code, "message": message}, status)(scope, receive, send)
            return
        await self.app(scope, receive, self._with_security_headers(send))

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str] | None:
        """(status, code, message) when the request must not reach any route, else None."""
        host = headers.get("host", "")
        if scope["method"] in SAFE_METHODS:
            return None
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        upload = content_type == "multipart/form-data" and scope["path"] in self.multipart_paths
        dav = scope["path"].startswith(self.dav_prefixes) if self.dav_prefixes else False
        if content_type != "application/json" and not upload and not dav:
            return 415, "unsupported_media_type", (
                "state-changing requests must be sent as Content-Type: application/json"
            )
        origin = headers.get("origin")
        if origin is not None:
            if not self._origin_allowed(origin, scope.get("scheme", "http"), host):
                return 403, "forbidden_origin", f"requests from origin {origin!r} are refused"
            return None
        if headers.get("sec-fetch-site") == "cross-site":
            return 403, "forbidden_origin", "cross-site requests are refused"
        if self._cookie_only(headers):
            # Browsers send Origin with every POST; a cookie arriving without one is not
            # from our page, and the cookie would otherwise lend it the user's identity.
            return 403, "forbidden_origin", (
                "a request signed in by the session cookie must come from the app's page "
                "(Origin header missing)"
            )
        return None

    def _origin_allowed(self, origin: str, scheme: str, host: str) -> bool:
        origin = origin.rstrip("/")
        if origin in self.cors_origins or (self.cors_regex and self.cors_regex.fullmatch(origin)):
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False  # "http://[::1:80": not a URL at all
        if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
            return False  # "null" (sandboxed frames, files) and anything odd
        # Same origin: the page was served under the Host this request is addressed to. The
        # scheme is not compared: behind a TLS proxy the server itself sees plain http.
        own = _origin_key(parts.scheme, host)
        return _origin_key(parts.scheme, parts.netloc) == own and own[0] != ""

    def _cookie_only(self, headers: Headers) -> bool:
        if not self.session_cookie or "authorization" in headers:
            return False
        return f"{self.session_cookie}=" in headers.get("cookie", "")

    @staticmethod
    def _with_security_headers(send: Send) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {name.lower() for name, _ in raw}
                raw += [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                is_html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in raw
                )
                if is_html and FRAME_POLICY[0] not in names:
                    raw.append(FRAME_POLICY)
                message = {**message, "headers": raw}
            await send(message)

        return send_with_headers
