"""How ``skillyard skill`` talks: JSON for scripts, rich tables and progress for people.

With ``--json`` the standard output carries exactly one JSON document per
command (the result, or ``{"error": {…}}``) and nothing else; people's text,
progress bars and questions always go to standard error, so piping the
output never mixes them.  Questions are read from standard input: a closed
or empty input is a "no", so a script that forgot ``--yes`` installs
nothing.
"""

from __future__ import annotations

import contextlib
import json
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from registry.model import Permissions
from registry.scan import Finding

__all__ = ["Output", "clean", "finding_lines", "permission_lines", "verdict_text"]

_VERDICT_STYLE = {"pass": "green", "review": "yellow", "block": "bold red"}


class Output:
    """One command's output; ``json_mode`` is ``--json``."""

    def __init__(
        self,
        json_mode: bool,
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        stdin: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self._stdout = stdout or sys.stdout
        self._stdin = stdin or sys.stdin
        self.out = Console(file=self._stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=stderr or sys.stderr, highlight=False, soft_wrap=True)

    def result(self, value: object) -> None:
        """The command's JSON result (``--json`` only)."""
        self._stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")

    def say(self, text: str) -> None:
        """A line for people: on stdout normally, on stderr under ``--json``."""
        (self.err if self.json_mode else self.out).print(text)

    def note(self, text: str) -> None:
        """Chatter about progress: always stderr."""
        self.err.print(text)

    def error(self, kind: str, message: str, extra: dict[str, Any] | None = None) -> None:
        self.err.print(f"[bold red]skillyard:[/] {clean(message)}")
        for detail in (extra or {}).get("details", ()):
            self.err.print(f"  {clean(detail.get('message') or json.dumps(detail))}")
        if self.json_mode:
            self.result({"error": {"type": kind, "message": message, **(extra or {})}})

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A table of plain text (cells are :func:`clean`ed)."""
        table = Table()
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(clean(cell) for cell in row))
        self.out.print(table)

    def ask(self, question: str, *, yes: bool) -> bool:
        """True with ``yes``; else the answer read from stdin (EOF or empty is no)."""
        if yes:
            return True
        self.err.print(f"{clean(question)} \\[y/N] ", end="")
        answer = self._stdin.readline()
        if not answer:
            self.err.print("(no answer: taken as no)")
        return answer.strip().lower() in ("y", "yes")

    @contextlib.contextmanager
    def transfer(self, what: str) -> Iterator[Callable[[int, int | None], None]]:
        """A progress bar for a transfer; yields the ``(done, total)`` callback."""
        quiet = self.json_mode or not self.err.is_terminal
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self.err,
            transient=True,
            disable=quiet,
        )
        with progress:
            task = progress.add_task(what, total=None)

            def update(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            yield update

    @contextlib.contextmanager
    def status(self, what: str) -> Iterator[None]:
        """A spinner for work of unknown length (people on a terminal only)."""
        if self.json_mode or not self.err.is_terminal:
            self.note(what)
            yield
            return
        with self.err.status(what):
            yield


def clean(text: object) -> str:
    """Text from a registry made safe to print: no rich markup, no terminal control codes.

    A hostile description could otherwise move the cursor or rewrite the
    line a person reads (ANSI escapes), or restyle the permissions shown.
    """
    shown = "".join(
        ch
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")
        else "\N{REPLACEMENT CHARACTER}"
        for ch in str(text)
    )
    return escape(shown)


def verdict_text(verdict: str) -> str:
    return f"[{_VERDICT_STYLE.get(verdict, 'bold red')}]{clean(verdict)}[/]"


def permission_lines(permissions: Permissions) -> list[str]:
    """What a skill's tools may reach, one line per kind, "nothing" when empty."""
    kinds = (
        ("network", permissions.network, "may connect to"),
        ("env", permissions.env, "reads environment variables"),
        ("binaries", permissions.binaries, "runs programs"),
        ("filesystem", permissions.filesystem, "keeps files in"),
    )
    lines = [f"{label}: {clean(', '.join(values))}" for _, values, label in kinds if values]
    return lines or ["no network, no environment variables, no programs, no files"]


def finding_lines(findings: Sequence[Finding], limit: int = 20) -> list[str]:
    lines = [
        clean(f"{f.severity} {f.rule} at {f.file}:{f.line}: {f.message}") for f in findings[:limit]
    ]
    if len(findings) > limit:
        lines.append(f"… and {len(findings) - limit} more")
    return lines
