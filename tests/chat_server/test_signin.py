"""Sign-in through an OpenID Connect provider, in-process: the callback's refusals, each with
its status and message, and the session it hands out. The provider is an in-memory stand-in
behind httpx's MockTransport that checks PKCE and signs ID tokens with its own RSA key; the
browser test (tests/browser/test_signin.py) runs a real provider process."""

import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from agents.testing import ScriptedModel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from chat_server.app import create_app
from chat_server.web.oidc import OIDCClient
from shared.auth import mint_jwt, verify_jwt
from shared.settings import Settings
from shared.startup import startup_errors
from tests.chat_server.fakes import TaskMCP

ISSUER = "https://idp.test"
CLIENT_ID = "taskchat-web"
CLIENT_SECRET = "client-secret-for-the-tests"
SECRET = "signin-test-secret-long-enough-for-hs256"
SERVICE_TOKEN = "signin-test-service-token-of-32-chars-or-more"
SIGNED_OUT = {"signed_in": False, "reason": "missing", "message": "Sign in to see your tasks."}


def new_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


PROVIDER_KEY = new_key()
OTHER_KEY = new_key()


@dataclass
class Provider:
    """Discovery, keys and a token endpoint that checks the code, the client and PKCE."""

    claims: dict[str, Any] = field(default_factory=dict)  # overrides for the next ID token
    signing_key: bytes = PROVIDER_KEY
    header: dict[str, Any] = field(default_factory=lambda: {"kid": "k1"})
    algorithm: str = "RS256"
    # code -> (PKCE challenge, nonce) of the sign-in it was given to
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        match request.method, request.url.path:
            case "GET", "/.well-known/openid-configuration":
                return httpx.Response(200, json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                })
            case "GET", "/jwks":
                jwk = jwt.algorithms.RSAAlgorithm.to_jwk(
                    serialization.load_pem_private_key(PROVIDER_KEY, None).public_key(),
                    as_dict=True,
                )
                return httpx.Response(200, json={"keys": [{**jwk, "kid": "k1", "use": "sig"}]})
            case "POST", "/token":
                return self.token(request)
        return httpx.Response(404)

    def approve(self, authorize_url: str, code: str = "code-1") -> dict[str, str]:
        """The user signs in at the provider: it remembers the challenge and nonce for `code`."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        self.challenges[code] = (query["code_challenge"], query["nonce"])
        return {"code": code, "state": query["state"]}

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.exchanges.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        challenge, nonce = self.challenges.pop(form.get("code", ""), ("", ""))
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if not challenge or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return httpx.Response(400, json={"error": "invalid_grant"})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "alice-7", "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "nonce": nonce, **self.claims}
        claims = {name: value for name, value in claims.items() if value is not None}
        id_token = jwt.encode(claims, self.signing_key, self.algorithm, headers=self.header)
        return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer",
                                         "id_token": id_token})


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'signin.db'}",
        "jwt_secret": SECRET,
        "mcp_service_token": SERVICE_TOKEN,
        "oidc_issuer": ISSUER,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def signing_in(tmp_path: Path, provider: Provider, **overrides: Any
                     ) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(tmp_path, **overrides)
    app = create_app(settings, model=ScriptedModel([]), mcp_server=TaskMCP())
    if settings.oidc_issuer:
        app.state.oidc = OIDCClient(settings, transport=httpx.MockTransport(provider.handle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def sign_in(client: httpx.AsyncClient, provider: Provider, *, next: str = "/",
                  **answer: str) -> httpx.Response:
    """Start at /auth/login, let the provider approve, and come back to /auth/callback."""
    login = await client.get("/auth/login", params={"next": next})
    assert login.status_code == 303, login.text
    query = {**provider.approve(login.headers["location"]), **answer}
    return await client.get("/auth/callback", params=query)


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    match = re.search(r'<p id="signin-error" data-code="([a-z_]+)">(.*?)</p>', response.text)
    assert match, response.text
    return response.status_code, match.group(1), match.group(2)


def session_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("taskchat_session="):
            return header
    return None


async def test_login_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(
    tmp_path: Path,
) -> None:
    async with signing_in(tmp_path, Provider()) as client:
        response = await client.get("/auth/login")

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://127.0.0.1/auth/callback"
    assert query["scope"] == "openid profile email"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    flow = response.headers["set-cookie"]
    assert flow.startswith("taskchat_signin=")
    assert "HttpOnly" in flow and "Path=/auth/callback" in flow and "SameSite=lax" in flow


async def test_a_good_answer_signs_the_browser_in_with_a_short_lived_httponly_cookie(
    tmp_path: Path,
) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, next="/?ui=builtin")
        session = await client.get("/auth/session")
        me = await client.get("/api/me")
        logout = await client.post("/auth/logout", json={},
                                   headers={"Origin": "http://127.0.0.1"})
        after = await client.get("/auth/session")

    assert response.status_code == 303
    assert response.headers["location"] == "/?ui=builtin"
    cookie = session_cookie(response)
    assert cookie is not None
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https gets Secure
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    settings = settings_for(tmp_path)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice-7" and claims["jti"]
    assert claims["exp"] - claims["iat"] == 3600
    assert verify_jwt(token, settings).user_id == "alice-7"
    assert provider.exchanges[0]["redirect_uri"] == "http://127.0.0.1/auth/callback"
    assert session.json() == {"signed_in": True, "user_id": "alice-7", "via": "cookie",
                              "expires_at": float(claims["exp"])}
    assert me.json() == {"user_id": "alice-7", "auth": "jwt"}
    assert logout.status_code == 200
    assert 'taskchat_session=""' in logout.headers["set-cookie"]
    assert after.json() == SIGNED_OUT


async def test_a_callback_whose_state_is_not_this_browsers_is_refused(tmp_path: Path) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, state="forged-by-another-site")

    assert refusal(response) == (
        400, "state_mismatch",
        "the answer does not belong to this browser's sign-in (state mismatch); sign in again",
    )
    assert session_cookie(response) is None
    assert provider.exchanges == []  # the code was never spent


async def test_a_callback_without_a_sign_in_in_progress_is_refused(tmp_path: Path) -> None:
    async with signing_in(tmp_path, Provider()) as client:
        response = await client.get("/auth/callback", params={"code": "c", "state": "s"})

    assert refusal(response) == (
        400, "no_signin_in_progress",
        "this browser has no sign-in in progress (it expired after 10 minutes, or began in "
        "another browser); sign in again",
    )


async def test_an_id_token_with_another_nonce_is_refused(tmp_path: Path) -> None:
    provider = Provider(claims={"nonce": "a-nonce-from-another-sign-in"})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused", "the ID token was refused: its nonce does not match this sign-in"
    )
    assert session_cookie(response) is None


async def test_an_id_token_without_a_nonce_is_refused(tmp_path: Path) -> None:
    provider = Provider(claims={"nonce": None})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response)[2] == (
        "the ID token was refused: its nonce does not match this sign-in"
    )


async def test_an_id_token_from_another_issuer_is_refused(tmp_path: Path) -> None:
    provider = Provider(claims={"iss": "https://other-idp.test"})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused", "the ID token was refused: its issuer (iss) is not https://idp.test"
    )


async def test_an_id_token_for_another_client_is_refused(tmp_path: Path) -> None:
    provider = Provider(claims={"aud": "someone-elses-app"})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused",
        "the ID token was refused: its audience (aud) is not this client (OIDC_CLIENT_ID)",
    )


async def test_an_id_token_for_several_audiences_issued_to_another_party_is_refused(
    tmp_path: Path,
) -> None:
    provider = Provider(claims={"aud": [CLIENT_ID, "other"], "azp": "other"})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused", "the ID token was refused: it was issued to another client (azp)"
    )


async def test_an_expired_id_token_is_refused(tmp_path: Path) -> None:
    now = int(time.time())
    provider = Provider(claims={"iat": now - 900, "exp": now - 300})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused", "the ID token was refused: it has expired"
    )


async def test_an_id_token_signed_by_a_key_the_provider_does_not_hold_is_refused(
    tmp_path: Path,
) -> None:
    provider = Provider(signing_key=OTHER_KEY)
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused",
        "the ID token was refused: its signature does not verify with the provider's key",
    )


async def test_an_id_token_naming_an_unpublished_key_is_refused(tmp_path: Path) -> None:
    provider = Provider(header={"kid": "not-published"})
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused",
        "the ID token was refused: it is signed with a key the provider does not publish",
    )


async def test_an_id_token_keyed_with_a_shared_secret_is_refused(tmp_path: Path) -> None:
    # HS256 keyed with the client secret would let anyone holding it mint "ID tokens".
    provider = Provider(signing_key=CLIENT_SECRET.encode() * 2, algorithm="HS256")
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider)

    assert refusal(response) == (
        401, "id_token_refused",
        "the ID token was refused: its algorithm 'HS256' is not one of the "
        "provider's key algorithms",
    )


async def test_the_providers_own_refusal_is_shown(tmp_path: Path) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, error="access_denied",
                                 error_description="the user said no")

    assert refusal(response) == (
        403, "provider_refused", "the identity provider said access_denied: the user said no"
    )


async def test_an_answer_naming_another_issuer_is_refused(tmp_path: Path) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, iss="https://attacker.test")

    assert refusal(response) == (
        400, "issuer_mismatch",
        "the answer came from 'https://attacker.test', not 'https://idp.test'",
    )


async def test_a_code_the_provider_refuses_is_reported(tmp_path: Path) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, code="a-code-the-provider-never-gave")

    assert refusal(response) == (
        502, "code_refused", "the identity provider refused the sign-in code (invalid_grant)"
    )


async def test_a_sign_in_cannot_be_finished_twice(tmp_path: Path) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        login = await client.get("/auth/login")
        answer = provider.approve(login.headers["location"])
        first = await client.get("/auth/callback", params=answer)
        again = await client.get("/auth/callback", params=answer)

    assert first.status_code == 303
    assert refusal(again)[:2] == (400, "no_signin_in_progress")


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\\evil.test",
                                    "javascript:alert(1)"])
async def test_sign_in_only_ever_returns_to_a_page_of_this_server(
    tmp_path: Path, target: str
) -> None:
    provider = Provider()
    async with signing_in(tmp_path, provider) as client:
        response = await sign_in(client, provider, next=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_the_session_says_why_the_page_is_signed_out(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    expired = jwt.encode({"sub": "bob", "iat": 1, "exp": 2}, SECRET, algorithm="HS256")
    async with signing_in(tmp_path, Provider()) as client:
        missing = await client.get("/auth/session")
        stale = await client.get("/auth/session", headers={"Authorization": f"Bearer {expired}"})
        forged = await client.get("/auth/session", headers={"Authorization": "Bearer x.y.z"})
        good = await client.get(
            "/auth/session", headers={"Authorization": f"Bearer {mint_jwt('bob', settings)}"})

    assert missing.status_code == stale.status_code == forged.status_code == 200
    assert missing.json() == SIGNED_OUT
    assert stale.json() == {"signed_in": False, "reason": "expired",
                            "message": "Your sign-in has expired. Please sign in again."}
    assert forged.json()["reason"] == "invalid"
    assert good.json()["signed_in"] is True and good.json()["via"] == "token"


async def test_local_mode_is_always_signed_in_and_has_no_sign_in_route(tmp_path: Path) -> None:
    async with signing_in(tmp_path, Provider(), jwt_secret=None, mcp_service_token=None,
                          oidc_issuer=None, oidc_client_id=None) as client:
        session = await client.get("/auth/session")
        login = await client.get("/auth/login")

    assert session.json() == {"signed_in": True, "user_id": "local", "via": "local"}
    assert login.status_code == 404


async def test_the_page_offers_the_provider_only_when_one_is_configured(tmp_path: Path) -> None:
    config = re.compile(r'"signIn": (null|\{[^}]*\})')
    async with signing_in(tmp_path, Provider(), oidc_provider_name="Example ID") as client:
        with_provider = config.search((await client.get("/")).text)
    async with signing_in(tmp_path, Provider(), oidc_issuer=None, oidc_client_id=None) as client:
        without = config.search((await client.get("/")).text)

    assert with_provider and with_provider.group(1) == (
        '{"provider": "Example ID", "url": "/auth/login"}')
    assert without and without.group(1) == "null"


def refusals(**values: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **values)
    return [str(problem) for problem in startup_errors(caught.value)]


def test_half_configured_sign_in_stops_start_up_with_one_line_each() -> None:
    jwt_mode: dict[str, Any] = {"jwt_secret": SECRET}
    assert refusals(**jwt_mode, oidc_issuer=ISSUER) == [
        "OIDC_CLIENT_ID: is needed when OIDC_ISSUER is set: the client id the provider gave "
        "taskchat"
    ]
    assert refusals(**jwt_mode, oidc_client_id=CLIENT_ID) == [
        "OIDC_CLIENT_ID: is set but OIDC_ISSUER is not: set both, or neither"
    ]
    assert refusals(**jwt_mode, oidc_issuer="http://idp.example.com", oidc_client_id="c") == [
        "OIDC_ISSUER: must use https outside this machine (got 'http://idp.example.com')"
    ]
    assert refusals(oidc_issuer=ISSUER, oidc_client_id="c") == [
        "OIDC_ISSUER: needs JWT_SECRET: sign-in hands the browser a token signed with it"
    ]
    assert refusals(**jwt_mode, oidc_issuer=ISSUER, oidc_client_id="c",
                    oidc_redirect_url="https://chat.example.com/callback") == [
        "OIDC_REDIRECT_URL: must end in /auth/callback, where taskchat takes the answer "
        "(got 'https://chat.example.com/callback')"
    ]
    loopback = Settings(_env_file=None, **jwt_mode, oidc_issuer="http://127.0.0.1:9000",
                        oidc_client_id="c")
    assert loopback.oidc_issuer == "http://127.0.0.1:9000"
