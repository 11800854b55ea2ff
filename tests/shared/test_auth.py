"""Identity: which JWTs and user ids both servers accept."""

import time
from datetime import UTC, datetime

import jwt
import pytest

from shared.auth import AuthError, check_user_id, mint_jwt, verify_jwt
from shared.settings import Settings

SECRET = "unit-secret-" + "x" * 32
PLAIN = Settings(_env_file=None, jwt_secret=SECRET)
WITH_AUDIENCE = Settings(_env_file=None, jwt_secret=SECRET, jwt_audience="taskchat")


def test_a_token_naming_an_audience_is_refused_unless_that_audience_is_configured() -> None:
    for_another_service = mint_jwt(
        "ann", Settings(_env_file=None, jwt_secret=SECRET, jwt_audience="billing")
    )
    with pytest.raises(AuthError, match=r"^invalid token: its audience \(aud\) is not this"):
        verify_jwt(for_another_service, PLAIN)
    with pytest.raises(AuthError, match=r"audience \(aud\) is not this server"):
        verify_jwt(for_another_service, WITH_AUDIENCE)
    # What stays accepted: no aud without JWT_AUDIENCE, the configured aud with it.
    assert verify_jwt(mint_jwt("ann", PLAIN), PLAIN).user_id == "ann"
    assert verify_jwt(mint_jwt("ann", WITH_AUDIENCE), WITH_AUDIENCE).user_id == "ann"


@pytest.mark.parametrize(
    ("user_id", "code_point"),
    [
        ("ann\u202eevil", "U+202E"),  # right-to-left override
        ("ann\u200b", "U+200B"),  # zero-width space
        ("\ufeffann", "U+FEFF"),  # byte order mark / zero-width no-break space
        ("ann\u2066x\u2069", "U+2066"),  # left-to-right isolate
        ("ann\ud800", "U+D800"),  # a lone surrogate, which UTF-8 cannot encode
    ],
)
def test_a_user_id_with_a_format_character_is_refused_and_named(
    user_id: str, code_point: str
) -> None:
    message = f"user id must not contain control or format characters (found {code_point})"
    with pytest.raises(AuthError) as from_meta:
        check_user_id(user_id)
    with pytest.raises(AuthError) as from_token:
        verify_jwt(mint_jwt(user_id, PLAIN), PLAIN)
    assert str(from_meta.value) == str(from_token.value) == message


OLD_SECRET = "old-secret-" + "y" * 32
ROTATED = Settings(_env_file=None, jwt_secret=SECRET, jwt_previous_secrets=OLD_SECRET)


def test_a_token_signed_with_a_previous_secret_is_still_accepted_after_rotation() -> None:
    signed_before_rotation = mint_jwt("ann", Settings(_env_file=None, jwt_secret=OLD_SECRET))
    assert verify_jwt(signed_before_rotation, ROTATED).user_id == "ann"
    # Once the old secret is dropped from JWT_PREVIOUS_SECRETS, its tokens stop working.
    with pytest.raises(AuthError, match="^invalid token: bad signature$"):
        verify_jwt(signed_before_rotation, PLAIN)


def test_new_tokens_are_signed_with_the_current_secret_only() -> None:
    minted = mint_jwt("ann", ROTATED)
    assert verify_jwt(minted, PLAIN).user_id == "ann"
    with pytest.raises(AuthError, match="^invalid token: bad signature$"):
        verify_jwt(minted, Settings(_env_file=None, jwt_secret=OLD_SECRET))


def test_an_expired_token_says_expired_whichever_secret_signed_it() -> None:
    expired = mint_jwt("ann", Settings(_env_file=None, jwt_secret=OLD_SECRET), ttl_seconds=-60)
    with pytest.raises(AuthError, match="^token expired$"):
        verify_jwt(expired, ROTATED)


def test_a_token_signed_with_no_listed_secret_is_refused_for_its_signature() -> None:
    stranger = mint_jwt("ann", Settings(_env_file=None, jwt_secret="z" * 40))
    with pytest.raises(AuthError, match="^invalid token: bad signature$"):
        verify_jwt(stranger, ROTATED)


def test_each_minted_token_has_its_own_id() -> None:
    first, second = (
        jwt.decode(mint_jwt("ann", PLAIN), options={"verify_signature": False}) for _ in range(2)
    )
    assert first["jti"] != second["jti"]
    assert len(first["jti"]) == 32


def test_a_token_whose_id_is_revoked_is_refused_and_others_are_not() -> None:
    revoked, kept = mint_jwt("ann", PLAIN), mint_jwt("ann", PLAIN)
    jti = jwt.decode(revoked, options={"verify_signature": False})["jti"]
    settings = Settings(_env_file=None, jwt_secret=SECRET, jwt_revoked_ids=f"other, {jti}")
    with pytest.raises(AuthError, match=r"^token revoked \(its jti is in JWT_REVOKED_IDS\)$"):
        verify_jwt(revoked, settings)
    assert verify_jwt(kept, settings).user_id == "ann"


def test_tokens_issued_before_jwt_not_before_are_refused() -> None:
    now = int(time.time())
    earlier = jwt.encode({"sub": "ann", "iat": now - 120, "exp": now + 600}, SECRET)
    later = jwt.encode({"sub": "ann", "iat": now, "exp": now + 600}, SECRET)
    no_iat = jwt.encode({"sub": "ann", "exp": now + 600}, SECRET)
    cutoff = datetime.fromtimestamp(now - 60, UTC).isoformat()
    settings = Settings(_env_file=None, jwt_secret=SECRET, jwt_not_before=cutoff)
    for token in (earlier, no_iat):
        with pytest.raises(AuthError, match="^token revoked: issued before JWT_NOT_BEFORE$"):
            verify_jwt(token, settings)
    assert verify_jwt(later, settings).user_id == "ann"


def test_a_signed_token_expiring_beyond_any_clock_is_refused_not_a_crash() -> None:
    token = jwt.encode({"sub": "ann", "exp": 10**400}, SECRET, algorithm="HS256")

    with pytest.raises(AuthError, match=r"^invalid token: its expiry \(exp\) is out of range$"):
        verify_jwt(token, PLAIN)
