"""Tier 2: one append-only markdown log per conversation (format: ``brain.memory.logformat``).

``<root>/<safe_name(conversation_id)>.md``.  Each append is one ``write`` on
a descriptor opened with ``O_APPEND`` while holding a flock on the file, so
concurrent appenders (threads or processes) never interleave or reuse a
number; the next numbers come from counting section headings, rescanned only
when the file's size is not the one this object last wrote.

Compaction entries are fsynced before :meth:`SessionLog.append_compaction`
returns, because the caller trims context right after ("save before trim");
turn entries are only flushed (about 1.3 ms saved per turn, measured), the
same durability as the transcript's ``synchronous=NORMAL``.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from brain.memory.errors import SessionLogError
from brain.memory.files import safe_name
from brain.memory.logformat import (
    ActionEntry,
    CompactionEntry,
    LogEntry,
    TurnEntry,
    lint_session_log,
    normal_action,
    parse_session_log,
    render_compaction,
    render_header,
    render_turn,
)

__all__ = ["SessionLog", "session_log_path"]

_HEADINGS = re.compile(rb"^## (Turn|Compaction) ", re.MULTILINE)
# Given the numbers of turns and compactions so far: the entry and its markdown.
_Maker = Callable[[int, int], tuple[LogEntry, str]]


def session_log_path(root: Path, conversation_id: str) -> Path:
    return root / f"{safe_name(conversation_id)}.md"


class SessionLog:
    """The log of one conversation; get it from ``Memory.session_log``."""

    def __init__(self, path: Path, conversation_id: str) -> None:
        self._path = path
        self._conversation_id = conversation_id
        self._known: tuple[int, int, int] | None = None  # (size, turns, compactions)
        self._lock = threading.Lock()  # guards _known; the flock guards the file

    @property
    def path(self) -> Path:
        return self._path

    def append_turn(
        self,
        *,
        goal: str,
        actions: Sequence[ActionEntry] = (),
        result: str,
        critique: str,
        carry_forward: str,
    ) -> TurnEntry:
        """Append the next ``## Turn k``; raises ``MemoryInputError`` if a field is empty
        or the critique has no sentence (nothing is written then)."""

        normal = tuple(normal_action(a) for a in actions)
        render_turn(TurnEntry(1, goal, normal, result, critique, carry_forward))  # refuse early

        def make(turns: int, _compactions: int) -> tuple[TurnEntry, str]:
            entry = TurnEntry(turns + 1, goal, normal, result, critique, carry_forward)
            return entry, render_turn(entry)

        entry = self._append(make, durable=False)
        assert isinstance(entry, TurnEntry)
        return entry

    def append_compaction(
        self, *, dropped_messages: int, tokens_before: int, tokens_after: int, summary: str
    ) -> CompactionEntry:
        """Append the next ``## Compaction k`` durably (fsynced) before returning."""

        render_compaction(CompactionEntry(1, dropped_messages, 0, 0, summary))  # refuse early

        def make(_turns: int, compactions: int) -> tuple[CompactionEntry, str]:
            entry = CompactionEntry(
                compactions + 1, dropped_messages, tokens_before, tokens_after, summary
            )
            return entry, render_compaction(entry)

        entry = self._append(make, durable=True)
        assert isinstance(entry, CompactionEntry)
        return entry

    def entries(self) -> list[LogEntry]:
        """Every section in order; raises ``SessionLogError`` if the file is malformed."""
        text = self._text()
        if not text:
            return []
        _, entries = _parse(text, self._path)
        return entries

    def read(self) -> list[TurnEntry]:
        """The turn sections in order."""
        return [e for e in self.entries() if isinstance(e, TurnEntry)]

    def lint(self) -> list[str]:
        """Format problems (empty when the log is well-formed or does not exist yet)."""
        text = self._text()
        return lint_session_log(text) if text else []

    # -- writing ---------------------------------------------------------------------

    def _append(self, make: _Maker, *, durable: bool) -> LogEntry:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size, turns, compactions = self._counts(fd)
            entry, section = make(turns, compactions)
            text = (render_header(self._conversation_id) if size == 0 else "") + section
            # A lone surrogate (JSON allows "\ud800") is written as its escape, not refused.
            data = text.encode("utf-8", "backslashreplace")
            _write_section(fd, data, size)
            if durable:
                os.fsync(fd)
            added = (1, 0) if isinstance(entry, TurnEntry) else (0, 1)
            with self._lock:
                self._known = (size + len(data), turns + added[0], compactions + added[1])
        finally:
            os.close(fd)
        return entry

    def _counts(self, fd: int) -> tuple[int, int, int]:
        size = os.fstat(fd).st_size
        with self._lock:
            known = self._known
        if known is not None and known[0] == size:
            return known
        data = os.pread(fd, size, 0)
        kinds = [m.group(1) for m in _HEADINGS.finditer(data)]
        return size, kinds.count(b"Turn"), kinds.count(b"Compaction")

    def _text(self) -> str:
        try:
            return self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except (OSError, UnicodeDecodeError) as exc:
            raise SessionLogError(f"cannot read: {exc}", path=self._path) from exc


def _write_section(fd: int, data: bytes, size: int) -> None:
    """Write all of ``data``, or cut the file back to ``size``: never half a section."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.ftruncate(fd, size)
        raise


def _parse(text: str, path: Path) -> tuple[str, list[LogEntry]]:
    try:
        return parse_session_log(text)
    except SessionLogError as exc:
        raise SessionLogError(exc.problem, line=exc.line, path=path) from exc
