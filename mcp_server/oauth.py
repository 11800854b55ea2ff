"""OAuth 2.1 resource server mode: access tokens are JWTs an authorization server signed.

Set by OAUTH_ISSUER and MCP_RESOURCE_URL. The issuer's signing keys are found through its
RFC 8414 metadata (or OpenID discovery), cached, and fetched again when a token names an
unknown key, at most once a minute, so a flood of forged `kid`s cannot hammer the issuer.
A token must carry `iss` equal to the issuer, `aud` naming this server (RFC 8707), `exp`
and `sub`; its scopes come from `scope` (RFC 9068) or `scp`.
"""

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import jwt
from mcp.server.auth.provider import AccessToken

from shared.auth import AuthError, check_user_id, token_expiry
from shared.settings import McpSettings
from shared.startup import StartupError

if TYPE_CHECKING:
    import httpx

ALGORITHMS = ("RS256", "ES256")
READ_SCOPE = "tasks:read"
WRITE_SCOPE = "tasks:write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)
# The scope each tool needs: the one table the HTTP edge (403, tools/list) reads. A tool
# missing here needs the write scope. tasks:write allows the reads too (missing_scope).
TOOL_SCOPES = {
    "list_tasks": READ_SCOPE,
    "get_task": READ_SCOPE,
    "add_task": WRITE_SCOPE,
    "update_task": WRITE_SCOPE,
    "complete_task": WRITE_SCOPE,
    "delete_task": WRITE_SCOPE,
    "list_lists": READ_SCOPE,
    "rename_list": WRITE_SCOPE,
    "delete_list": WRITE_SCOPE,
    "share_list": WRITE_SCOPE,
    "unshare_list": WRITE_SCOPE,
    "list_members": READ_SCOPE,
    "add_tasks": WRITE_SCOPE,
    "update_tasks": WRITE_SCOPE,
    "complete_tasks": WRITE_SCOPE,
    "delete_tasks": WRITE_SCOPE,
    "restore_task": WRITE_SCOPE,
    "list_deleted_tasks": READ_SCOPE,
}
REFETCH_AFTER_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 5.0
OAUTH_CLIENT = "oauth"


def check_oauth_settings(settings: McpSettings) -> None:
    """Refuse half an OAuth set-up: the issuer and the resource URL go together."""
    if settings.oauth_issuer and not settings.mcp_resource_url:
        raise StartupError(
            "MCP_RESOURCE_URL",
            "is needed with OAUTH_ISSUER: set it to the public URL of the /mcp endpoint "
            "(e.g. https://tasks.example.com/mcp), the audience tokens must name",
        )
    if settings.mcp_resource_url and not settings.oauth_issuer:
        raise StartupError(
            "OAUTH_ISSUER",
            "is needed with MCP_RESOURCE_URL: set it to your authorization server's issuer URL",
        )


def discovery_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be: RFC 8414 first, then OpenID Connect discovery."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


class IssuerKeys:
    """The issuer's signing keys (JWKS), discovered on first use and cached."""

    def __init__(self, issuer: str, refetch_after: float = REFETCH_AFTER_SECONDS) -> None:
        self.issuer = issuer
        self.refetch_after = refetch_after
        self._jwks_uri: str | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = -refetch_after
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key a token's header names (or the only key, for a token without `kid`)."""
        if (found := self._find(kid)) is not None:
            return found
        async with self._lock:
            # Another request may have fetched the keys while this one waited.
            if (found := self._find(kid)) is None and self._may_fetch():
                await self._fetch()
                found = self._find(kid)
        if found is None:
            raise AuthError(f"invalid token: signed with a key the issuer does not publish ({kid})")
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return time.monotonic() - self._fetched_at >= self.refetch_after

    async def _fetch(self) -> None:
        # Loaded here: only a server with OAUTH_ISSUER fetches keys, and httpx with what it
        # imports is about 2 MiB of every other server's memory.
        import httpx  # noqa: PLC0415

        self._fetched_at = time.monotonic()
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as http:
            try:
                if self._jwks_uri is None:
                    self._jwks_uri = await self._discover(http)
                response = await http.get(self._jwks_uri)
                response.raise_for_status()
                key_set = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                raise AuthError(f"cannot fetch the issuer's signing keys: {exc}") from None
        self._keys = {key.key_id: key for key in key_set.keys}

    async def _discover(self, http: "httpx.AsyncClient") -> str:
        for url in discovery_urls(self.issuer):
            response = await http.get(url)
            if response.status_code != 200:
                continue
            metadata = response.json()
            # RFC 8414 section 3.3: metadata for another issuer must not be used.
            if metadata.get("issuer") not in spellings(self.issuer):
                raise ValueError(f"{url} names issuer {metadata.get('issuer')!r}")
            if isinstance(uri := metadata.get("jwks_uri"), str):
                return uri
        raise ValueError(f"no metadata with a jwks_uri for issuer {self.issuer}")


class OAuthTokens:
    """Verifies access tokens of OAUTH_ISSUER issued for MCP_RESOURCE_URL."""

    def __init__(self, settings: McpSettings) -> None:
        assert settings.oauth_issuer and settings.mcp_resource_url
        self.issuer = settings.oauth_issuer
        self.resource = settings.mcp_resource_url
        self.keys = IssuerKeys(self.issuer)

    async def verify(self, token: str, header: dict[str, Any]) -> AccessToken:
        """The token's AccessToken, or AuthError saying what is wrong with it."""
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthError(
                f"invalid token: algorithm {algorithm} is not accepted ({', '.join(ALGORITHMS)})"
            )
        key = await self.keys.key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=spellings(self.resource),
                issuer=spellings(self.issuer),
                options={"require": ["iss", "aud", "exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"invalid token: its audience (aud) is not {self.resource}") from None
        except jwt.InvalidIssuerError:
            raise AuthError(f"invalid token: its issuer (iss) is not {self.issuer}") from None
        except jwt.InvalidSignatureError:
            raise AuthError("invalid token: bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"invalid token: it has no {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or OAUTH_CLIENT),
            scopes=token_scopes(claims),
            expires_at=int(token_expiry(claims["exp"])),
            resource=self.resource,
            subject=check_user_id(claims["sub"]),
        )


def spellings(url: str) -> list[str]:
    """A URL with and without a trailing slash: URL parsers add one to an empty path."""
    bare = url.rstrip("/")
    return [bare, bare + "/"]


def token_scopes(claims: dict[str, Any]) -> list[str]:
    """The scopes a token grants: `scope` (space-separated) or `scp` (a string or a list)."""
    granted = claims.get("scope", claims.get("scp", ""))
    if isinstance(granted, str):
        return granted.split()
    if isinstance(granted, list):
        return [str(scope) for scope in granted]
    return []


def missing_scope(scopes: list[str], needed: str) -> str | None:
    """None when `scopes` allow a call that needs `needed` (write allows reads too)."""
    if needed in scopes or (needed == READ_SCOPE and WRITE_SCOPE in scopes):
        return None
    return needed


def tool_scope(tool: str) -> str:
    """The scope a call of `tool` needs."""
    return TOOL_SCOPES.get(tool, WRITE_SCOPE)


def scope_problem(missing: str, granted: list[str]) -> str:
    """What a token without `missing` is told, as a 403's description or a tool error."""
    return f"this call needs the {missing} scope (the token has: {' '.join(granted) or 'none'})"
