"""The browser side: the app page and its static files (the JSON API the page uses for
the tasks panel is chat_server/web/panel.py).

`GET /` serves one page that shows either OpenAI's ChatKit web component (loaded from its
CDN) or our built-in chat UI; both speak the ChatKit protocol to `/chatkit`. Its scripts
and styles come from `/assets/<version>/` (chat_server/web/assets.py).
"""

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from chat_server.web.assets import BUNDLE, ENTRY, IMMUTABLE, Assets
from chat_server.web.deps import CurrentUser, SettingsDep
from chat_server.web.oidc import provider_name
from shared.limits import clipped
from shared.settings import ChatSettings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
PAGE = Path(__file__).parent / "page.html"
UI_MODES = ("auto", "builtin", "chatkit")

router = APIRouter()


def content_security_policy(ui: str, script_url: str) -> str:
    """The page's policy: this server only, plus the ChatKit script's origin when it may load.

    The built-in UI needs nothing from elsewhere. The official component loads from its
    script's origin, frames and calls it, and styles itself inline; nothing else is allowed.
    """
    other = ""
    if ui != "builtin":
        parts = urlsplit(script_url)
        other = f" {parts.scheme}://{parts.netloc}"
    directives = {
        "default-src": "'self'",
        "script-src": f"'self'{other}",
        "style-src": "'self'" + (" 'unsafe-inline'" if other else ""),
        "img-src": f"'self' data:{other}",
        "font-src": f"'self'{other}",
        "connect-src": f"'self'{other}",
        "frame-src": other.strip() or "'none'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_config(ui: str, settings: ChatSettings) -> dict[str, Any]:
    """What the page's script needs to know, embedded in the page as JSON."""
    return {
        "ui": ui,
        "apiUrl": "/chatkit",
        "domainKey": settings.chatkit_domain_key,
        "chatkitScript": None if ui == "builtin" else settings.chatkit_script_url,
        "auth": "local" if settings.local_mode else "jwt",
        # JWT mode with OIDC_ISSUER: the page offers "Sign in with <provider>".
        "signIn": (
            {"provider": provider_name(settings), "url": "/auth/login"}
            if settings.oidc_issuer and not settings.local_mode
            else None
        ),
    }


@cache
def assets() -> Assets:
    """The static folder as served, read once per process."""
    return Assets(STATIC_DIR)


def render_page(config: dict[str, Any]) -> str:
    """The app page with `config` embedded; '<' is escaped so no value can end the script."""
    files = assets()
    # One script when the modules could be bundled, else each module preloaded at once.
    script, preloaded = (BUNDLE, []) if files.bundled else (ENTRY, files.module_graph(ENTRY)[1:])
    preloads = "\n".join(
        f'  <link rel="modulepreload" href="{files.url(name)}">' for name in preloaded
    )
    template = PAGE.read_text(encoding="utf-8")
    return (
        template.replace("__SCRIPT__", files.url(script))
        .replace("__ASSETS__", files.prefix)
        .replace("__MODULEPRELOADS__", preloads)
        .replace("__TASKCHAT_CONFIG__", json.dumps(config).replace("<", "\\u003c"))
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def app_page(settings: SettingsDep, ui: str | None = None) -> HTMLResponse:
    """The chat page: `?ui=builtin|chatkit|auto` overrides CHAT_UI for this load."""
    mode = ui if ui is not None else settings.chat_ui
    if mode not in UI_MODES:
        choices = ", ".join(UI_MODES)
        raise HTTPException(400, f"ui must be one of {choices}; got {clipped(mode)!r}")
    headers = {
        # Asked again on every load (it names the current assets), yet kept for back/forward.
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(mode, settings.chatkit_script_url),
    }
    config = page_config(mode, settings)
    return HTMLResponse(render_page(config), headers=headers)


@router.get("/assets/{version}/{name:path}", include_in_schema=False)
async def asset(version: str, name: str, request: Request) -> Response:
    """A static file of this version, gzipped when the browser takes it; kept for a year."""
    found = assets().get(version, name)
    if found is None:
        # An old version too: its page is gone, and mixing versions' modules would break it.
        raise HTTPException(404, "Not Found")
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    body = found.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = found.gzipped
    return Response(body, media_type=found.media_type, headers=headers)


@router.get("/api/me")
async def whoami(user: CurrentUser, settings: SettingsDep) -> dict[str, str]:
    """Who the page is signed in as, so it can say so."""
    return {"user_id": user.user_id, "auth": "local" if settings.local_mode else "jwt"}
