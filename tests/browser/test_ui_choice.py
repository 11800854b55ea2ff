"""Which chat UI the page shows: the official component when its script loads, else built-in.

The component's script URL points at 127.0.0.1 in tests (CHATKIT_SCRIPT_URL): either
nothing answers there, or the test answers with a stand-in element that records the
options the page gives it and makes one request through the page's fetch.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from shared.auth import mint_jwt
from shared.settings import Settings
from tests.browser.harness import JWT_SECRET, Browsing, Stack, open_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

STAND_IN = """
class StandIn extends HTMLElement {
  setOptions(options) {
    window.chatkitOptions = options;
    const body = JSON.stringify({ type: "threads.list", params: { limit: 5 } });
    options.api.fetch(options.api.url, { method: "POST", body,
        headers: { "Content-Type": "application/json" } })
      .then((response) => response.json())
      .then((json) => {
        window.chatkitProbe = json;
        this.dispatchEvent(new CustomEvent("chatkit.response.end"));
      });
  }
}
customElements.define("openai-chatkit", StandIn);
"""


CHOSE_OFFICIAL = "localStorage.setItem('taskchat:ui', 'chatkit')"


def serve_stand_in(page: Page, stack: Stack) -> None:
    page.route(stack.env["CHATKIT_SCRIPT_URL"], lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=STAND_IN))


def test_auto_falls_back_to_the_built_in_ui_when_the_component_cannot_load(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = browsing.page()
    page.add_init_script(CHOSE_OFFICIAL)
    open_app(page, f"{local_stack.url}/?ui=auto")

    # A user-facing label; the technical reason is in its tooltip.
    label = page.locator("#ui-label")
    expect(label).to_have_text("ChatKit unavailable")
    expect(label).to_have_attribute("title", re.compile(
        r"^The official ChatKit component could not be loaded: .+"))
    expect(page.locator("body")).to_have_attribute("data-ui", "builtin")
    expect(page.get_by_label("Message")).to_be_visible()


def test_chatkit_mode_says_the_component_could_not_load_and_offers_the_built_in_ui(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = browsing.page()
    page.goto(f"{local_stack.url}/?ui=chatkit")

    expect(page.locator("#ui-label")).to_have_text("ChatKit unavailable")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("could not be loaded")
    notice.get_by_role("link", name="Use the built-in chat instead").click()
    page.wait_for_selector("body[data-ready=true]")
    # The usual chat needs no label.
    expect(page.locator("#ui-label")).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-ui", "builtin")


def test_official_component_gets_our_endpoint_domain_key_and_the_users_token(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    token = mint_jwt("dora", Settings(_env_file=None, jwt_secret=JWT_SECRET))
    page = browsing.page()
    page.add_init_script(CHOSE_OFFICIAL)
    serve_stand_in(page, jwt_stack)

    open_app(page, f"{jwt_stack.url}/?ui=auto#token={token}")

    expect(page.locator("#ui-label")).to_have_text("Official ChatKit UI")
    expect(page.locator("#threads")).to_be_hidden()
    options = page.evaluate("({url: chatkitOptions.api.url, key: chatkitOptions.api.domainKey,"
                            " history: chatkitOptions.history})")
    assert options == {"url": f"{jwt_stack.url}/chatkit", "key": "domain_pk_browser_test",
                       "history": {"enabled": True, "showDelete": True, "showRename": True}}
    # A 200 with a page of threads: the page's fetch sent Dora's token (else 401).
    page.wait_for_function("() => window.chatkitProbe !== undefined")
    assert page.evaluate("chatkitProbe") == {"data": [], "has_more": False}
    expect(page.locator("#tasks-summary")).to_have_text(
        "No tasks yet. Add one here or ask the chat.")
    assert page.evaluate("chatkitOptions.theme.colorScheme") == "light"


def test_official_component_gets_the_dark_theme_when_the_system_is_dark(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = browsing.page(color_scheme="dark")
    page.add_init_script(CHOSE_OFFICIAL)
    serve_stand_in(page, local_stack)

    open_app(page, f"{local_stack.url}/?ui=auto")

    expect(page.locator("#ui-label")).to_have_text("Official ChatKit UI")
    assert page.evaluate("chatkitOptions.theme.colorScheme") == "dark"


def test_auto_asks_the_cdn_for_nothing_until_the_user_chooses_the_official_ui(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = browsing.page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.on("console", lambda m: asked.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    serve_stand_in(page, local_stack)
    open_app(page, f"{local_stack.url}/")

    expect(page.locator("#ui-label")).to_be_hidden()
    assert [u for u in asked if "chatkit.js" in u or u.startswith("console")] == []

    page.get_by_role("button", name="Use the official ChatKit UI").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#ui-label")).to_have_text("Official ChatKit UI")

    # And back: the choice is forgotten, and the CDN is not asked again.
    page.get_by_role("button", name="Use the standard chat").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("body")).to_have_attribute("data-ui", "builtin")
    asked.clear()
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_role("button", name="Use the official ChatKit UI")).to_be_visible()
    assert [u for u in asked if "chatkit.js" in u] == []
