"""Searching task titles and descriptions through the trigram index (migration tasks_0014).

A search term matches a task whose title or description holds it, ignoring case: the same
substring semantics as before the index, so "milk" finds "milkman" and "e_i" finds
"done_ish"; what changed is the work, from reading every task of the caller to reading the
index entries of the term's trigrams.
- SQLite: an FTS5 phrase query on task_search (trigram tokenizer, Unicode case folding).
  The term is one quoted phrase, so FTS5 syntax in it ("AND", "*", "^", quotes) is matched
  as text. A term with no trigram (under 3 characters), or held by more than MAX_HITS
  tasks, is matched by scanning the caller's tasks in page order as before (LIKE, ASCII
  case folding): such a term is common, so a page fills after a few rows. No typo
  tolerance: FTS5 ships no similarity function.
- PostgreSQL: ILIKE, which pg_trgm's GIN index serves, the planner choosing between it and
  the page-order scan from its statistics (a plain scan where pg_trgm could not be
  installed). When none of the caller's tasks holds the term, `near_matches` finds those
  with a word like it (pg_trgm's word similarity at its default threshold, 0.6: "plumbr"
  finds "call the plumber").
"""

from sqlalchemy import (
    Boolean,
    ColumnElement,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection

from mcp_server.models import TASK_TABLE

_t = TASK_TABLE
_fts = table("task_search", column("rowid"), column("task_search"))
TRIGRAM = 3
"""Characters in a trigram: a shorter term has none to look up."""
MAX_HITS = 500
"""SQLite: the most tasks (of anyone) holding a term that are fetched by id and sorted."""


def matches(conn: Connection, scope: ColumnElement[bool], term: str) -> list[ColumnElement[bool]]:
    """The conditions for the tasks in `scope` (the caller's) whose title or description
    holds `term` (stripped, non-empty), in any case."""
    if conn.dialect.name != "sqlite":
        pattern = "%" + term.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        found = or_(
            _t.c.title.ilike(pattern, escape="/"), _t.c.description.ilike(pattern, escape="/")
        )
        return [scope, found]
    if len(term) < TRIGRAM:
        return [scope, _scan(term)]
    phrase = '"' + term.replace('"', '""') + '"'
    hits = select(_fts.c.rowid).where(_fts.c.task_search.op("MATCH")(phrase))
    ids = conn.execute(hits.limit(MAX_HITS + 1)).scalars().all()
    if len(ids) > MAX_HITS:
        return [scope, _scan(term)]
    # Without statistics SQLite takes `user_id = ?` for a few rows and walks the caller's
    # tasks in page order, testing each id; said to hold for most rows, the scope stops
    # being an access path and the ids are looked up and sorted instead.
    unindexed = type_coerce(func.likelihood(scope, literal_column("0.9")), Boolean)
    return [unindexed, _t.c.id.in_(ids)]


def near_matches(
    conn: Connection, scope: ColumnElement[bool], term: str
) -> list[ColumnElement[bool]] | None:
    """The conditions for the tasks in `scope` with a word like `term` (a typo away), or
    None where the database cannot tell."""
    if conn.dialect.name != "postgresql" or len(term) < TRIGRAM:
        return None
    query = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    schema = conn.execute(text(query)).scalar()
    if schema is None:
        return None
    # `term <% text`: some extent of `text` is word-similar to `term`; the GIN index serves it.
    similar = literal(term).op(f"OPERATOR({schema}.<%)", is_comparison=True)
    return [scope, or_(similar(_t.c.title), similar(_t.c.description))]


def _scan(term: str) -> ColumnElement[bool]:
    return or_(
        _t.c.title.icontains(term, autoescape=True),
        _t.c.description.icontains(term, autoescape=True),
    )
