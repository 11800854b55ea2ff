"""Measure the page's weight and time to ready on a slow link, and the tasks panel with many
tasks: the numbers in docs/benchmarks.md ("Page weight").

Run `python -m tests.browser.measure_page [runs]`; it starts both servers on a scratch
database (offline model, no network) and drives Debian's Chromium like the browser tests,
each load in a fresh context (cold cache) and then once more warm (same context).
The link is throttled through the Chrome DevTools Protocol to 1.6 Mbps down, 750 kbps up
and 150 ms latency (Lighthouse's "slow 4G").
"""

import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.browser.harness import CHROMIUM_ARGS, chromium_path, start_stack

SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
           "uploadThroughput": 750_000 / 8}
PANEL_SIZES = (1000, 3000)

# Resolves once the panel has drawn: the time from pressing Refresh, and the longest main
# thread block (a long task) seen meanwhile.
PANEL_LOAD = """async () => {
  const blocks = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) blocks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const list = document.getElementById("task-list");
  const t0 = performance.now();
  document.getElementById("refresh-tasks").click();
  await new Promise((resolve) => {
    const check = () => (list.hasAttribute("aria-busy") || !list.querySelector(".panel-task")
      ? requestAnimationFrame(check) : requestAnimationFrame(() => resolve()));
    check();
  });
  const shown = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  observer.disconnect();
  return { shown, longest: Math.max(0, ...blocks),
           nodes: document.getElementById("tasks").getElementsByTagName("*").length };
}"""


def load(context: BrowserContext, url: str) -> dict[str, Any]:
    """One page load on the throttled link: bytes over the wire, requests, time to ready."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent",
           lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.dataReceived",  # streams (/api/events) never finish loading
           lambda e: sizes.__setitem__(e["requestId"],
                                       sizes.get(e["requestId"], 0) + e["encodedDataLength"]))
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    ready = page.evaluate("performance.now()")
    page.wait_for_timeout(300)
    page.close()
    return {"ready_ms": ready, "bytes": sum(sizes.values()), "requests": len(urls),
            "offsite": sorted({u for u in urls.values() if "127.0.0.1" not in u
                               and not u.startswith("data:")})}


def page_weight(browser: Browser, url: str, runs: int) -> dict[str, Any]:
    """Median cold and warm loads of `url`."""
    cold, warm = [], []
    for _ in range(runs):
        context = browser.new_context()
        cold.append(load(context, url))
        warm.append(load(context, url))
        context.close()
    median = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    return {"cold_ms": median(cold, "ready_ms"), "cold_kb": median(cold, "bytes") / 1000,
            "cold_requests": median(cold, "requests"), "warm_ms": median(warm, "ready_ms"),
            "warm_kb": median(warm, "bytes") / 1000, "offsite": cold[0]["offsite"]}


def synthetic_tasks(count: int) -> list[dict[str, Any]]:
    """`count` tasks spread over overdue, today, the next weeks, no date and done."""
    today = datetime.now(UTC).date()
    tasks = []
    for i in range(count):
        kind = i % 5
        due = None if kind == 3 else (today + timedelta(days=(i % 40) - 10)).isoformat()
        tasks.append({"id": i + 1, "title": f"Task number {i + 1} with a usual length title",
                      "description": None, "completed": kind == 4,
                      "completed_at": None, "priority": ("low", "medium", "high")[i % 3],
                      "tags": ["home"] if i % 7 == 0 else [], "due": due,
                      "recurrence": "none", "created_at": "2025-01-01T00:00:00Z",
                      "updated_at": "2025-01-01T00:00:00Z"})
    return tasks


def panel(browser: Browser, url: str, count: int) -> dict[str, Any]:
    """The panel's refresh with `count` tasks (answered by the test, not the servers)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    body = json.dumps({"tasks": synthetic_tasks(count), "next_cursor": None})
    page.route("**/api/tasks", lambda route: route.fulfill(
        status=200, content_type="application/json", body=body)
        if route.request.method == "GET" else route.continue_())
    page.goto(f"{url}/?ui=builtin")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_timeout(500)
    results = [page.evaluate(PANEL_LOAD) for _ in range(3)]
    context.close()
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def main() -> None:
    """Print the measurements as JSON."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), JWT_SECRET="", MCP_SERVICE_TOKEN="")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                     args=CHROMIUM_ARGS)
                out = {"default": page_weight(browser, f"{stack.url}/", runs),
                       "builtin": page_weight(browser, f"{stack.url}/?ui=builtin", runs)}
                for count in PANEL_SIZES:
                    out[f"panel_{count}"] = panel(browser, stack.url, count)
                browser.close()
        finally:
            stack.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
