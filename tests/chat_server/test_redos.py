"""No message can keep the offline model's regular expressions busy (ReDoS).

Python's `re` holds the GIL while it backtracks, so one slow match freezes every user of the
chat server. Two kinds of proof, over every pattern found automatically (a new pattern is
covered without editing this file):

- static: no pattern has an ambiguous repeat, the shape that backtracks exponentially
  (tests/chat_server/redos.py explains the check); the same for every pattern of the
  servers, the terminal client and the shared package;
- measured: attack strings built from each pattern's own words and separators, up to the
  longest message the chat server accepts, and whole messages through `parse()` and the
  model, each finish far under a bound that only exponential or polynomial blow-up reaches.
"""

import ast
import importlib
import pkgutil
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import chat_server
import chat_server.agent.offline
import mcp_server
import shared
import taskchat_cli
from chat_server.agent.offline.grammar import parse
from chat_server.agent.offline.model import OfflineModel
from shared.contract import TOOL_NAMES
from shared.settings import Settings
from tests.chat_server.redos import (
    GENERIC_UNITS,
    MESSAGE_PREFIXES,
    SMALL_SIZES,
    SUFFIXES,
    ambiguities,
    pattern_units,
    repeated,
)

MAX_MESSAGE_CHARS: int = Settings.model_fields["max_message_chars"].default
# Generous for a loaded 2-core machine; exponential backtracking takes seconds at 30 characters.
BOUND = 0.5
# A whole message: the model reads at most MAX_COMMAND_CHARS of a request word by word, so
# the worst message takes a few milliseconds (bench/offline_parse.py); ten times that here.
MESSAGE_BOUND = 0.05
TRIES = 3
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
_REGEX_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall"}
_REGEX_CALLS |= {"finditer"}

# What froze the server before: the patterns as they were, and the classic shapes.
OLD_PATTERNS = {
    "old _TITLE_TAIL": (
        r"(?:[\s,;:.-]+|\b(?:and|due|by|on|at|for|with|to|starting|from|priority|every|is|it's"
        r"|its|please|also)$)+$"
    ),
    "old _TITLE_HEAD": r"^(?:[\s,;:.-]+|\b(?:to|that|and|task|todo)\b\s*(?=\S))+",
    "old _TRAIL": r"(?:[\s,.!?;:]+|\b(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me)\b)+$",
    "old _LEAD": r"^(?:(?:please|ok)\b[\s,!.:;-]*|(?:can|could)\s+you\s+(?:please\s+)?)+",
    "old _PAST tail": r"(?:\s+(?:already|earlier(?:\s+today)?|today|too))*$",
    "nested plus": r"(a+)+$",
    "comma run": r"(\s*,\s*)+x",
    "same alternative twice": r"(?:a|a)*x",
    "overlapping alternatives": r"(?:[\s,]+|\s)+x",
    "inside an atomic group": r"(?>(a+)+b)",
}
SAFE_PATTERNS = {
    "possessive inner run": r"(?:a++)+$",
    "atomic inner run": r"(?>a+)+$",
    "possessive runs around a comma": r"(?:\s*+,\s*+)+x",
    "one character per iteration": r"(?:[\s,;:.-]|\b(?:and|due)\b)+$",
    "lazy target then spaces": r"^(?P<t>.+?)\s+due$",
    "disjoint alternatives": r"(?:a|b)*x",
}


# ---------------------------------------------------------------- finding the patterns


def _patterns_in(value: Any) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _patterns_in(item)
    elif isinstance(value, dict):
        for item in (*value.keys(), *value.values()):
            yield from _patterns_in(item)


def module_patterns(package: Any, only_with: str = "") -> dict[str, re.Pattern[str]]:
    """Every compiled pattern held at module level (also in dicts, tuples and lists)."""
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.ispkg or info.name.endswith("__main__"):
            continue
        spec = importlib.util.find_spec(info.name)
        if only_with and (spec is None or only_with not in Path(str(spec.origin)).read_text()):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            for number, pattern in enumerate(_patterns_in(value)):
                key = f"{info.name}.{name}" + (f"[{number}]" if number else "")
                if pattern not in found.values():
                    found[key] = pattern
    return found


def _regex_literal(node: ast.AST) -> str | None:
    """The pattern of a `re.compile("...")`-like call written with a literal, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.func.attr in _REGEX_CALLS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def literal_patterns(
    folder: Path, *, in_functions_only: bool = False
) -> dict[str, re.Pattern[str]]:
    """Patterns written as literals in `re.*(...)` calls in the folder's source."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text())
        roots: list[ast.AST] = [tree]
        if in_functions_only:
            roots = [
                n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
        for root in roots:
            for node in ast.walk(root):
                if (text := _regex_literal(node)) is None:
                    continue
                assert isinstance(node, ast.Call)
                # Flags, when given, are IGNORECASE at most here: reading with it only adds.
                flags = re.IGNORECASE if len(node.args) > 2 or node.keywords else 0
                found[f"{path.relative_to(ROOT)}:{node.lineno}"] = re.compile(text, flags)
    return found


OFFLINE = module_patterns(chat_server.agent.offline)
SERVERS = {
    **{name: p for package in (shared, mcp_server, chat_server, taskchat_cli)
       for name, p in module_patterns(package, only_with="re.compile").items()},
    **{name: p for folder in ("shared", "mcp_server", "chat_server", "taskchat_cli")
       for name, p in literal_patterns(ROOT / folder).items()},
}  # fmt: skip


def test_the_offline_model_has_its_patterns_where_these_tests_find_them() -> None:
    assert len(OFFLINE) > 100
    assert {
        "chat_server.agent.offline.phrases._TITLE_TAIL",
        "chat_server.agent.offline.grammar._ADD",
    } <= set(OFFLINE)
    assert any(name.startswith("chat_server.agent.offline.commands._UPDATES") for name in OFFLINE)
    # A pattern written inline in a call is compiled on first use, out of these tests' sight.
    offline = ROOT / "chat_server" / "agent" / "offline"
    assert offline.is_dir()
    assert literal_patterns(offline, in_functions_only=True) == {}


# ---------------------------------------------------------------- static check


@pytest.mark.parametrize("name", sorted(OFFLINE))
def test_no_offline_pattern_can_backtrack_exponentially(name: str) -> None:
    assert ambiguities(OFFLINE[name]) == []


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_no_pattern_of_the_servers_can_backtrack_exponentially(name: str) -> None:
    assert ambiguities(SERVERS[name]) == []


@pytest.mark.parametrize("name", sorted(OLD_PATTERNS))
def test_the_check_flags_the_patterns_that_froze_the_server(name: str) -> None:
    assert ambiguities(OLD_PATTERNS[name], re.IGNORECASE)


@pytest.mark.parametrize("name", sorted(SAFE_PATTERNS))
def test_the_check_passes_runs_that_cannot_be_split_two_ways(name: str) -> None:
    assert ambiguities(SAFE_PATTERNS[name]) == []


# ---------------------------------------------------------------- measured


def _timed(call: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    call(text)
    return time.perf_counter() - start


def test_no_attack_string_keeps_an_offline_pattern_busy() -> None:
    """Every pattern, search/match/fullmatch, each of its units repeated up to the limit."""
    worst: tuple[float, str] = (0.0, "")
    slow = []
    for name, pattern in OFFLINE.items():
        calls = (pattern.search, pattern.match, pattern.fullmatch)
        for unit in pattern_units(pattern):
            for suffix in SUFFIXES:
                for size in (*SMALL_SIZES, MAX_MESSAGE_CHARS):
                    text = repeated("", unit, size, suffix)
                    took = max(_timed(call, text) for call in calls)
                    worst = max(worst, (took, f"{name} on {unit!r} x{size} + {suffix!r}"))
                    if took > BOUND:
                        slow.append(f"{took:.2f} s: {name} on {text[:40]!r}... ({len(text)})")
                        break  # longer ones would only take longer
    print(f"\nslowest pattern call: {worst[0] * 1000:.2f} ms ({worst[1]})")
    assert slow == []


def attack_messages() -> Iterator[str]:
    """Whole messages: command openings followed by long runs, up to the size limit."""
    for prefix in MESSAGE_PREFIXES:
        for unit in GENERIC_UNITS:
            for size in (40, MAX_MESSAGE_CHARS):
                yield repeated(prefix, unit, size, "!x")
    yield "add a " + ", " * 13 + "x"  # the report: 16 s before the fix
    yield "add a " + "." * (MAX_MESSAGE_CHARS - 8) + "x"


def test_no_message_keeps_the_offline_model_busy() -> None:
    """`parse()`, and the model's whole decision, for every attack message."""
    model = OfflineModel(clock=lambda: NOW, timezone="UTC")
    tools = [SimpleNamespace(name=name) for name in TOOL_NAMES]
    worst: tuple[float, str] = (0.0, "")
    slow = []
    for message in attack_messages():
        # Best of a few tries: a busy machine can pause any one call for longer than the
        # bound, but no pause makes a slow reading fast.
        took = min(
            max(
                _timed(lambda text: parse(text, NOW), message),
                _timed(lambda text: model.decide(text, tools), message),  # type: ignore[arg-type]
            )
            for _ in range(TRIES)
        )
        worst = max(worst, (took, f"{message[:30]!r}... ({len(message)} characters)"))
        if took > MESSAGE_BOUND:
            slow.append(f"{took:.2f} s: {message[:40]!r}... ({len(message)} characters)")
    print(f"\nslowest message: {worst[0] * 1000:.2f} ms ({worst[1]})")
    assert slow == []
