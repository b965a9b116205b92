"""What ``skillyard skill`` prints: hostile registry text is inert, ``--json`` output is pure."""

from __future__ import annotations

import io
import json

import pytest

from registry.cli_output import Output, clean, permission_lines
from registry.model import Permissions


def streams(stdin: str = "") -> tuple[io.StringIO, io.StringIO, io.StringIO]:
    return io.StringIO(), io.StringIO(), io.StringIO(stdin)


def test_terminal_control_codes_and_markup_from_a_registry_are_inert() -> None:
    hostile = "ok\x1b[2K\x1b[1A[bold red]PASS[/]\u202e\x07"
    out, err, _ = streams()
    Output(False, stdout=out, stderr=err).say(clean(hostile))
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "[bold red]PASS[/]" in shown  # printed as text, not as style


def test_json_mode_keeps_stdout_for_the_one_document() -> None:
    out, err, _ = streams()
    output = Output(True, stdout=out, stderr=err)
    output.say("people text")
    output.note("progress")
    output.result({"ok": True})
    assert json.loads(out.getvalue()) == {"ok": True}
    assert "people text" in err.getvalue() and "progress" in err.getvalue()


def test_errors_in_json_mode_are_a_document_too() -> None:
    out, err, _ = streams()
    Output(True, stdout=out, stderr=err).error("Declined", "not installed", {"details": []})
    assert json.loads(out.getvalue()) == {
        "error": {"type": "Declined", "message": "not installed", "details": []}
    }
    assert "not installed" in err.getvalue()


@pytest.mark.parametrize(
    ("answer", "expected"), [("y\n", True), ("yes\n", True), ("\n", False), ("", False)]
)
def test_questions_read_stdin_and_silence_is_no(answer: str, expected: bool) -> None:
    out, err, stdin = streams(answer)
    assert Output(False, stdout=out, stderr=err, stdin=stdin).ask("Install?", yes=False) is expected
    assert "[y/N]" in err.getvalue()


def test_yes_answers_without_reading() -> None:
    out, err, stdin = streams("n\n")
    assert Output(False, stdout=out, stderr=err, stdin=stdin).ask("Install?", yes=True)
    assert stdin.read() == "n\n"


def test_permissions_read_as_sentences() -> None:
    assert permission_lines(Permissions()) == [
        "no network, no environment variables, no programs, no files"
    ]
    lines = permission_lines(Permissions(network=("api.example.com",), env=("KEY",)))
    assert lines == ["may connect to: api.example.com", "reads environment variables: KEY"]
