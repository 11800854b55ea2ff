"""A real OAuth 2.1 authorization server for tests: `python -m tests.mcp_server.oauth_issuer`.

Built from the mcp SDK's own authorization-server routes (metadata, dynamic client
registration, authorize with PKCE, token): the same code the SDK's clients are tested
against, already a dependency, so the test exercises real discovery and registration
rather than a stub. The provider behind them is in memory and approves every request for
the test user at once (no login page). Access tokens are RS256 JWTs with `aud` set to the
`resource` the client asked for (RFC 8707), and the keys are published at /jwks.

Environment: PORT, ISSUER_KEY_FILE (a PEM RSA private key; its kid is KEY_ID), and
ISSUER_EXTRA_JWKS (a file of more public JWKs, read again on every /jwks request, so a
test can rotate keys). GET /jwks-fetches says how often /jwks was read.
"""

import json
import os
import secrets
import time
from typing import Any

import anyio
import jwt
import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY_ID = "test-key-1"
TEST_USER = "alice"
SCOPES = ["tasks:read", "tasks:write"]


def public_jwk(private_pem: bytes, kid: str = KEY_ID) -> dict[str, Any]:
    """The public half of a PEM private key as a JWK."""
    key = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)
    public = key.prepare_key(private_pem).public_key()  # type: ignore[union-attr]
    return {**key.to_jwk(public, as_dict=True), "kid": kid, "use": "sig", "alg": "RS256"}


class AutoApprovingProvider:
    """An in-memory provider that grants every authorization request to TEST_USER."""

    def __init__(self, issuer: str, private_pem: bytes) -> None:
        self.issuer = issuer
        self.private_pem = private_pem
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id
        self.clients[client_info.client_id] = client_info

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        code = AuthorizationCode(
            code=secrets.token_urlsafe(24),
            scopes=params.scopes or SCOPES,
            expires_at=time.time() + 300,
            client_id=str(client.client_id),
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject=TEST_USER,
        )
        self.codes[code.code] = code
        return construct_redirect_uri(str(params.redirect_uri), code=code.code, state=params.state)

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        return self.codes.get(authorization_code)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        del self.codes[authorization_code.code]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": authorization_code.subject,
            "aud": authorization_code.resource,
            "client_id": authorization_code.client_id,
            "scope": " ".join(authorization_code.scopes),
            "iat": now,
            "exp": now + 3600,
        }
        token = jwt.encode(claims, self.private_pem, "RS256", headers={"kid": KEY_ID})
        return OAuthToken(
            access_token=token,
            token_type="Bearer",
            expires_in=3600,
            scope=" ".join(authorization_code.scopes),
        )

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        return None

    async def exchange_refresh_token(self, *args: Any) -> OAuthToken:
        raise NotImplementedError

    async def load_access_token(self, token: str) -> AccessToken | None:
        return None

    async def revoke_token(self, token: Any) -> None:
        return None


def build_app(issuer: str, private_pem: bytes, extra_jwks: str | None = None) -> Starlette:
    """The authorization server: the SDK's routes, metadata naming the JWKS, and /jwks."""
    registration = ClientRegistrationOptions(
        enabled=True, valid_scopes=SCOPES, default_scopes=SCOPES
    )
    metadata = build_metadata(AnyHttpUrl(issuer), None, registration, RevocationOptions())
    published = {
        **metadata.model_dump(mode="json", exclude_none=True),
        "issuer": issuer,  # as configured: pydantic would add a trailing slash
        "jwks_uri": f"{issuer}/jwks",
    }

    fetches = 0

    async def jwks(_: Request) -> JSONResponse:
        nonlocal fetches
        fetches += 1
        extra = []
        if extra_jwks:
            extra = json.loads(await anyio.Path(extra_jwks).read_text())
        return JSONResponse({"keys": [public_jwk(private_pem), *extra]})

    async def jwks_fetches(_: Request) -> JSONResponse:
        return JSONResponse({"fetches": fetches})

    async def server_metadata(_: Request) -> JSONResponse:
        return JSONResponse(published)

    provider = AutoApprovingProvider(issuer, private_pem)
    sdk_routes = create_auth_routes(provider, AnyHttpUrl(issuer), None, registration)  # type: ignore[arg-type]
    # The SDK's metadata has no jwks_uri (its provider checks its own tokens): ours comes first.
    routes = [
        Route("/.well-known/oauth-authorization-server", server_metadata),
        Route("/jwks", jwks),
        Route("/jwks-fetches", jwks_fetches),
        Route("/healthz", lambda _: JSONResponse({"status": "ok"})),
        *sdk_routes,
    ]
    return Starlette(routes=routes)


def main() -> None:
    """Serve on 127.0.0.1:PORT."""
    port = int(os.environ["PORT"])
    with open(os.environ["ISSUER_KEY_FILE"], "rb") as file:
        private_pem = file.read()
    app = build_app(f"http://127.0.0.1:{port}", private_pem, os.environ.get("ISSUER_EXTRA_JWKS"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
