"""The chat server as an OpenID Connect relying party of the operator's provider.

Discovery (`OIDC_ISSUER`/.well-known/openid-configuration), the authorization request with
PKCE, the code exchange, and ID token verification against the keys the provider publishes.
HTTP goes through httpx and every JOSE step through PyJWT, the two libraries the project
already relies on for these jobs; nothing here parses or checks a signature by hand.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from shared.settings import ChatSettings

# Only the provider's public keys may vouch for an ID token: "none" and the HS* family
# (keyed with the client secret, which taskchat also holds) are refused.
PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
CLOCK_SKEW_SECONDS = 60
# An unknown key id refetches the provider's keys (it may have rotated), at most this often.
KEYS_REFETCH_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0


class SignInError(Exception):
    """A sign-in that cannot go on: the HTTP status, a code, and a message for the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def id_token_refused(reason: str) -> SignInError:
    """The refusal of an ID token that failed a check; `reason` says which."""
    return SignInError(401, "id_token_refused", f"the ID token was refused: {reason}")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The parts of the provider's discovery document a sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pkce:
    """A fresh PKCE pair (RFC 7636, S256): the verifier stays here, the challenge travels."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def provider_name(settings: ChatSettings) -> str:
    """What the sign-in button calls the provider: OIDC_PROVIDER_NAME, else the issuer's host."""
    return settings.oidc_provider_name or urlsplit(settings.oidc_issuer or "").hostname or "?"


class OIDCClient:
    """Talks to one provider; its discovery document and keys are cached for the process."""

    def __init__(
        self, settings: ChatSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("OIDC_ISSUER and OIDC_CLIENT_ID are needed")
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.scopes = settings.oidc_scopes
        self.transport = transport  # tests put a provider in-process here
        self._metadata: ProviderMetadata | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._keys_fetched_at = 0.0

    def _http(self, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=HTTP_TIMEOUT_SECONDS, auth=auth)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._http() as http:
                response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInError(
                502,
                "provider_unavailable",
                f"the identity provider's {what} could not be read: {exc}",
            ) from None
        if not isinstance(body, dict):
            raise SignInError(
                502, "provider_unavailable", f"the identity provider's {what} is not a JSON object"
            )
        return body

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, read once from its discovery document."""
        if self._metadata is None:
            url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
            doc = await self._get_json(url, "discovery document")
            issuer = doc.get("issuer")
            # The document must speak for the issuer configured (OIDC Discovery 1.0, 4.3);
            # only a trailing slash may differ, and the provider's own spelling is kept.
            if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer.rstrip("/"):
                raise SignInError(
                    502,
                    "provider_misconfigured",
                    f"the discovery document names issuer {issuer!r}, not {self.issuer!r}",
                )
            try:
                self._metadata = ProviderMetadata(
                    issuer=issuer,
                    authorization_endpoint=str(doc["authorization_endpoint"]),
                    token_endpoint=str(doc["token_endpoint"]),
                    jwks_uri=str(doc["jwks_uri"]),
                    token_auth_methods=tuple(
                        doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
                    ),
                )
            except KeyError as exc:
                raise SignInError(
                    502, "provider_misconfigured", f"the discovery document has no {exc.args[0]}"
                ) from None
        return self._metadata

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, pkce: Pkce
    ) -> str:
        """Where to send the browser to sign in (authorization code flow)."""
        metadata = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}"

    async def exchange(self, code: str, *, redirect_uri: str, verifier: str) -> str:
        """Trade the authorization code for tokens; returns the (unverified) ID token."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        auth: httpx.BasicAuth | None = None
        if self.client_secret and "client_secret_basic" in metadata.token_auth_methods:
            auth = httpx.BasicAuth(self.client_id, self.client_secret)
        elif self.client_secret:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        else:
            form["client_id"] = self.client_id  # a public client: PKCE alone binds the code
        try:
            async with self._http(auth) as http:
                response = await http.post(metadata.token_endpoint, data=form)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInError(
                502, "provider_unavailable", f"the identity provider's token endpoint failed: {exc}"
            ) from None
        if response.status_code != 200 or not isinstance(body, dict):
            error = (
                body.get("error", response.status_code)
                if isinstance(body, dict)
                else response.status_code
            )
            raise SignInError(
                502, "code_refused", f"the identity provider refused the sign-in code ({error})"
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise SignInError(
                502,
                "code_refused",
                "the identity provider sent no ID token (is 'openid' in OIDC_SCOPES?)",
            )
        return id_token

    async def _signing_key(self, kid: str | None) -> jwt.PyJWK:
        metadata = await self.metadata()
        for attempt in range(2):
            if self._keys is None or (
                attempt == 1 and time.monotonic() - self._keys_fetched_at > KEYS_REFETCH_SECONDS
            ):
                document = await self._get_json(metadata.jwks_uri, "keys (jwks_uri)")
                try:
                    self._keys = jwt.PyJWKSet.from_dict(document)
                except jwt.PyJWKSetError as exc:
                    raise SignInError(
                        502, "provider_misconfigured", f"the provider's keys are unusable: {exc}"
                    ) from None
                self._keys_fetched_at = time.monotonic()
            signing = [key for key in self._keys.keys if key.public_key_use in (None, "sig")]
            matches = [key for key in signing if kid is not None and key.key_id == kid]
            if kid is None and len(signing) == 1:
                matches = signing
            if matches:
                return matches[0]
        raise id_token_refused("it is signed with a key the provider does not publish")

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, iss, aud, azp, exp, iat and nonce check."""
        metadata = await self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise id_token_refused("it is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in PUBLIC_KEY_ALGORITHMS:
            raise id_token_refused(
                f"its algorithm {algorithm!r} is not one of the provider's key algorithms"
            )
        key = await self._signing_key(header.get("kid"))
        claims = _decode(id_token, key, str(algorithm), metadata.issuer, self.client_id)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        authorized = claims.get("azp")
        if (len(audiences) > 1 or authorized is not None) and authorized != self.client_id:
            raise id_token_refused("it was issued to another client (azp)")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise id_token_refused("its nonce does not match this sign-in")
        return claims


# What each PyJWT refusal means for an ID token, most specific first.
DECODE_REFUSALS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet (iat or nbf in the future)"),
    (jwt.InvalidIssuerError, "its issuer (iss) is not {issuer}"),
    (jwt.InvalidAudienceError, "its audience (aud) is not this client (OIDC_CLIENT_ID)"),
    (jwt.InvalidSignatureError, "its signature does not verify with the provider's key"),
    (jwt.MissingRequiredClaimError, "{error}"),
)


def _decode(
    id_token: str, key: jwt.PyJWK, algorithm: str, issuer: str, client_id: str
) -> dict[str, Any]:
    try:
        return jwt.decode(
            id_token,
            key.key,
            algorithms=[algorithm],
            audience=client_id,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        for kind, reason in DECODE_REFUSALS:
            if isinstance(exc, kind):
                raise id_token_refused(reason.format(issuer=issuer, error=exc)) from None
        raise id_token_refused(str(exc)) from None
