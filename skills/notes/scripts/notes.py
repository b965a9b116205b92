"""Per-user notes for the notes skill: JSON request on stdin, JSON reply on stdout.

One script serves every tool: ``save_note``, ``list_notes``, ``search_notes``
and ``delete_note`` for models, and ``notes`` for the ``/notes save ...``
command, which parses its text and calls the same functions.

Notes live in ``notes.json`` inside the (skill, user) data dir the sandbox
binds in.  Each change holds an exclusive lock for its read-modify-write and
replaces the file atomically (write a temp file, fsync, ``os.replace``), so a
crash leaves the old notes or the new ones, never half a file.  A file that
cannot be read is reported and left untouched: nothing stored is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_NOTE_CHARS = 1000
MAX_NOTES = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
NOTES_FILE = "notes.json"
LOCK_FILE = "notes.lock"
USAGE = "use /notes save TEXT, /notes list, /notes search WORDS or /notes delete NUMBER"

Notes = dict[str, Any]


class NotesError(Exception):
    """A problem with the request or the stored notes, worded for the user."""


# ----------------------------------------------------------------------------- storage


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[None]:
    with open(data_dir / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load(data_dir: Path) -> Notes:
    path = data_dir / NOTES_FILE
    if not path.exists():
        return {"version": 1, "next_id": 1, "notes": []}
    with path.open("rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    try:
        notes = json.loads(raw)
        if len(raw) > MAX_FILE_BYTES or not isinstance(notes.get("notes"), list):
            raise ValueError
    except (ValueError, AttributeError):
        raise NotesError("your notes file cannot be read; it was left as it is") from None
    return notes


def store(data_dir: Path, notes: Notes) -> None:
    handle, temp = tempfile.mkstemp(prefix=".notes-", suffix=".tmp", dir=data_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(notes, file, ensure_ascii=False, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, data_dir / NOTES_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# ----------------------------------------------------------------------------- operations


def save(data_dir: Path, text: str, now: float) -> dict[str, object]:
    text = " ".join(text.split())
    if not text:
        raise NotesError("the note is empty; write /notes save TEXT")
    if len(text) > MAX_NOTE_CHARS:
        raise NotesError(f"the note has {len(text)} characters; the limit is {MAX_NOTE_CHARS}")
    with locked(data_dir):
        notes = load(data_dir)
        if len(notes["notes"]) >= MAX_NOTES:
            raise NotesError(f"you have {MAX_NOTES} notes, the most kept; delete some first")
        created = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        note = {"id": notes["next_id"], "text": text, "created": created}
        notes["notes"].append(note)
        notes["next_id"] += 1
        store(data_dir, notes)
    return {"note": note, "text": f"Saved note {note['id']}: {text}"}


def list_all(data_dir: Path) -> dict[str, object]:
    found = load(data_dir)["notes"]
    if not found:
        return {"notes": [], "text": "You have no notes yet. Save one with /notes save TEXT."}
    return {"notes": found, "text": _lines(found)}


def search(data_dir: Path, query: str) -> dict[str, object]:
    words = query.lower().split()
    if not words:
        raise NotesError("say what to look for: /notes search WORDS")
    found = [n for n in load(data_dir)["notes"] if all(w in n["text"].lower() for w in words)]
    if not found:
        return {"notes": [], "text": f"No notes match {query.strip()!r}."}
    return {"notes": found, "text": _lines(found)}


def delete(data_dir: Path, note_id: int) -> dict[str, object]:
    with locked(data_dir):
        notes = load(data_dir)
        kept = [n for n in notes["notes"] if n["id"] != note_id]
        if len(kept) == len(notes["notes"]):
            raise NotesError(f"there is no note {note_id}; /notes list shows the numbers")
        notes["notes"] = kept
        store(data_dir, notes)
    return {"deleted": note_id, "text": f"Deleted note {note_id}."}


def _lines(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{n['id']}. {n['text']}" for n in found)


def command(data_dir: Path, text: str, now: float) -> dict[str, object]:
    """``save TEXT`` / ``list`` / ``search WORDS`` / ``delete N`` (plus a few synonyms)."""
    verb, _, rest = text.strip().partition(" ")
    verb = verb.lower()
    if verb in ("", "list", "ls", "all"):
        return list_all(data_dir)
    if verb in ("save", "add", "new"):
        return save(data_dir, rest, now)
    if verb in ("search", "find"):
        return search(data_dir, rest)
    if verb in ("delete", "del", "remove", "rm"):
        return delete(data_dir, _note_id(rest))
    raise NotesError(f"unknown notes command {verb!r}; {USAGE}")


def _note_id(text: str) -> int:
    digits = text.strip().lstrip("#")
    if not digits.isdigit() or len(digits) > 9:
        raise NotesError("say which note to delete by its number, e.g. /notes delete 3")
    return int(digits)


# ----------------------------------------------------------------------------- main

TOOLS: dict[str, Callable[[Path, dict[str, Any], float], dict[str, object]]] = {
    "save_note": lambda d, i, now: save(d, i["text"], now),
    "list_notes": lambda d, i, now: list_all(d),
    "search_notes": lambda d, i, now: search(d, i["query"]),
    "delete_note": lambda d, i, now: delete(d, i["id"]),
    "notes": lambda d, i, now: command(d, i["command"], now),
}


def handle(request: dict[str, Any]) -> dict[str, object]:
    tool = TOOLS.get(request.get("tool", ""))
    if tool is None:
        raise NotesError(f"unknown tool {request.get('tool')!r}")
    context = request["context"]
    if not context.get("data_dir"):
        raise NotesError("notes need a private data folder, and none was given")
    return tool(Path(context["data_dir"]), request["input"], context["now"])


def main() -> None:
    try:
        reply: dict[str, object] = {"output": handle(json.load(sys.stdin))}
    except NotesError as exc:
        reply = {"error": {"message": str(exc)}}
    json.dump(reply, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
