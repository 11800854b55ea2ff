"""Hostile input against both real servers: well over a thousand generated requests at every
endpoint and every MCP tool, eight at a time, while an honest user keeps working.

Both servers run as real processes on 127.0.0.1 (PostgreSQL, JWT mode, JSON logs in files).
The requests are enumerated in tests/reliability/hostile_*.py: sizes (empty to 50 MB
streamed), wrong JSON types, bad encodings, out-of-range ids, limits and dates, unicode,
forged cursors and tokens, hostile chat messages and malformed JSON-RPC. The test asserts:

- no answer is a 5xx (no 503 either: neither server documents a concurrency limit that
  answers 503), no connection is dropped unless the request was far over every size limit,
  and no tool call comes back as a bare crash ("Error executing tool X" with no reason);
- no traceback and no ERROR line in either server's log;
- each server's RSS grows by less than RSS_GROWTH_BOUND over the attack;
- every request of the honest user (chat /api/tasks, MCP list_tasks, both /healthz) is
  answered 200 within HONEST_LATENCY;
- the answer to a request carrying a 1 MB field is under ECHO_BOUND bytes;
- live update streams: at most STREAMS_PER_USER open at once for one user, however many are
  asked for at the same moment, and a stream ends when the token that opened it expires.

On failure the message lists every failing case (family, input, endpoint, status, answer and
the log lines its request id wrote); HOSTILE_REPORT=path also writes them all as JSON.
"""

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from chat_server.features import FEATURES
from chat_server.web.events import STREAMS_PER_USER
from shared.contract import TOOL_NAMES
from testbed.databases import postgres_schema
from testbed.sse import sse_json
from tests.conftest import _postgres_or_fail
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, user_input
from tests.reliability.harness import JWT_ENV, fresh_user, token
from tests.reliability.hostile_api import api_cases, header_cases, page_cases, token_cases
from tests.reliability.hostile_inputs import (
    CHAT,
    MB,
    MCP,
    Case,
    Target,
    chatkit_cases,
    encoding_cases,
    offline_model_cases,
)
from tests.reliability.hostile_mcp import (
    ACCEPT,
    CURSOR_SECRET,
    jsonrpc_cases,
    meta_cases,
    tool_call,
    tool_cases,
)

pytestmark = pytest.mark.timeout(600)

CONCURRENCY = 8
MIN_CASES = 1000
# An answer that names what was wrong takes a few hundred bytes; 4 kB leaves room for a
# JSON-RPC envelope and headers' worth of text, and is 256 times smaller than the field.
ECHO_BOUND = 4096
# A 50 MB body may be held while it is refused, but not kept: what stays is caches, pool
# connections and allocator slack. 150 MB is a third of a small (512 MB) container, and
# several times what a run without leaks was seen to grow by.
RSS_GROWTH_BOUND = 150 * MB
HONEST_LATENCY = 1.0
REQUEST_SECONDS = 30.0
EXPIRING_TOKEN_SECONDS = 3
# A chat server frozen by one message is restarted this many times, so each later message
# still gets a verdict of its own.
MAX_RESTARTS = 3
TOOL_CRASH = re.compile(rb'Error executing tool [a-z_]+"')
STACK_ENV = {
    **JWT_ENV,
    "TASKCHAT_MODEL": "offline",
    "TASKCHAT_TIMEZONE": "UTC",
    # The rate limits are tested elsewhere; here every request should reach the code behind.
    "RATE_LIMIT": "1000000/minute",
    "MCP_RATE_LIMIT": "1000000/minute",
    "LOG_FORMAT": "json",
    "CURSOR_SECRET": CURSOR_SECRET,
}


@dataclass
class Outcome:
    """What one request got."""

    case: Case
    request_id: str
    started: float = 0.0
    """Seconds after the attack began."""
    status: int | None = None
    size: int = 0
    head: bytes = b""
    seconds: float = 0.0
    error: str | None = None
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def hostile_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers on a PostgreSQL schema of their own, in JWT mode, logging JSON to files."""
    _postgres_or_fail()
    log_dir = tmp_path_factory.mktemp("hostile-logs")
    with postgres_schema("hostile") as url:
        stack = Stack(url, dict(STACK_ENV), log_dir=log_dir)
        try:
            stack.start_mcp()
            stack.start_chat()
            load_features(stack)
            yield stack
        finally:
            stack.stop()


def load_features(stack: Stack) -> None:
    """Have the chat server import its optional features, as their first requests would.

    It imports them at their first request (a second of start-up work, once per process):
    done before the attack, so that the attack and the RSS it adds are measured, not a
    cold start.
    """
    assert stack.chat is not None
    auth = {"Authorization": f"Bearer {token(fresh_user('warm'))}"}
    with httpx.Client(timeout=60) as http:
        for feature in FEATURES:
            http.get(f"{stack.chat.base_url}{feature.paths[0]}", headers=auth)


def rss(pid: int) -> int:
    """Resident set size of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def mcp_post(http: httpx.Client, stack: Stack, bearer: str, name: str, args: Any) -> Any:
    assert stack.mcp is not None
    response = http.post(
        f"{stack.mcp.base_url}/mcp",
        json=tool_call(name, args),
        headers={"Authorization": f"Bearer {bearer}", "Accept": ACCEPT[1]},
    )
    assert response.status_code == 200, response.text
    return response.json()["result"].get("structuredContent")


def make_target(stack: Stack, attacker: str, victim: str) -> Target:
    """The attacker's tasks, thread and cursor, and one task of a victim."""
    assert stack.chat is not None
    bearer = token(attacker)
    with httpx.Client(timeout=60) as http:
        for title in ("first", "second", "third"):
            mcp_post(http, stack, bearer, "add_task", {"title": title, "due": "2030-01-01"})
        task_id = mcp_post(http, stack, bearer, "add_task", {"title": "mine"})["task_id"]
        far = mcp_post(
            http,
            stack,
            bearer,
            "add_task",
            {"title": "far", "due": "9999-12-31", "recurrence": "daily"},
        )
        page = mcp_post(http, stack, bearer, "list_tasks", {"sort": "due", "limit": 1})
        foreign = mcp_post(http, stack, token(victim), "add_task", {"title": "victim's"})
        chat = {"Authorization": f"Bearer {bearer}"}
        created = http.post(
            f"{stack.chat.base_url}/chatkit",
            headers=chat,
            json={"type": "threads.create", "params": {"input": user_input("add buy milk")}},
        )
        assert created.status_code == 200, created.text
        events = sse_json(created.text)
        thread_id = next(e["thread"]["id"] for e in events if e["type"] == "thread.created")
        listed = http.post(
            f"{stack.chat.base_url}/chatkit",
            headers=chat,
            json={"type": "items.list", "params": {"thread_id": thread_id, "limit": 50}},
        )
        items = listed.json()["data"]
    return Target(
        user_token=bearer,
        service_token=SERVICE_TOKEN,
        thread_id=thread_id,
        item_id=next(i["id"] for i in items if i["type"] == "user_message"),
        widget_id=next((i["id"] for i in items if i["type"] == "widget"), items[-1]["id"]),
        task_id=task_id,
        far_recurring_task_id=far["task_id"] if far else None,
        foreign_task_id=foreign["task_id"],
        cursor=page["next_cursor"],
    )


def hostile_cases(target: Target) -> list[Case]:
    """Every generated case, in a fixed order."""
    mcp_call = tool_call("list_tasks", {"limit": 1})
    return list(
        chain(
            chatkit_cases(target),
            offline_model_cases(target),
            api_cases(target),
            page_cases(target),
            header_cases(target),
            token_cases(target),
            tool_cases(target),
            meta_cases(target),
            jsonrpc_cases(target),
            encoding_cases(target, mcp_call),
        )
    )


async def upload(head: bytes, megabytes: int) -> AsyncIterator[bytes]:
    """`head`, then `megabytes` MB of 'x', 64 kB at a time, never in memory at once."""
    yield head
    chunk = b"x" * (64 * 1024)
    for _ in range(megabytes * 16):
        yield chunk


class Attack:
    """Sends cases to both servers, a bounded number at a time, and notices a server that
    stops answering: its remaining cases are then not sent but reported, so one frozen
    event loop costs seconds, not REQUEST_SECONDS for every case behind it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        bases: dict[str, str],
        restart: dict[str, Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        self.http = http
        self.bases = bases
        self.frozen_after: dict[str, str] = {}
        # Servers that may be restarted after they froze (so later cases still get a verdict).
        self.restart = restart or {}
        self.frozen: list[str] = []
        """Every case after which a server stopped answering, in order."""
        self.epoch = time.monotonic()

    async def run(self, cases: list[tuple[int, Case]], concurrency: int) -> list[Outcome]:
        gate = asyncio.Semaphore(concurrency)

        async def bounded(index: int, case: Case) -> Outcome:
            async with gate:
                return await self.send(case, index)

        return await asyncio.gather(*(bounded(index, case) for index, case in cases))

    async def send(self, case: Case, index: int) -> Outcome:
        """Send one case and read its answer (only the headers of an endless stream).

        A connection that fails at once is tried again once on a new connection: a server
        may close a kept-alive connection after the previous request's answer (after a 500,
        for example), and that is not this case's answer.
        """
        outcome = Outcome(case, f"hostile-{index}", started=time.monotonic() - self.epoch)
        if (culprit := self.frozen_after.get(case.server)) is not None:
            outcome.error = f"not sent: the {case.server} server stopped answering after {culprit}"
            return outcome
        names = {name.lower() for name, _ in case.headers}
        extra = [] if "x-request-id" in names else [("X-Request-ID", outcome.request_id)]
        # As bytes: httpx would refuse to encode non-ASCII header values itself.
        headers = [(name, _bytes(value)) for name, value in [*case.headers, *extra]]
        for attempt in range(2):
            outcome.status, outcome.size, outcome.head, outcome.error = None, 0, b"", None
            started = time.monotonic()
            try:
                async with asyncio.timeout(REQUEST_SECONDS):
                    await self._exchange(case, headers, outcome, fresh=attempt > 0)
            except (httpx.HTTPError, TimeoutError) as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"[:300]
            except Exception as exc:  # the client refused to send it: a fault of this test
                outcome.error = f"not sent (client refused): {type(exc).__name__}: {exc}"[:300]
            outcome.seconds = time.monotonic() - started
            if outcome.status is not None or outcome.seconds > 1 or case.may_hang_up:
                break
        if outcome.seconds >= REQUEST_SECONDS and not await self._answers(case.server):
            culprit = f"{outcome.request_id} [{case.family}: {case.what}]"
            self.frozen.append(f"{case.server} server: {culprit}")
            outcome.error = f"the {case.server} server stopped answering (> {REQUEST_SECONDS} s)"
            if case.server in self.restart and len(self.frozen) <= MAX_RESTARTS:
                await self.restart[case.server]()
            else:
                self.frozen_after.setdefault(case.server, culprit)
        return outcome

    async def _exchange(self, case: Case, headers: Any, outcome: Outcome, fresh: bool) -> None:
        url = self.bases[case.server] + case.path
        content = upload(case.body or b"", case.upload_mb) if case.upload_mb else case.body
        async with AsyncExitStack() as stack:
            http = self.http
            if fresh:
                http = await stack.enter_async_context(httpx.AsyncClient(timeout=REQUEST_SECONDS))
            answer = await stack.enter_async_context(
                http.stream(case.method, url, headers=headers, content=content)
            )
            outcome.status = answer.status_code
            if case.open_stream and "event-stream" in answer.headers.get("content-type", ""):
                return
            async for chunk in answer.aiter_raw():
                outcome.size += len(chunk)
                if len(outcome.head) < 2048:
                    outcome.head += chunk[: 2048 - len(outcome.head)]

    async def _answers(self, server: str) -> bool:
        try:
            response = await self.http.get(f"{self.bases[server]}/healthz", timeout=5)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def restart_chat(stack: Stack) -> None:
    """Kill a frozen chat server (SIGTERM waits for a blocked event loop) and start another."""
    assert stack.chat is not None
    stack.chat.process.kill()
    stack.chat.process.wait(timeout=10)
    stack.start_chat()


def judge(outcome: Outcome) -> list[str]:
    """What is wrong with an answer, if anything."""
    case, problems = outcome.case, []
    if outcome.error is not None and not case.may_hang_up:
        problems.append(f"no answer: {outcome.error}")
    if outcome.status is not None and outcome.status >= 500:
        problems.append(f"status {outcome.status}")
    if TOOL_CRASH.search(outcome.head):
        problems.append("tool crashed (bare 'Error executing tool')")
    if case.big_field and outcome.size > ECHO_BOUND:
        problems.append(f"answer of {outcome.size} bytes to a 1 MB field (echo?)")
    return problems


@dataclass
class Honest:
    """The honest user's requests during the attack: (what, seconds, status)."""

    samples: list[tuple[str, float, int | None, float]] = field(default_factory=list)
    """(what, seconds, status, started: seconds after `epoch`)"""
    epoch: float = field(default_factory=time.monotonic)

    async def poll(self, stack: Stack, bearer: str, done: asyncio.Event) -> None:
        assert stack.chat is not None and stack.mcp is not None
        auth = {"Authorization": f"Bearer {bearer}"}
        mcp_headers = {**auth, "Accept": ACCEPT[1]}
        listing = tool_call("list_tasks", {"limit": 20})
        requests = [
            ("chat GET /api/tasks", "GET", f"{stack.chat.base_url}/api/tasks", auth, None),
            ("mcp list_tasks", "POST", f"{stack.mcp.base_url}/mcp", mcp_headers, listing),
            ("chat /healthz", "GET", f"{stack.chat.base_url}/healthz", {}, None),
            ("mcp /healthz", "GET", f"{stack.mcp.base_url}/healthz", {}, None),
        ]
        async with httpx.AsyncClient(timeout=5) as http:
            while not done.is_set():
                for name, method, url, headers, body in requests:
                    started = time.monotonic()
                    try:
                        response = await http.request(method, url, headers=headers, json=body)
                        status: int | None = response.status_code
                    except httpx.HTTPError:
                        status = None
                    elapsed = time.monotonic() - started
                    self.samples.append((name, elapsed, status, started - self.epoch))
                await asyncio.sleep(0.05)

    def failures(self, outcomes: list[Outcome]) -> list[str]:
        """Each slow or failed request, with the hostile cases that were in flight then."""
        lines = []
        for name, seconds, status, started in self.samples:
            if seconds < HONEST_LATENCY and status == 200:
                continue
            during = sorted(
                (
                    o
                    for o in outcomes
                    if o.started < started + seconds and started < o.started + o.seconds
                ),
                key=lambda o: -o.seconds,
            )[:3]
            cases = "; ".join(
                f"{o.case.family}: {o.case.what[:50]} ({o.seconds:.1f} s)" for o in during
            )
            lines.append(f"{name}: {seconds:.2f} s, status {status}, during [{cases}]")
        return lines


async def stream_limit(base: str) -> tuple[list[int | None], list[str]]:
    """Ask for STREAMS_PER_USER + 5 event streams of one user at the same moment and hold
    them all until each has its answer: at most STREAMS_PER_USER may be granted."""
    bearer, wanted = token(fresh_user("streams")), STREAMS_PER_USER + 5
    statuses: list[int | None] = []
    all_answered = asyncio.Event()
    limits = httpx.Limits(max_connections=wanted + 5)

    async def hold(http: httpx.AsyncClient) -> None:
        try:
            async with http.stream(
                "GET", f"{base}/api/events", headers={"Authorization": f"Bearer {bearer}"}
            ) as response:
                statuses.append(response.status_code)
                if len(statuses) == wanted:
                    all_answered.set()
                await asyncio.wait_for(all_answered.wait(), 20)
        except (httpx.HTTPError, TimeoutError):
            statuses.append(None)
            if len(statuses) == wanted:
                all_answered.set()

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(*(hold(http) for _ in range(wanted)))
    problems = []
    if statuses.count(200) > STREAMS_PER_USER:
        problems.append(
            f"{statuses.count(200)} streams open at once for one user (limit {STREAMS_PER_USER})"
        )
    problems += [f"stream answered {s}" for s in statuses if s is None or s >= 500]
    return statuses, problems


async def expiring_stream(base: str) -> list[str]:
    """A stream opened with a token that expires in a few seconds must end then."""
    claims = {"sub": fresh_user("expiring"), "exp": int(time.time()) + EXPIRING_TOKEN_SECONDS}
    bearer = jwt.encode(claims, SECRET, algorithm="HS256")
    body, started = b"", time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            async with asyncio.timeout(EXPIRING_TOKEN_SECONDS + 12):
                async with http.stream(
                    "GET", f"{base}/api/events", headers={"Authorization": f"Bearer {bearer}"}
                ) as response:
                    async for chunk in response.aiter_raw():
                        body += chunk
    except TimeoutError:
        return [
            f"stream still open {time.monotonic() - started:.0f} s after it was opened "
            f"with a token that expired after {EXPIRING_TOKEN_SECONDS} s: {body[:200]!r}"
        ]
    if b"event: expired" not in body:
        return [f"stream ended without 'event: expired': {body[:300]!r}"]
    return []


def log_records(path: Path) -> list[dict[str, Any]]:
    """Each line of a JSON log as a dict; a line that is not JSON as {"raw": line}."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"raw": line}
        records.append(record if isinstance(record, dict) else {"raw": line})
    return records


def bad_log_lines(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records at ERROR or above, and any that carry a traceback."""
    return [
        r
        for r in records
        if r.get("level") in ("ERROR", "CRITICAL") or "Traceback" in json.dumps(r)
    ]


def describe_log(record: dict[str, Any]) -> str:
    """One line: level, logger, message, the exception's last line and our deepest frame."""
    if "raw" in record:
        return record["raw"][:300]
    text = str(record.get("exc_info", ""))
    lines = text.splitlines()
    ours = [line.strip() for line in lines if re.search(r"/(chat_server|mcp_server|shared)/", line)]
    exception = lines[-1] if lines else ""
    where = f" at {ours[-1]}" if ours else ""
    return (
        f"{record.get('level')} {record.get('logger')}: {str(record.get('message'))[:200]}"
        f" | {exception[:200]}{where}"
    )


def summary(outcome: Outcome, logs: dict[str, list[str]]) -> dict[str, Any]:
    case = outcome.case
    return {
        "problems": outcome.problems,
        "family": case.family,
        "input": case.what,
        "endpoint": f"{case.server} {case.method} {case.path[:60]}",
        "status": outcome.status,
        "answer": outcome.head[:300].decode("utf-8", "replace"),
        "size": outcome.size,
        "seconds": round(outcome.seconds, 2),
        "request_id": outcome.request_id,
        "log": logs.get(outcome.request_id, [])[:3],
    }


def bad_server_logs(log_dir: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each server's traceback and ERROR lines, and the same lines by request id."""
    by_server: dict[str, list[str]] = {}
    by_request: dict[str, list[str]] = {}
    for server in (CHAT, MCP):
        for record in bad_log_lines(log_records(log_dir / f"{server}.log")):
            line = describe_log(record)
            by_server.setdefault(server, []).append(line)
            by_request.setdefault(str(record.get("request_id")), []).append(line)
    return by_server, by_request


async def test_hostile_requests_get_no_5xx_no_traceback_and_leave_others_served(
    hostile_stack: Stack,
) -> None:
    stack = hostile_stack
    assert stack.chat is not None and stack.mcp is not None and stack.log_dir is not None
    target = make_target(stack, fresh_user("mallory"), fresh_user("victim"))
    honest_user = fresh_user("honest")
    with httpx.Client(timeout=30) as http:
        mcp_post(http, stack, token(honest_user), "add_task", {"title": "honest work"})
    cases = list(enumerate(hostile_cases(target)))
    assert len(cases) >= MIN_CASES, len(cases)
    bases = {CHAT: stack.chat.base_url, MCP: stack.mcp.base_url}
    pids = {CHAT: stack.chat.process.pid, MCP: stack.mcp.process.pid}
    rss_before = {name: rss(pid) for name, pid in pids.items()}

    done = asyncio.Event()
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=httpx.Timeout(REQUEST_SECONDS), limits=limits) as http:
        attack = Attack(http, bases)
        honest = Honest(epoch=attack.epoch)
        poller = asyncio.create_task(honest.poll(stack, token(honest_user), done))
        # Chat turns go last and one at a time: should a message freeze the offline model,
        # every other case has had its answer, and the first turn to time out is the culprit.
        turns = [(i, case) for i, case in cases if case.family == "offline model"]
        others = [(i, case) for i, case in cases if case.family != "offline model"]
        streams = asyncio.gather(stream_limit(bases[CHAT]), expiring_stream(bases[CHAT]))
        outcomes, ((stream_statuses, stream_problems), expiry_problems) = await asyncio.gather(
            attack.run(others, CONCURRENCY), streams
        )
        # RSS now: a chat server frozen by a turn below is restarted, which resets its RSS.
        rss_after = {name: rss(pid) for name, pid in pids.items()}
        attack.restart[CHAT] = partial(asyncio.to_thread, restart_chat, stack)
        outcomes += await attack.run(turns, 1)
    done.set()
    await poller
    elapsed = time.monotonic() - started
    await asyncio.sleep(1)  # let each server finish logging what it was doing
    if stack.mcp.process.pid == pids[MCP]:
        rss_after[MCP] = rss(pids[MCP])

    bad_logs, logs_by_request = bad_server_logs(stack.log_dir)
    for outcome in outcomes:
        outcome.problems = judge(outcome)
        if logs_by_request.get(outcome.request_id):
            outcome.problems.append("traceback or ERROR in a server log")
    failing = [summary(o, logs_by_request) for o in outcomes if o.problems]
    growth = {name: rss_after[name] - rss_before[name] for name in pids}
    honest_worst = max((sample[1] for sample in honest.samples), default=0.0)
    report = {
        "requests": len(cases) + len(stream_statuses) + 1,
        "seconds": round(elapsed, 1),
        "by_family": _count(case.family for _, case in cases),
        "by_endpoint": _count(
            f"{c.server} {c.method} {c.path.split('?')[0][:40]}" for _, c in cases
        ),
        "by_tool": _count(_tool_of(case) for _, case in cases if _tool_of(case)),
        "rss_before_mb": {k: round(v / MB, 1) for k, v in rss_before.items()},
        "rss_after_mb": {k: round(v / MB, 1) for k, v in rss_after.items()},
        "honest_requests": len(honest.samples),
        "honest_worst_seconds": round(honest_worst, 3),
        "honest_failures": honest.failures(outcomes),
        "frozen_after": attack.frozen_after,
        "froze": attack.frozen,
        "stream_statuses": stream_statuses,
        "stream_problems": stream_problems + expiry_problems,
        "slowest": [
            (o.case.family, o.case.what, round(o.seconds, 2))
            for o in sorted(outcomes, key=lambda o: -o.seconds)[:10]
        ],
        "failing": failing,
        "log_lines": {k: sorted(set(v)) for k, v in bad_logs.items()},
    }
    if path := os.environ.get("HOSTILE_REPORT"):
        await asyncio.to_thread(Path(path).write_text, json.dumps(report, indent=2, default=str))
    print(json.dumps({k: v for k, v in report.items() if k != "failing"}, indent=1, default=str))

    messages = [
        f"{f['problems']} {f['endpoint']} [{f['family']}: {f['input']}] "
        f"status={f['status']} answer={f['answer'][:160]!r} log={f['log'][:1]}"
        for f in failing
    ]
    messages += [
        f"{server} log: {line}"
        for server, lines in report["log_lines"].items()
        for line in lines[:40]
    ]
    messages += [f"froze: {line}" for line in attack.frozen]
    messages += [f"honest user: {line}" for line in report["honest_failures"][:20]]
    messages += [f"event streams: {line}" for line in report["stream_problems"]]
    messages += [
        f"{name} RSS grew {growth[name] / MB:.0f} MB (bound {RSS_GROWTH_BOUND / MB:.0f} MB)"
        for name in pids
        if growth[name] >= RSS_GROWTH_BOUND
    ]
    assert not messages, f"{len(messages)} problems:\n" + "\n".join(messages[:150])


def _tool_of(case: Case) -> str | None:
    """The MCP tool a case calls, if it is a well-formed enough tools/call to name one."""
    match = re.search(rb'"method": "tools/call", "params": \{"name": "([a-z_]+)"', case.body or b"")
    name = match.group(1).decode() if match else None
    return name if name in TOOL_NAMES else None


def _count(values: Iterator[str] | Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
