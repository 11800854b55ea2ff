"""Regular expressions that can backtrack exponentially, found before anyone sends the input.

Python's `re` is a backtracking matcher with no timeout, and it holds the GIL while it
works: one pattern that can match the same text in exponentially many ways freezes every
user of the process. That happens exactly when a repeat is *ambiguous*: from one point of
the pattern, two different paths through the repeat consume the same string and come back
to that point (`(a+)+`, `(\\s*,\\s*)+`, `(x|x)+`, `([\\s,]+|\\s)+`). Every extra copy of
that string doubles the paths a failing match must try.

`ambiguities(pattern)` decides this on the tree Python's own compiler reads
(`re._parser`): it builds the pattern's position automaton, pairs it with itself and looks
for a cycle through a state pair `(q, q)` on which the two copies took different steps
(Weideman et al., "Analyzing Catastrophic Backtracking Behavior in Practical Regular
Expression Matching", 2016). Characters are compared on a finite alphabet of witnesses (the
pattern's own literals plus one character of every class), which is exact for the sets a
pattern can name. Python 3.11's tools against it are understood: a possessive repeat of one
character class (`\\s*+`, `[,.]++`) can only stop where the next character leaves the
class, and a path inside an atomic group or a possessive repeat of anything else is never
backtracked into once the group has matched (its inside is checked on its own). Anchors,
`\\b` and lookarounds are read as always passing, which can only report more, never less.

`attack_units(pattern)` are the pieces to repeat in inputs that would drive such a repeat:
the pattern's own words and one character of each class it names.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from re import _constants as sre
from re import _parser
from typing import Any

# One character of every class a pattern can name, besides the pattern's own literals.
BASE_WITNESSES = (
    " \t\n\r\x0b\x0c\x00\xa0\u2028\u3000"  # spaces, and a NUL
    "aAzZqQ0159_"  # word characters
    "-.,;:!?#&+*/'\"()[]@$%=<>|~`^{}\\"  # punctuation
    "éÉßİıǅ中٣²ﬀ\U0001f600"  # letters, digits and a symbol outside ASCII
)
_CHARS = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY, sre.GROUPREF)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ZERO_WIDTH = (sre.AT,)
_LOOKAROUNDS = (sre.ASSERT, sre.ASSERT_NOT)

Items = list[tuple[Any, Any]]
CharSet = frozenset[str]


@dataclass(frozen=True)
class Ambiguity:
    """A repeat that can match `chars` in two ways from one place: exponential backtracking."""

    pattern: str
    chars: str
    inside: str  # "" at top level, else the atomic group / lookaround whose body it is in

    def __str__(self) -> str:
        where = f" (inside {self.inside})" if self.inside else ""
        return f"{self.pattern!r}: two paths through a repeat both match {self.chars!r}{where}"


@dataclass
class _State:
    chars: CharSet | None = None  # a consuming state, else an epsilon state
    to: int = -1  # where a consuming state goes
    eps: list[tuple[int, CharSet]] = field(default_factory=list)  # (state, forbidden next chars)
    regions: frozenset[int] = frozenset()


@dataclass(frozen=True, eq=False)  # two epsilon paths to one state are two different steps
class _Edge:
    src: int
    dst: int
    chars: CharSet
    internal: frozenset[int]  # atomic regions this step never leaves


@dataclass
class _Nfa:
    """A Thompson automaton; atomic regions are opaque from outside."""

    witnesses: tuple[str, ...]
    states: list[_State] = field(default_factory=list)
    regions: list[frozenset[int]] = field(default_factory=lambda: [frozenset()])
    count: int = 0  # atomic regions made so far
    inner: list[tuple[str, Items, int]] = field(default_factory=list)  # bodies to check alone

    def new(self, chars: CharSet | None = None) -> int:
        self.states.append(_State(chars=chars, regions=self.regions[-1]))
        return len(self.states) - 1

    def eps(self, src: int, dst: int, forbid: CharSet = frozenset()) -> None:
        self.states[src].eps.append((dst, forbid))


def _flags_of(pattern: re.Pattern[str] | str, flags: int) -> tuple[str, int]:
    if isinstance(pattern, re.Pattern):
        return pattern.pattern, pattern.flags
    return pattern, flags


def _literals(items: Items) -> Iterator[int]:
    for op, av in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL):
            yield av
        elif op == sre.IN:
            for sub_op, sub_av in av:
                if sub_op == sre.LITERAL:
                    yield sub_av
                elif sub_op == sre.RANGE:
                    yield from (sub_av[0], sub_av[1])
        elif op == sre.SUBPATTERN:
            yield from _literals(av[3])
        elif op == sre.BRANCH:
            for branch in av[1]:
                yield from _literals(branch)
        elif op in (*_REPEATS, sre.POSSESSIVE_REPEAT):
            yield from _literals(av[2])
        elif op in (sre.ATOMIC_GROUP,):
            yield from _literals(av)
        elif op in _LOOKAROUNDS:
            yield from _literals(av[1])
        elif op == sre.GROUPREF_EXISTS:
            yield from _literals(av[1])
            if av[2] is not None:
                yield from _literals(av[2])


def _witnesses(items: Items) -> tuple[str, ...]:
    found = dict.fromkeys(BASE_WITNESSES)
    for code in _literals(items):
        char = chr(code)
        for variant in (char, char.lower(), char.upper(), chr(max(code - 1, 0)), chr(code + 1)):
            if len(variant) == 1:
                found[variant] = None
    return tuple(found)


def _in_category(char: str, category: Any, ascii_only: bool) -> bool:
    if ascii_only and not char.isascii():
        word = digit = space = False
    else:
        word, digit, space = char.isalnum() or char == "_", char.isdecimal(), char.isspace()
    match category:
        case sre.CATEGORY_DIGIT:
            return digit
        case sre.CATEGORY_NOT_DIGIT:
            return not digit
        case sre.CATEGORY_SPACE:
            return space
        case sre.CATEGORY_NOT_SPACE:
            return not space
        case sre.CATEGORY_WORD:
            return word
        case sre.CATEGORY_NOT_WORD:
            return not word
    return True  # an unknown category: assume it can match


def _same(char: str, code: int, icase: bool) -> bool:
    other = chr(code)
    return char == other or (icase and char.lower() == other.lower())


def _char_set(op: Any, av: Any, flags: int, witnesses: tuple[str, ...]) -> CharSet:
    icase, ascii_only = bool(flags & re.IGNORECASE), bool(flags & re.ASCII)
    if op == sre.LITERAL:
        return frozenset(w for w in witnesses if _same(w, av, icase))
    if op == sre.NOT_LITERAL:
        return frozenset(w for w in witnesses if not _same(w, av, icase))
    if op == sre.ANY:
        return frozenset(w for w in witnesses if flags & re.DOTALL or w != "\n")
    if op == sre.GROUPREF:
        return frozenset(witnesses)
    negate = bool(av) and av[0][0] == sre.NEGATE
    found = set()
    for w in witnesses:
        hit = False
        for sub_op, sub_av in av:
            if sub_op == sre.LITERAL:
                hit = _same(w, sub_av, icase)
            elif sub_op == sre.RANGE:
                cases = {w, w.lower(), w.upper()} if icase else {w}
                hit = any(len(c) == 1 and sub_av[0] <= ord(c) <= sub_av[1] for c in cases)
            elif sub_op == sre.CATEGORY:
                hit = _in_category(w, sub_av, ascii_only)
            if hit:
                break
        if hit != negate:
            found.add(w)
    return frozenset(found)


def _single_class(items: Items) -> bool:
    """True when `items` match exactly one character from a fixed set."""
    while len(items) == 1 and items[0][0] == sre.SUBPATTERN:
        items = list(items[0][1][3])
    return len(items) == 1 and items[0][0] in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)


class _Builder:
    def __init__(self, nfa: _Nfa, flags: int) -> None:
        self.nfa, self.flags = nfa, flags

    def seq(self, items: Iterable[tuple[Any, Any]], flags: int) -> tuple[int, int]:
        start = end = self.nfa.new()
        for op, av in items:
            first, last = self.one(op, av, flags)
            self.nfa.eps(end, first)
            end = last
        return start, end

    def one(self, op: Any, av: Any, flags: int) -> tuple[int, int]:  # noqa: PLR0911, PLR0912
        nfa = self.nfa
        if op in _CHARS:
            state, after = nfa.new(_char_set(op, av, flags, nfa.witnesses)), nfa.new()
            nfa.states[state].to = after
            return state, after
        if op in _ZERO_WIDTH:
            state = nfa.new()
            return state, state
        if op in _LOOKAROUNDS:
            nfa.inner.append(("a lookaround", list(av[1]), flags))
            state = nfa.new()
            return state, state
        if op == sre.SUBPATTERN:
            _group, add, remove, body = av
            return self.seq(body, (flags | add) & ~remove)
        if op in (sre.BRANCH, sre.GROUPREF_EXISTS):
            branches = av[1] if op == sre.BRANCH else [av[1], av[2] or []]
            start, end = nfa.new(), nfa.new()
            for branch in branches:
                first, last = self.seq(branch, flags)
                nfa.eps(start, first)
                nfa.eps(last, end)
            return start, end
        if op in _REPEATS:
            return self.repeat(av, flags)
        if op == sre.POSSESSIVE_REPEAT and _single_class(list(av[2])):
            return self.repeat(av, flags, possessive=True)
        # (?>x*) is x*+
        atomic_run = op == sre.ATOMIC_GROUP and len(av) == 1 and av[0][0] == sre.MAX_REPEAT
        if atomic_run and _single_class(list(av[0][1][2])):
            return self.repeat(av[0][1], flags, possessive=True)
        if op in (sre.POSSESSIVE_REPEAT, sre.ATOMIC_GROUP):
            body = [(sre.MAX_REPEAT, av)] if op == sre.POSSESSIVE_REPEAT else list(av)
            nfa.inner.append(("an atomic group or possessive repeat", body, flags))
            nfa.count += 1
            nfa.regions.append(nfa.regions[-1] | {nfa.count})
            try:
                start, end = self.seq(body, flags)
            finally:
                nfa.regions.pop()
            out = nfa.new()
            nfa.eps(end, out)
            return start, out
        raise ValueError(f"unknown regular expression node {op}")

    def repeat(self, av: Any, flags: int, *, possessive: bool = False) -> tuple[int, int]:
        low, high, body = av
        nfa = self.nfa
        start, end = nfa.new(), nfa.new()
        if high == 0:
            nfa.eps(start, end)
            return start, end
        first, last = self.seq(body, flags)
        # A possessive run of one class stops only where the next character leaves the class.
        forbid = _class_of(list(body), flags, nfa.witnesses) if possessive else frozenset()
        nfa.eps(start, first)
        nfa.eps(last, end, forbid)
        if high != 1:
            nfa.eps(last, first)  # a bounded {m,n} is read as unbounded: it can only report more
        if low == 0:
            nfa.eps(start, end, forbid)
        return start, end


def _class_of(items: Items, flags: int, witnesses: tuple[str, ...]) -> CharSet:
    while len(items) == 1 and items[0][0] == sre.SUBPATTERN:
        flags = (flags | items[0][1][1]) & ~items[0][1][2]
        items = list(items[0][1][3])
    return _char_set(items[0][0], items[0][1], flags, witnesses)


def _edges(nfa: _Nfa) -> dict[int, list[_Edge]]:
    """Each consuming state's steps to the next consuming states, one per epsilon path."""
    out: dict[int, list[_Edge]] = {}
    states = nfa.states
    for src, state in enumerate(states):
        if state.chars is None:
            continue
        found: list[_Edge] = []
        stack: list[tuple[int, CharSet, frozenset[int], frozenset[int]]] = [
            (state.to, frozenset(), frozenset(), frozenset({state.to}))
        ]
        while stack:
            at, forbid, left, seen = stack.pop()
            here = states[at]
            if here.chars is not None:
                chars = here.chars - forbid
                if chars:
                    internal = (state.regions & here.regions) - left
                    found.append(_Edge(src, at, chars, internal))
                continue
            for nxt, more in here.eps:
                if nxt in seen:
                    continue  # an empty iteration: Python's engine never repeats one
                exits = left | (here.regions - states[nxt].regions)
                stack.append((nxt, forbid | more, exits, seen | {nxt}))
        out[src] = found
    return out


def _ambiguous_chars(edges: dict[int, list[_Edge]]) -> str | None:
    """Characters on which two different paths leave a state and come back, else None."""
    # The product automaton, explored from every diagonal pair (q, q).
    graph: dict[tuple[int, int], list[tuple[int, int]]] = {}
    diverging: list[tuple[tuple[int, int], tuple[int, int], CharSet]] = []
    todo = [(q, q) for q in edges]
    while todo:
        node = todo.pop()
        if node in graph:
            continue
        graph[node] = []
        left, right = node
        for one in edges[left]:
            for two in edges[right]:
                both = one.chars & two.chars
                if not both:
                    continue
                nxt = (one.dst, two.dst)
                graph[node].append(nxt)
                if left == right and one != two and not one.internal & two.internal:
                    diverging.append((node, nxt, both))
                if nxt not in graph:
                    todo.append(nxt)
    if not diverging:
        return None
    component = _components(graph)
    for node, nxt, chars in diverging:
        if component[node] == component[nxt]:
            return "".join(sorted(chars))
    return None


def _components(graph: dict[tuple[int, int], list[tuple[int, int]]]) -> dict[Any, int]:
    """Strongly connected components (Tarjan's algorithm, without recursion)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    component: dict[Any, int] = {}
    stack: list[Any] = []
    on_stack: set[Any] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, []))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = index[node]
                        if member == node:
                            break
    return component


def _check(text: str, items: Items, flags: int, inside: str) -> list[Ambiguity]:
    nfa = _Nfa(_witnesses(items))
    _Builder(nfa, flags).seq(items, flags)
    found = []
    if (chars := _ambiguous_chars(_edges(nfa))) is not None:
        found.append(Ambiguity(text, chars, inside))
    for what, body, body_flags in nfa.inner:
        found += _check(text, body, body_flags, what)
    return found


def ambiguities(pattern: re.Pattern[str] | str, flags: int = 0) -> list[Ambiguity]:
    """Every place where `pattern` can backtrack exponentially (empty when it cannot)."""
    text, flags = _flags_of(pattern, flags)
    parsed = _parser.parse(text, flags)
    return _check(text, list(parsed.data), parsed.state.flags, "")


def attack_units(pattern: re.Pattern[str]) -> list[str]:
    """The pattern's own words (runs of literals) and one character of each class it names."""
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    words: dict[str, None] = {}
    _collect_units(list(parsed.data), words, pattern.flags)
    return list(words)


def _collect_units(items: Items, words: dict[str, None], flags: int) -> None:
    run = ""
    for op, av in [*items, (None, None)]:
        if op == sre.LITERAL:
            run += chr(av)
            continue
        if run:
            words[run] = None
            run = ""
        if op == sre.IN or op == sre.NOT_LITERAL or op == sre.ANY:
            members = _char_set(op, av, flags, tuple(BASE_WITNESSES))
            words.update(dict.fromkeys(sorted(members)[:3]))
        elif op == sre.SUBPATTERN:
            _collect_units(list(av[3]), words, flags | av[1])
        elif op == sre.BRANCH:
            for branch in av[1]:
                _collect_units(list(branch), words, flags)
        elif op in (*_REPEATS, sre.POSSESSIVE_REPEAT):
            _collect_units(list(av[2]), words, flags)
        elif op == sre.ATOMIC_GROUP:
            _collect_units(list(av), words, flags)
        elif op in _LOOKAROUNDS:
            _collect_units(list(av[1]), words, flags)


# ---------------------------------------------------------------- attack strings

# Separators, punctuation, repeated words, long words and text outside ASCII: what a repeat
# over spaces, commas, dots or filler words would be driven with.
GENERIC_UNITS = (
    ", ", " ,", ", , ", ".", "...", ". ", " ", "\t", "\t ", "-", " - ", "!", "?", ";", ":",
    "'", '"', "#a ", "and ", "and and ", "the ", "the the ", "every ", "every every ", "a",
    "a ", "1", "1 ", "é", "中 ", "x" * 40 + " ", "to-dos", ", and ",
)  # fmt: skip
SUFFIXES = ("!x", "")
# Message lengths tried for each attack: short ones first, so an exponential pattern fails
# the bound after seconds instead of running for hours.
SMALL_SIZES = (8, 12, 16, 20, 24, 32, 48)
MESSAGE_PREFIXES = (
    "", "add ", "add a ", "remind me to ", "delete ", "mark ", "move task 1 to ", "show ",
    "tag task 1 ", "rename task 1 to ", "i bought ", "hey ", "change ", "set ", "make ",
    "what's ", "push task 1 back ", "task 1 ", "forget ", "add buy milk ",
)  # fmt: skip


def repeated(prefix: str, unit: str, size: int, suffix: str) -> str:
    """`unit` repeated so that prefix + units + suffix is about `size` characters."""
    count = max((size - len(prefix) - len(suffix)) // max(len(unit), 1), 1)
    return prefix + unit * count + suffix


def pattern_units(pattern: re.Pattern[str]) -> list[str]:
    """The generic units, and the pattern's own words and characters, bare and spaced."""
    own = attack_units(pattern)
    return list(dict.fromkeys([*GENERIC_UNITS, *own, *(f"{u} " for u in own)]))
