"""Write docs/screenshot.png (and -dark, -phone): the built-in UI after a short conversation.

Run `python -m tests.browser.make_screenshot [directory]`; it starts both servers on a
scratch database (offline model, no network) and drives Debian's Chromium like the
browser tests.
"""

import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect, sync_playwright

from testbed.servers import ROOT
from tests.browser.harness import CHROMIUM_ARGS, chromium_path, start_stack

MESSAGES = [
    "add buy milk tomorrow high priority #groceries",
    "add call the plumber on friday #home",
    "add renew passport next month low priority",
    "add water the plants today",
    "show my tasks",
]
QUICK_ADD = "call mum friday 6pm !low #family"
SHOTS: list[tuple[str, dict[str, Any]]] = [  # file name, browser context options
    ("screenshot.png", {"viewport": {"width": 1280, "height": 860}}),
    ("screenshot-dark.png", {"viewport": {"width": 1280, "height": 860}, "color_scheme": "dark"}),
    ("screenshot-phone.png", {"viewport": {"width": 390, "height": 780},
                              "device_scale_factor": 2}),
]


def main() -> None:
    """Start the stack, hold a short conversation, save the screenshots."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else Path(ROOT) / "docs")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), JWT_SECRET="", MCP_SERVICE_TOKEN="")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                     args=CHROMIUM_ARGS)
                converse(browser.new_page(**SHOTS[0][1]), stack.url)
                for name, options in SHOTS:
                    page = browser.new_page(**options, locale="en-US")
                    page.goto(f"{stack.url}/?ui=builtin")
                    page.wait_for_selector("body[data-ready=true]")
                    expect(page.locator("#task-list li.panel-task")).to_have_count(4)
                    page.locator("[data-item-type=widget]").last.scroll_into_view_if_needed()
                    if "color_scheme" not in options and options["viewport"]["width"] > 800:
                        # Quick add's preview: what it read, as chips that can be removed.
                        page.get_by_label("New task", exact=True).fill(QUICK_ADD)
                        expect(page.locator("#quick-add-preview .chip")).to_have_count(4)
                        page.keyboard.press("Home")  # the title's start in view
                    page.screenshot(path=str(target / name))
                    print(f"wrote {target / name}")
                browser.close()
        finally:
            stack.stop()


def converse(page: Page, url: str) -> None:
    """The conversation the screenshots show, ending with one task ticked off."""
    page.goto(f"{url}/?ui=builtin")
    page.wait_for_selector("body[data-ready=true]")
    for count, text in enumerate(MESSAGES, start=1):
        box = page.get_by_label("Message")
        box.fill(text)
        box.press("Enter")
        expect(page.locator("[data-item-type=user_message]")).to_have_count(count)
        expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.get_by_role("checkbox", name="Call the plumber").check()
    expect(page.locator("#task-list li.done")).to_have_count(1)

if __name__ == "__main__":
    main()
