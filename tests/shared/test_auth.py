"""Identity: which JWTs and user ids both servers accept."""

import pytest

from shared.auth import AuthError, check_user_id, mint_jwt, verify_jwt
from shared.settings import Settings

SECRET = "unit-secret-" + "x" * 32
PLAIN = Settings(_env_file=None, jwt_secret=SECRET)
WITH_AUDIENCE = Settings(_env_file=None, jwt_secret=SECRET, jwt_audience="taskchat")


def test_a_token_naming_an_audience_is_refused_unless_that_audience_is_configured():
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
def test_a_user_id_with_a_format_character_is_refused_and_named(user_id: str, code_point: str):
    message = f"user id must not contain control or format characters (found {code_point})"
    with pytest.raises(AuthError) as from_meta:
        check_user_id(user_id)
    with pytest.raises(AuthError) as from_token:
        verify_jwt(mint_jwt(user_id, PLAIN), PLAIN)
    assert str(from_meta.value) == str(from_token.value) == message
