"""What went wrong with a request through the pool, read out of exception chains.

The MCP client reports transport failures as (nested) exception groups and chains; these
functions dig out the parts that decide what the pool does next: was the request never
sent, did the server answer with a refusal, and in a few words, why.
"""

import socket

import httpx2
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT


class MCPPoolError(Exception):
    """A request through the pool failed; the message says why in plain words."""


class MCPUnavailable(MCPPoolError):
    """The task server could not be reached, or the connection broke during a call."""


class MCPCallBroke(MCPUnavailable):
    """The connection broke during a call, which may or may not have run."""


class MCPTimeout(MCPUnavailable):
    """The task server did not answer within the pool's timeout."""


class Resend(Exception):
    """Sending the request again is safe: it never reached the server, or it carries a call
    id the server applies once. `maybe_ran` says whether this attempt may have reached it."""

    def __init__(self, cause: BaseException, *, maybe_ran: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.maybe_ran = maybe_ran


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def chain(exc: BaseException) -> list[BaseException]:
    """`exc`, its group members and everything they were raised from, depth first."""
    seen: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def never_sent(failure: BaseException) -> bool:
    """Whether a transport failure happened before any byte of the request left."""
    never_sent = (httpx2.ConnectError, httpx2.ConnectTimeout)
    return all(isinstance(leaf, never_sent) for leaf in leaves(failure))


def server_answer(exc: BaseException) -> MCPError | None:
    """The server's own error answer inside `exc`, if the server answered at all."""
    for leaf in leaves(exc):
        if isinstance(leaf, MCPError) and leaf.code not in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
            return leaf
    return None


def reason(exc: BaseException) -> str:
    """A few plain words on why a connection failed."""
    causes = chain(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return "connection refused"
    if any(isinstance(e, httpx2.ConnectTimeout) for e in causes):
        return "connection attempt timed out"
    if any(isinstance(e, socket.gaierror) for e in causes):
        return "host name not found"
    leaf = leaves(exc)[0]
    return str(leaf) or type(leaf).__name__
