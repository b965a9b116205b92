"""``sql_query``: one SQL statement on a SQLite database in the session's workspace.

Read-only unless the call says ``write: true``, which raises its risk to
``write`` (or ``destructive`` for ``DROP``/``DELETE``/``UPDATE``...), so that
the permission layer puts it before a person.  A read-only call opens the
file with ``mode=ro`` *and* sets ``PRAGMA query_only``: SQLite itself refuses
any change, whatever the statement says.

On every connection an authorizer refuses ``ATTACH`` (which would reach any
SQLite file on the host, and is also how ``VACUUM INTO`` writes a copy
anywhere) and pragma assignments (``PRAGMA query_only=OFF``); extensions stay
unloadable (Python's default).  A progress handler stops a statement after
``timeout_s`` (by the injected clock) or when the awaiting task is cancelled,
and at most ``max_rows`` rows come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.inspection import sql_risk
from brain.tools.workspace import confine, workspace_dir

__all__ = ["SqlTool"]

_DOC = (
    "Run one SQL statement on a SQLite database file in your workspace. Read-only by "
    "default; set write to true to change data (that may need the user's approval). "
    "Use ? placeholders with params for values."
)
_PROGRESS_EVERY = 1_000  # SQLite VM instructions between deadline checks
_READ_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
})  # fmt: skip
_SCALAR = {"type": ["string", "number", "integer", "boolean", "null"]}


class SqlTool:
    """``sql_query`` for sessions under ``data_dir``; ``clock`` is for deadlines (tests)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        timeout_s: float = 10.0,
        max_rows: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._data_dir = data_dir
        self._timeout = timeout_s
        self._max_rows = max_rows
        self._clock = clock

    def tool(self) -> Tool:
        parameters = {
            "type": "object",
            "properties": {
                "database": {"type": "string", "minLength": 1, "maxLength": 4096},
                "sql": {"type": "string", "minLength": 1, "maxLength": 100_000},
                "params": {"type": "array", "items": _SCALAR, "maxItems": 999},
                "write": {"type": "boolean"},
            },
            "required": ["database", "sql"],
            "additionalProperties": False,
        }
        return Tool("sql_query", _DOC, parameters, Risk.READ, self._query, _inspect)

    async def _query(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        root = await asyncio.to_thread(workspace_dir, self._data_dir, context.session)
        path = confine(root, args["database"])
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self._run, path, args, stop)
        finally:
            stop.set()  # a cancelled call's statement ends at its next progress check

    def _run(self, path: Path, args: Mapping[str, Any], stop: threading.Event) -> ToolReply:
        write = bool(args.get("write"))
        deadline = self._clock() + self._timeout
        with _open(path, args["database"], write=write) as connection:
            connection.set_progress_handler(
                lambda: int(stop.is_set() or self._clock() > deadline), _PROGRESS_EVERY
            )
            try:
                cursor = connection.execute(args["sql"], tuple(args.get("params", ())))
                reply = self._result(cursor, connection)
                if write:
                    connection.commit()
            except sqlite3.Error as exc:
                raise _failure(exc, write=write, timeout=self._timeout) from exc
        return reply

    def _result(self, cursor: sqlite3.Cursor, connection: sqlite3.Connection) -> ToolReply:
        if cursor.description is None:
            return ToolReply(json.dumps({"changes": connection.total_changes}))
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(self._max_rows + 1)
        body = {
            "columns": columns,
            "rows": [[_json_value(value) for value in row] for row in rows[: self._max_rows]],
            "truncated": len(rows) > self._max_rows,
        }
        return ToolReply(json.dumps(body, ensure_ascii=False, allow_nan=False))


def _inspect(arguments: Mapping[str, Any]) -> Risk:
    return sql_risk(arguments.get("sql"), write=arguments.get("write") is True)


@contextlib.contextmanager
def _open(path: Path, shown: str, *, write: bool) -> Iterator[sqlite3.Connection]:
    """The database as the call asks, with the authorizer; closed (rolled back) on exit."""
    if not write and not path.is_file():
        raise ToolFailed(ErrorKind.NOT_FOUND, f"no database {shown!r} in the workspace")
    uri = f"file:{urllib.parse.quote(str(path))}?mode={'rwc' if write else 'ro'}"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ToolFailed(ErrorKind.FAILED, f"cannot open {shown!r}: {exc}") from exc
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        if not write:
            connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorize)
        yield connection
    finally:
        connection.close()


def _authorize(action: int, first: str | None, second: str | None, *_rest: object) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and second is not None and first not in _READ_PRAGMAS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _failure(exc: sqlite3.Error, *, write: bool, timeout: float) -> ToolFailed:
    text = str(exc)
    if text == "interrupted":
        message = f"the statement ran over {timeout:g} s and was stopped"
        return ToolFailed(ErrorKind.TIMEOUT, message)
    if "readonly" in text and not write:
        message = f"{text}: this call is read-only; set write to true to change data"
        return ToolFailed(ErrorKind.REFUSED, message)
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_AUTH:
        message = "not authorized: ATTACH, VACUUM INTO and setting pragmas are not allowed"
        return ToolFailed(ErrorKind.REFUSED, message)
    return ToolFailed(ErrorKind.FAILED, f"SQLite: {text}")


def _json_value(value: object) -> object:
    if isinstance(value, bytes):
        return f"<blob of {len(value)} bytes>"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
