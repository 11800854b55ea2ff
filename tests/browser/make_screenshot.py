"""Write docs/screenshot.png: the built-in UI after a short conversation, for the README.

Run `python -m tests.browser.make_screenshot [path]`; it starts both servers on a scratch
database (offline model, no network) and drives Debian's Chromium like the browser tests.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from testbed.servers import ROOT
from tests.browser.harness import CHROMIUM_ARGS, chromium_path, start_stack

MESSAGES = [
    "add buy milk tomorrow high priority #groceries",
    "add call the plumber on friday #home",
    "add renew passport next month low priority",
    "show my tasks",
]


def main() -> None:
    """Start the stack, hold a short conversation, save the screenshot."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else Path(ROOT) / "docs" / "screenshot.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), JWT_SECRET="", MCP_SERVICE_TOKEN="")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(f"{stack.url}/?ui=builtin")
                page.wait_for_selector("body[data-ready=true]")
                for count, text in enumerate(MESSAGES, start=1):
                    box = page.get_by_label("Message")
                    box.fill(text)
                    box.press("Enter")
                    expect(page.locator("[data-item-type=user_message]")).to_have_count(count)
                    expect(page.get_by_role("button", name="Send")).to_be_enabled()
                listing = page.locator("[data-item-type=widget]").last
                listing.get_by_role("button", name="Complete: Buy milk").click()
                expect(listing).to_contain_text("Done")
                expect(page.locator("#task-list li.done")).to_have_count(1)
                page.screenshot(path=str(target))
                browser.close()
        finally:
            stack.stop()
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
