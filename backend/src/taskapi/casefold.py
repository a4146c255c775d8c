"""Lower case as PostgreSQL writes it, for SQLite, whose own `lower()` and `LIKE` fold ASCII only.

PostgreSQL's `lower()` (and so `ILIKE`, which compares lower-cased text) on a libc UTF-8 locale
such as C.UTF-8 or en_US.UTF-8 maps each character on its own through the C library's
`towlower`: Unicode's simple lower-case mapping (UnicodeData.txt, field 13), for every script.
Python's `str.lower` is the full mapping (Unicode §3.13, SpecialCasing.txt) and differs from it
in two places only: a capital sigma at the end of a word becomes final sigma (U+03C2; PostgreSQL
always writes U+03C3), and `İ` (U+0130) becomes `i` plus a combining dot (PostgreSQL: `i`). Checked
against PostgreSQL 15 on C.UTF-8 for every code point (tests/api/test_unicode_case.py). An ICU
collation would apply final sigma; the databases this project targets use libc.
"""

from __future__ import annotations

from typing import Any

CAPITAL_SIGMA, SMALL_SIGMA = "\u03a3", "\u03c3"
CAPITAL_I_WITH_DOT = "\u0130"

# The SQL name the search index's triggers call (migration 0006). Not `lower`: a connection that
# lacks the function (the sqlite3 shell) must fail to write a task, not index it ASCII-folded.
SQL_NAME = "unicode_lower"


def pg_lower(text: str) -> str:
    """`text` as PostgreSQL's `lower()` returns it; the same length, character for character."""
    # The two characters whose simple mapping `str.lower` does not give are mapped first; the
    # test for them is a fast scan, `str.translate` would be six times slower than `lower`.
    if CAPITAL_SIGMA in text or CAPITAL_I_WITH_DOT in text:
        text = text.replace(CAPITAL_SIGMA, SMALL_SIGMA).replace(CAPITAL_I_WITH_DOT, "i")
    return text.lower()


def sql_lower(value: Any) -> Any:
    """`pg_lower` for SQL: NULL and non-text values (numbers, blobs) come back unchanged."""
    return pg_lower(value) if isinstance(value, str) else value


def register(dbapi_connection: Any) -> None:
    """Make `lower()` (what SQLAlchemy writes for `func.lower` and `icontains`) and
    `unicode_lower()` fold every script on this sqlite3 (or aiosqlite) connection. Deterministic,
    so that indexes and triggers may use it (https://sqlite.org/deterministic.html)."""
    for name in ("lower", SQL_NAME):
        dbapi_connection.create_function(name, 1, sql_lower, deterministic=True)
