"""Who is calling: JWT verification and minting, shared by both processes."""

import math
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from shared.settings import CommonSettings

MAX_USER_ID_CHARS = 200
# An id is a name: never a line break or a NUL (which PostgreSQL cannot even store), an
# invisible character (U+200B, U+FEFF) that makes two ids look alike, or a bidi override
# (U+202E) that shows it reversed in logs; lone surrogates (Cs) cannot even be encoded.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


class AuthError(Exception):
    """The caller could not be identified; the message says why."""


class TokenExpired(AuthError):
    """The token was good but its time is up: the page asks the user to sign in again."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `user_id` scopes every query."""

    user_id: str
    # When the credential stops vouching for the caller (Unix seconds; None: never, as in
    # local mode). Long-lived responses such as event streams end then. Not part of who
    # the caller is, so two principals of one user compare equal.
    expires_at: float | None = field(default=None, compare=False)


def verify_jwt(token: str, settings: CommonSettings) -> Principal:
    """Decode an HS256 JWT into a Principal, or raise AuthError.

    JWT_SECRET and then each of JWT_PREVIOUS_SECRETS may have signed it (rotation); it is
    refused when revoked (JWT_REVOKED_IDS, JWT_NOT_BEFORE).
    """
    if not settings.jwt_secret:
        raise AuthError("JWT authentication is not configured")
    secrets = [settings.jwt_secret, *settings.jwt_previous_secrets]
    claims = _decode_signed_by_any(token, secrets, settings)
    _refuse_revoked(claims, settings)
    return Principal(user_id=check_user_id(claims["sub"]), expires_at=token_expiry(claims["exp"]))


def token_expiry(exp: object) -> float:
    """A verified token's `exp` as a time, or AuthError when no clock can hold it."""
    # PyJWT checked exp is a number in the future; one past any float (10**400) is not a
    # time this server can keep, so the token is refused rather than crash the request.
    try:
        expires_at = float(exp)  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        raise AuthError("invalid token: its expiry (exp) is out of range") from None
    if not math.isfinite(expires_at):
        raise AuthError("invalid token: its expiry (exp) is out of range")
    return expires_at


def _decode_signed_by_any(
    token: str, secrets: list[str], settings: CommonSettings
) -> dict[str, Any]:
    # Only a bad signature sends it on to the next secret: an expired or foreign token
    # is refused for that reason whichever secret signed it.
    for secret in secrets[:-1]:
        try:
            return _decode(token, secret, settings)
        except AuthError as exc:
            if not isinstance(exc.__cause__, jwt.InvalidSignatureError):
                raise
    return _decode(token, secrets[-1], settings)


def _refuse_revoked(claims: dict[str, Any], settings: CommonSettings) -> None:
    jti = claims.get("jti")
    if isinstance(jti, str) and jti in settings.jwt_revoked_ids:
        raise AuthError("token revoked (its jti is in JWT_REVOKED_IDS)")
    cutoff = settings.jwt_not_before
    if cutoff is not None:
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or issued < cutoff.timestamp():
            raise AuthError("token revoked: issued before JWT_NOT_BEFORE")


def _decode(token: str, secret: str, settings: CommonSettings) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            # verify_aud stays on without JWT_AUDIENCE too: PyJWT then refuses any token that
            # names an audience, so a token minted for another service with the same secret
            # does not work here.
            options={"require": ["sub", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("token expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise AuthError("invalid token: its audience (aud) is not this server") from exc
    except jwt.InvalidIssuerError as exc:
        raise AuthError(f"invalid token: its issuer (iss) is not {settings.jwt_issuer}") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("invalid token: bad signature") from exc
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc


def check_user_id(user_id: object) -> str:
    """Validate a user id taken from a token or from service `_meta`."""
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID_CHARS:
        raise AuthError("user id must be a non-empty string of at most 200 characters")
    for char in user_id:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            raise AuthError(
                f"user id must not contain control or format characters (found U+{ord(char):04X})"
            )
    return user_id


def mint_jwt(user_id: str, settings: CommonSettings, ttl_seconds: int = 3600) -> str:
    """Issue a token for `user_id` (for tests, scripts and the CLI)."""
    if not settings.jwt_secret:
        raise AuthError("JWT_SECRET is not set")
    now = int(time.time())
    # jti: the id an operator lists in JWT_REVOKED_IDS to revoke this one token.
    claims: dict[str, object] = {
        "sub": user_id,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)
