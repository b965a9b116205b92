"""Raising a call's risk by looking at its arguments: pure functions, no I/O.

These are tripwires for a permission layer, not a sandbox: they look for the
commonest ways to destroy data (``rm -rf``, ``shutil.rmtree``, SQL ``DROP``,
``DELETE``, ``UPDATE``) so that such a call can be put before a person.  The
sandbox, the read-only SQLite connection and the host allowlist are what
actually confine a call; a miss here is a missed prompt, never an escape.
Inspectors receive unchecked arguments and must accept any mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from brain.tools.core import Risk

__all__ = ["code_risk", "sql_risk", "strings_in", "text_risk"]

_DESTRUCTIVE_CODE = re.compile(
    r"""
      (?:^|[\s;&|(`'"])rm\s+(?:-[a-zA-Z]*[rRf]|--recursive|--force)   # rm -rf, rm -f, rm -r
    | ['"]rm['"]\s*,\s*['"]-[a-zA-Z]*[rRf]                        # ["rm", "-rf", ...]
    | \bshutil\.rmtree\b
    | \bos\.(?:remove|unlink|rmdir|removedirs|truncate)\b
    | \.(?:unlink|rmdir)\(\s*\)
    | \bmkfs(?:\.\w+)?\b
    | \bdd\s+[^\n]*\bof=
    | \bshred\b
    | \btruncate\s+-s
    """,
    re.VERBOSE,
)
_SQL_COMMENT_OR_LITERAL = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)|'(?:[^']|'')*'?", re.DOTALL)
# ``replace(...)`` is also a string function: only REPLACE INTO / OR REPLACE delete rows.
_SQL_DESTRUCTIVE = re.compile(
    r"\b(?:drop|delete|update|truncate)\b|\breplace\s+into\b|\bor\s+replace\b", re.IGNORECASE
)
_MAX_STRINGS = 10_000  # items visited; a larger argument is not scanned past this


def code_risk(code: object) -> Risk:
    """``DESTRUCTIVE`` when ``code`` (Python or shell text) deletes things, else ``READ``."""
    if isinstance(code, str) and _DESTRUCTIVE_CODE.search(code):
        return Risk.DESTRUCTIVE
    return Risk.READ


def sql_risk(sql: object, *, write: bool) -> Risk:
    """``READ`` on a read-only connection; with ``write``, ``WRITE`` or ``DESTRUCTIVE``.

    Keywords inside string literals and comments do not count.  Without
    ``write`` the connection is read-only, so nothing a statement says can
    change the database.
    """
    if not write:
        return Risk.READ
    text = _SQL_COMMENT_OR_LITERAL.sub(" ", sql) if isinstance(sql, str) else ""
    if _SQL_DESTRUCTIVE.search(text):
        return Risk.DESTRUCTIVE
    return Risk.WRITE


def text_risk(arguments: Mapping[str, Any]) -> Risk:
    """The highest :func:`code_risk` of any string anywhere in ``arguments``."""
    return max((code_risk(text) for text in strings_in(arguments)), default=Risk.READ)


def strings_in(value: object) -> Iterator[str]:
    """Every string (keys too) in a JSON-like value, at most ``_MAX_STRINGS``, depth-first."""
    stack: list[object] = [value]
    seen = 0
    while stack and seen < _MAX_STRINGS:
        item = stack.pop()
        seen += 1
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
