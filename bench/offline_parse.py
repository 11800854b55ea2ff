"""How long the offline model takes to read one message: ordinary phrasings and attacks.

Times `parse()` (chat_server/agent/offline/grammar.py) per message over three corpora: the
phrasings the model is tested with, attack messages (command openings followed by runs of
separators, dots, repeated words and long words, up to the chat server's message limit;
tests/chat_server/redos.py), and the message from the ReDoS report at growing lengths.
Beside the last, the pattern that froze the server (the old `_TITLE_TAIL`) is timed on the
same text, at lengths small enough to finish.

    python -m bench.offline_parse [--quick] [--json PATH]
"""

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bench.common import base_parser, describe_machine, fmt, percentile, table, write_json
from chat_server.agent.offline.grammar import parse
from shared.settings import Settings
from tests.chat_server.phrasings import PHRASINGS
from tests.chat_server.redos import GENERIC_UNITS, MESSAGE_PREFIXES, repeated

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
MAX_MESSAGE_CHARS: int = Settings.model_fields["max_message_chars"].default
OLD_TITLE_TAIL = re.compile(
    r"(?:[\s,;:.-]+|\b(?:and|due|by|on|at|for|with|to|starting|from|priority|every|is|it's"
    r"|its|please|also)$)+$",
    re.IGNORECASE,
)


def report_message(length: int) -> str:
    """The reported message, "add a , , , x", about `length` characters long."""
    return "add a " + ", " * max((length - 7) // 2, 1) + "x"


def _seconds(call: Callable[[str], Any], text: str) -> float:
    start = time.perf_counter()
    call(text)
    return time.perf_counter() - start


def _parse(text: str) -> Any:
    return parse(text, NOW)


def timed(messages: Sequence[str], rounds: int) -> list[float]:
    """Each message's best time over `rounds` parses (the least disturbed by other load)."""
    return [min(_seconds(_parse, m) for _ in range(rounds)) for m in messages]


def corpora(quick: bool) -> dict[str, list[str]]:
    sizes = (40, 400, MAX_MESSAGE_CHARS)
    prefixes = MESSAGE_PREFIXES[:6] if quick else MESSAGE_PREFIXES
    attacks = [
        repeated(prefix, unit, size, "!x")
        for prefix in prefixes
        for unit in GENERIC_UNITS
        for size in (sizes[::2] if quick else sizes)
    ]
    ordinary = [p.text for p in PHRASINGS]
    return {"ordinary phrasings": ordinary[:60] if quick else ordinary, "attacks": attacks}


def run(quick: bool, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"corpora": {}, "report": []}
    for name, messages in corpora(quick).items():
        times = timed(messages, rounds)
        worst = max(range(len(messages)), key=times.__getitem__)
        results["corpora"][name] = {
            "messages": len(messages),
            "longest_chars": max(map(len, messages)),
            "mean_ms": sum(times) / len(times) * 1000,
            "p50_ms": percentile(times, 50) * 1000,
            "p99_ms": percentile(times, 99) * 1000,
            "worst_ms": times[worst] * 1000,
            "worst_message": f"{messages[worst][:40]!r} ({len(messages[worst])} chars)",
        }
    # The old pattern doubles its time every character or so: only short lengths finish.
    old_lengths = (15, 19) if quick else (15, 19, 21, 23)
    for length in (*old_lengths, 400, MAX_MESSAGE_CHARS):
        message = report_message(length)
        tail = message.removeprefix("add a ")
        old = _seconds(OLD_TITLE_TAIL.search, tail) if length in old_lengths else None
        results["report"].append(
            {
                "chars": len(message),
                "parse_ms": min(timed([message], rounds)) * 1000,
                "old_title_tail_ms": None if old is None else old * 1000,
            }
        )
    return results


def print_tables(results: dict[str, Any]) -> None:
    rows = [
        [name, str(c["messages"]), str(c["longest_chars"]), fmt(c["mean_ms"], 3),
         fmt(c["p50_ms"], 3), fmt(c["p99_ms"], 3), fmt(c["worst_ms"], 3), c["worst_message"]]
        for name, c in results["corpora"].items()
    ]  # fmt: skip
    headers = [
        "corpus", "messages", "longest", "mean ms", "p50 ms", "p99 ms", "worst ms", "worst message"
    ]  # fmt: skip
    print(table("parse() per message", headers, rows))
    rows = [
        [str(r["chars"]), fmt(r["parse_ms"], 3),
         "not run (would take minutes)" if r["old_title_tail_ms"] is None
         else fmt(r["old_title_tail_ms"], 1)]
        for r in results["report"]
    ]  # fmt: skip
    headers = ["characters", "parse() now, ms", "old _TITLE_TAIL alone, ms"]
    print(table('"add a , , , ..., x" (the ReDoS report)', headers, rows))


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the benchmark."""
    args = base_parser(__doc__).parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    print(describe_machine("before"))
    results = run(args.quick, rounds)
    print_tables(results)
    print(describe_machine("after"))
    write_json(args, {"rounds": rounds, **results})


if __name__ == "__main__":
    main()
