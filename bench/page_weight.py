"""`python -m bench.page_weight`: the browser page before and after, side by side in one run.

Starts two stacks (MCP server and chat server, offline model, scratch SQLite): one from a
git revision of before (`--before`, exported with `git archive`), one from this working
tree; then drives Debian's Chromium over both in interleaved rounds:

- **Page weight**: bytes over the wire, requests sent (not answered from the browser's
  cache) and time to ready (`body[data-ready=true]`, threads and tasks loaded, as the page
  saw it) of a cold load (fresh browser context) and a warm reload (same
  context), on links throttled through the DevTools protocol
  (`Network.emulateNetworkConditions`): 1.6 Mbps down / 750 kbps up / 150 ms, and
  400 kbps / 400 kbps / 400 ms.
- **Long thread**: the local user's one chat seeded with 500 messages (and a card every
  tenth turn) through the chat server's own store; a reload's time to ready and its element
  count, then a reply's time from Enter to the turn's end and the main thread's blocked
  time (`longtask` entries) meanwhile, and the same reply in a new chat, on an
  unthrottled link.

Timings on a shared machine are noisy: read the two columns of one run against each other,
with the load average printed beside them.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from sqlalchemy import create_engine

from bench.common import base_parser, describe_machine, fmt, rounds, table, write_json
from chat_server.conversation.store import SQLStore
from chat_server.conversation.widgets import task_card
from shared.auth import Principal
from testbed.servers import ROOT, free_port
from tests.browser.harness import CHROMIUM_ARGS, chromium_path

BEFORE = "9499574"  # the last commit before compression, hashed assets and paged threads
LINKS = {
    "1.6 Mbps / 150 ms": {"offline": False, "latency": 150,
                          "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8},
    "400 kbps / 400 ms": {"offline": False, "latency": 400,
                          "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
}
TURNS = 250
# The moment the page says it is ready, taken in the page (polling from here adds its own lag).
READY_AT = """new MutationObserver((_, observer) => {
  if (document.body?.dataset.ready === "true") {
    window.readyAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });"""
REPLY = """async (text) => {
  const log = document.getElementById("messages");
  const replies = () => log.querySelectorAll("[data-item-type=assistant_message]").length;
  const before = replies();
  const blocks = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) blocks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const box = document.getElementById("composer-input");
  const send = box.form.querySelector("button[type=submit]");
  box.value = text;
  const t0 = performance.now();
  box.form.requestSubmit();
  await new Promise((resolve) => {
    const check = () => (replies() > before && !send.disabled
      ? requestAnimationFrame(() => resolve()) : requestAnimationFrame(check));
    check();
  });
  const reply = performance.now() - t0;
  observer.disconnect();
  return { reply_ms: reply, blocked_ms: blocks.reduce((a, b) => a + b, 0),
           elements: document.getElementsByTagName("*").length };
}"""


# --- stacks -------------------------------------------------------------------------


def export_revision(revision: str, target: Path) -> Path:
    """The tree of `revision` in `target` (git archive), to run as it was."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _start(root: Path, module: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    # cwd first on sys.path: `python -m` runs that tree's code, not the installed one.
    process = subprocess.Popen([sys.executable, "-m", module], cwd=root,
                               env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} in {root} exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:  # noqa: PLR2004
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{module} in {root} did not start")


@contextmanager
def stack(root: Path, scratch: Path) -> Iterator[tuple[str, str]]:
    """Both servers of the tree at `root` in local mode: (chat URL, database URL)."""
    mcp_port, chat_port = free_port(), free_port()
    database = f"sqlite:///{scratch / 'taskchat.db'}"
    env = {"DATABASE_URL": database, "TASKCHAT_MODEL": "offline", "TASKCHAT_TIMEZONE": "UTC",
           "JWT_SECRET": "", "MCP_SERVICE_TOKEN": "", "RATE_LIMIT": "100000/minute",
           "MCP_PORT": str(mcp_port), "CHAT_PORT": str(chat_port),
           "MCP_SERVER_URL": f"http://127.0.0.1:{mcp_port}/mcp",
           "CHATKIT_SCRIPT_URL": f"http://127.0.0.1:{free_port()}/chatkit.js"}
    processes = [_start(root, "mcp_server", env, mcp_port)]
    try:
        processes.append(_start(root, "chat_server", env, chat_port))
        yield f"http://127.0.0.1:{chat_port}", database
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(10)


def seed_long_thread(database: str, user_id: str = "local") -> str:
    """The user's chat of TURNS turns: 'message N', 'reply N', a task card every tenth; its id."""

    async def seed() -> str:
        engine = create_engine(database)
        store, user = SQLStore(engine), Principal(user_id)
        thread = ThreadMetadata(id=store.generate_thread_id(user), created_at=datetime.now(),
                                title="A long chat")
        await store.save_thread(thread, user)
        for turn in range(1, TURNS + 1):
            now = datetime.now()
            items: list[ThreadItem] = [
                UserMessageItem(id=f"msg_{turn:04d}_u", thread_id=thread.id, created_at=now,
                                content=[UserMessageTextContent(text=f"message {turn}")],
                                attachments=[], inference_options={}),
                AssistantMessageItem(id=f"msg_{turn:04d}_a", thread_id=thread.id,
                                     created_at=now,
                                     content=[AssistantMessageContent(text=f"reply {turn}")]),
            ]
            if turn % 10 == 0:
                task = {"id": 90_000 + turn, "title": f"Seeded task {turn}", "description": None,
                        "completed": False, "completed_at": None, "priority": "medium",
                        "tags": [], "due": None, "recurrence": "none",
                        "created_at": "2025-06-01T08:00:00Z",
                        "updated_at": "2025-06-01T08:00:00Z"}
                items.append(WidgetItem(id=f"msg_{turn:04d}_w", thread_id=thread.id,
                                        created_at=now,
                                        widget=task_card(task, status="Task added")))  # type: ignore[arg-type]
            for item in items:
                await store.add_thread_item(thread.id, item, user)
        engine.dispose()
        return thread.id

    # Playwright's sync API holds this thread's event loop: the seeding runs on its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, seed()).result()


# --- measurements -------------------------------------------------------------------


def load(context: BrowserContext, url: str, link: dict[str, Any] | None) -> dict[str, Any]:
    """One page load: bytes over the wire, requests, time to ready, elements."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if link:
        cdp.send("Network.emulateNetworkConditions", link)
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    cached: set[str] = set()
    cdp.on("Network.requestWillBeSent",
           lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", lambda e: cached.add(e["requestId"])
           if e["response"].get("fromDiskCache") or e["response"].get("fromServiceWorker")
           else None)
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.dataReceived",  # streams (/api/events) never finish loading
           lambda e: sizes.__setitem__(e["requestId"],
                                       sizes.get(e["requestId"], 0) + e["encodedDataLength"]))
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready=true]", timeout=120_000)
    ready = page.evaluate("window.readyAt")
    elements = page.evaluate("document.getElementsByTagName('*').length")
    page.wait_for_timeout(300)
    page.close()
    offsite = {u for u in urls.values() if "127.0.0.1" not in u and not u.startswith("data:")}
    sent = [i for i, u in urls.items() if i not in cached and not u.startswith("data:")]
    return {"ready_ms": ready, "kb": sum(sizes.values()) / 1000, "requests": len(sent),
            "offsite": len(offsite), "elements": elements}


def weigh(browser: Browser, url: str, link: dict[str, Any]) -> dict[str, Any]:
    """A cold load in a fresh context, then a warm reload in the same one."""
    context = browser.new_context()
    context.add_init_script(READY_AT)
    cold = load(context, url, link)
    warm = load(context, url, link)
    context.close()
    return {"cold": cold, "warm": warm}


def long_thread(browser: Browser, url: str, thread_id: str) -> dict[str, Any]:
    """Reload the seeded chat, then reply in it (the offline model adds a task)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(READY_AT)
    # The chat the page opens (both versions remember it there): the seeded one, not the
    # newest, which an earlier round's new chat would be.
    context.add_init_script(f"sessionStorage.setItem('taskchat:thread', {thread_id!r})")
    opened = load(context, url, None)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    reply = page.evaluate(REPLY, f"add bench task {time.monotonic_ns()}")
    # The same reply in a new chat: what "as responsive as a new one" compares with.
    page.click("#new-chat")
    fresh = page.evaluate(REPLY, f"add bench task {time.monotonic_ns()}")
    context.close()
    return {"reload_ms": opened["ready_ms"], "reload_elements": opened["elements"], **reply,
            "new_chat_reply_ms": fresh["reply_ms"]}


def median(rows: list[dict[str, Any]], *path: str) -> float:
    values = []
    for row in rows:
        value: Any = row
        for key in path:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


def main() -> None:
    """Measure both trees and print the tables for docs/benchmarks.md."""
    parser = base_parser(__doc__)
    parser.add_argument("--before", default=BEFORE, help=f"git revision (default {BEFORE})")
    args = parser.parse_args()
    count = args.rounds or (1 if args.quick else 3)
    print(describe_machine("at the start"))
    results: dict[str, dict[str, list[dict[str, Any]]]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        scratch = Path(tmp)
        trees = {"before": export_revision(args.before, scratch / "tree-before"),
                 "after": Path(ROOT)}
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        with stack(trees["before"], _mkdir(scratch / "db-before")) as before, \
                stack(trees["after"], _mkdir(scratch / "db-after")) as after:
            urls = {"before": f"{before[0]}/?ui=builtin", "after": f"{after[0]}/?ui=builtin"}
            for _, order in rounds(count, ["before", "after"]):
                for side in order:
                    for name, link in LINKS.items():
                        results[side].setdefault(name, []).append(
                            weigh(browser, urls[side], link))
            threads = {"before": seed_long_thread(before[1]),
                       "after": seed_long_thread(after[1])}
            for _, order in rounds(count, ["before", "after"]):
                for side in order:
                    results[side].setdefault("thread", []).append(
                        long_thread(browser, urls[side], threads[side]))
        browser.close()
    print(describe_machine("at the end"))
    print(report(results, args.before, count))
    write_json(args, {"before": args.before, "rounds": count, "results": results})


def report(results: dict[str, dict[str, list[dict[str, Any]]]], revision: str,
           count: int) -> str:
    """The two tables: page weight per link, and the long thread."""
    rows = []
    for name in LINKS:
        for kind in ("cold", "warm"):
            cells = []
            for side in ("before", "after"):
                found = results[side][name]
                cells.append(
                    f"{fmt(median(found, kind, 'ready_ms') / 1000)} s, "
                    f"{fmt(median(found, kind, 'kb'), 1)} KB, "
                    f"{median(found, kind, 'requests'):.0f} requests"
                    + (f", {median(found, kind, 'offsite'):.0f} off-site"
                       if median(found, kind, "offsite") else ""))
            rows.append([f"{name}, {kind}", *cells])
    weight = table(f"Page weight and time to ready, median of {count} (before = {revision})",
                   ["link, load", "before", "after"], rows)
    thread_rows = []
    for label, key, unit in (("reload: time to ready", "reload_ms", "ms"),
                             ("reload: elements in the page", "reload_elements", ""),
                             ("reply: Enter to the turn's end", "reply_ms", "ms"),
                             ("the same reply in a new chat", "new_chat_reply_ms", "ms"),
                             ("reply: main thread blocked", "blocked_ms", "ms"),
                             ("after the reply: elements", "elements", "")):
        thread_rows.append([label, *(f"{fmt(median(results[side]['thread'], key), 0)} {unit}"
                                     .strip() for side in ("before", "after"))])
    thread = table(f"A 500-message chat, median of {count}", ["", "before", "after"],
                   thread_rows)
    return weight + "\n" + thread


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


if __name__ == "__main__":
    main()
