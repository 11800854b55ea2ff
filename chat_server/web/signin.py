"""Browser sign-in through the operator's OpenID Connect provider, and signing out.

`GET /auth/login` sends the browser to the provider; `GET /auth/callback` checks its answer
and sets the session cookie; `POST /auth/logout` clears it; `GET /auth/session` tells the
page whether it is signed in (it never answers 401, so a signed-out page starts quietly).

The session is the token the rest of taskchat already understands: an HS256 JWT signed
with JWT_SECRET whose `sub` is the provider's subject, short-lived, with a `jti`. It lives
in an HttpOnly cookie, so no script on the page can read it; every state-changing request
must still be JSON with a same-origin Origin (chat_server/web/edge.py), which is what stops a
cross-site page from using the cookie.
"""

import hmac
import html
import logging
import secrets
import time
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from chat_server.web.deps import SettingsDep, presented_token
from chat_server.web.oidc import OIDCClient, Pkce, SignInError
from shared.auth import AuthError, TokenExpired, check_user_id, mint_jwt, verify_jwt
from shared.settings import ChatSettings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", include_in_schema=False)

# The sign-in in progress (state, nonce, PKCE verifier, where to go back to), carried by
# the browser between /auth/login and /auth/callback and signed so it cannot be altered.
# Its audience keeps it from ever passing for a session token, and a session token from
# passing for it.
FLOW_COOKIE = "taskchat_signin"
FLOW_AUDIENCE = "taskchat-signin"
FLOW_SECONDS = 600
# The session cookie outlives its token by a day, so the page can say "your sign-in has
# expired" instead of only "sign in".
COOKIE_GRACE_SECONDS = 86_400
MAX_NEXT_CHARS = 2000
REFUSAL_POLICY = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"


def get_oidc(request: Request) -> OIDCClient:
    """The provider client, made on first use (tests may put their own on app.state)."""
    settings: ChatSettings = request.app.state.settings
    client: OIDCClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        if not settings.oidc_issuer or settings.local_mode:
            raise HTTPException(404, "sign-in through an identity provider is not configured")
        client = request.app.state.oidc = OIDCClient(settings)
    return client


OIDCDep = Annotated[OIDCClient, Depends(get_oidc)]


def callback_url(request: Request, settings: ChatSettings) -> str:
    """The redirect URI registered with the provider: OIDC_REDIRECT_URL, else ours as reached."""
    return settings.oidc_redirect_url or str(request.url_for("signin_callback"))


def safe_next(target: str) -> str:
    """A path on this server to return to; anything else (another site) becomes "/"."""
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or len(target) > MAX_NEXT_CHARS
        or any(ord(char) < 0x20 or char == "\\" for char in target)
    ):
        return "/"
    return target


def refusal_page(error: SignInError) -> HTMLResponse:
    """The page a browser sees when a sign-in fails: the reason, and a way back."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Sign-in failed · taskchat</title>"
        '<link rel="stylesheet" href="/static/app.css"></head>'
        '<body><main class="signin-failed"><h1>Sign-in failed</h1>'
        f'<p id="signin-error" data-code="{html.escape(error.code)}">'
        f"{html.escape(error.message, quote=False)}</p>"
        '<p><a href="/">Back to taskchat</a></p></main></body></html>'
    )
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": REFUSAL_POLICY}
    return HTMLResponse(body, error.status, headers=headers)


def _flow_token(settings: ChatSettings, claims: dict[str, Any]) -> str:
    assert settings.jwt_secret  # get_oidc refuses local mode
    expires = int(time.time()) + FLOW_SECONDS
    return jwt.encode(
        {**claims, "aud": FLOW_AUDIENCE, "exp": expires}, settings.jwt_secret, algorithm="HS256"
    )


def _read_flow(token: str | None, settings: ChatSettings) -> dict[str, Any]:
    if not token or not settings.jwt_secret:
        raise SignInError(
            400,
            "no_signin_in_progress",
            "this browser has no sign-in in progress (it expired after 10 minutes, or began "
            "in another browser); sign in again",
        )
    try:
        return jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=FLOW_AUDIENCE,
            options={"require": ["exp", "state", "nonce", "verifier", "next", "redirect_uri"]},
        )
    except jwt.PyJWTError:
        raise SignInError(
            400,
            "no_signin_in_progress",
            "this browser's sign-in has expired or was altered; sign in again",
        ) from None


@router.get("/login")
async def login(
    request: Request, settings: SettingsDep, oidc: OIDCDep, next: str = "/"
) -> Response:
    """Start signing in: remember state, nonce and PKCE verifier, and go to the provider."""
    state, nonce, pkce = secrets.token_urlsafe(32), secrets.token_urlsafe(32), Pkce.new()
    redirect_uri = callback_url(request, settings)
    try:
        url = await oidc.authorization_url(
            redirect_uri=redirect_uri, state=state, nonce=nonce, pkce=pkce
        )
    except SignInError as exc:
        log.warning("sign-in could not start: %s", exc.message)
        return refusal_page(exc)
    flow = _flow_token(
        settings,
        {
            "state": state,
            "nonce": nonce,
            "verifier": pkce.verifier,
            "next": safe_next(next),
            "redirect_uri": redirect_uri,
        },
    )
    response = RedirectResponse(url, 303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation, and it
    # must bring this cookie along. Scoped to the callback, and gone after 10 minutes.
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=FLOW_SECONDS,
        path="/auth/callback",
        httponly=True,
        secure=redirect_uri.startswith("https:"),
        samesite="lax",
    )
    return response


@router.get("/callback", name="signin_callback")
async def callback(
    request: Request,
    settings: SettingsDep,
    oidc: OIDCDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    iss: str | None = None,
) -> Response:
    """Finish signing in: check the provider's answer, then hand the browser its session."""
    try:
        flow = _read_flow(request.cookies.get(FLOW_COOKIE), settings)
        user_id = await _signed_in_user(
            oidc,
            flow,
            code=code,
            state=state,
            error=error,
            error_description=error_description,
            iss=iss,
        )
    except SignInError as exc:
        log.warning("sign-in refused (%s): %s", exc.code, exc.message)
        response: Response = refusal_page(exc)
        response.delete_cookie(FLOW_COOKIE, path="/auth/callback")
        return response
    ttl = settings.signin_session_minutes * 60
    response = RedirectResponse(flow["next"], 303)
    response.delete_cookie(FLOW_COOKIE, path="/auth/callback")
    # Strict: no request another site starts, not even a link, carries the session.
    response.set_cookie(
        settings.session_cookie_name,
        mint_jwt(user_id, settings, ttl_seconds=ttl),
        max_age=ttl + COOKIE_GRACE_SECONDS,
        path="/",
        httponly=True,
        secure=flow["redirect_uri"].startswith("https:"),
        samesite="strict",
    )
    log.info("signed in through the identity provider: user %s", user_id)
    return response


async def _signed_in_user(
    oidc: OIDCClient,
    flow: dict[str, Any],
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    error_description: str | None,
    iss: str | None,
) -> str:
    """The user id the provider's answer vouches for, or SignInError saying why not."""
    # First: is this answer meant for the sign-in this browser started? (CSRF, RFC 6749 10.12)
    if state is None or not hmac.compare_digest(state, flow["state"]):
        raise SignInError(
            400,
            "state_mismatch",
            "the answer does not belong to this browser's sign-in (state mismatch); sign in again",
        )
    if error is not None:
        detail = f": {error_description}" if error_description else ""
        raise SignInError(403, "provider_refused", f"the identity provider said {error}{detail}")
    metadata = await oidc.metadata()
    # RFC 9207: a provider that names itself must be ours (mix-up attacks).
    if iss is not None and iss != metadata.issuer:
        raise SignInError(
            400, "issuer_mismatch", f"the answer came from {iss!r}, not {metadata.issuer!r}"
        )
    if not code:
        raise SignInError(400, "no_code", "the identity provider's answer has no code")
    id_token = await oidc.exchange(
        code, redirect_uri=flow["redirect_uri"], verifier=flow["verifier"]
    )
    claims = await oidc.verify_id_token(id_token, nonce=flow["nonce"])
    # One issuer is configured, so its `sub` alone is a stable, unique user id.
    try:
        return check_user_id(claims["sub"])
    except AuthError as exc:
        raise SignInError(
            403, "unusable_subject", f"the identity provider's user id (sub) is unusable: {exc}"
        ) from None


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> JSONResponse:
    """Sign out: forget the session cookie (a pasted token the page forgets itself)."""
    response = JSONResponse({"signed_in": False})
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return response


@router.get("/session")
async def session(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Whether the page is signed in, as whom and until when; if not, why (never a 401)."""
    if settings.local_mode:
        return {"signed_in": True, "user_id": settings.local_user_id, "via": "local"}
    try:
        presented = presented_token(request, settings)
    except HTTPException as exc:
        return _signed_out("invalid", f"{exc.detail}.")
    if presented is None:
        return _signed_out("missing", "Sign in to see your tasks.")
    token, via = presented
    try:
        user = verify_jwt(token, settings)
    except TokenExpired:
        return _signed_out("expired", "Your sign-in has expired. Please sign in again.")
    except AuthError as exc:
        return _signed_out("invalid", f"Your sign-in was refused ({exc}). Please sign in again.")
    return {"signed_in": True, "user_id": user.user_id, "via": via, "expires_at": user.expires_at}


def _signed_out(reason: str, message: str) -> dict[str, Any]:
    return {"signed_in": False, "reason": reason, "message": message}
