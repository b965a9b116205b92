"""Tier 3 records: one JSON Schema (``knowledge_schema.json``), one frozen value type.

A record's ``id`` is derived from its content (``k`` + 24 hex digits of the
SHA-256 of the content with case and whitespace folded), so the same
knowledge added twice is one record: :func:`merge` keeps the first kind and
source and unions the tags.  Every record is checked against the schema
before it is written and when it is read back.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema

from brain.memory.errors import InvalidRecordError, MemoryLimitError

__all__ = [
    "KINDS",
    "MAX_CONTENT_CHARS",
    "MAX_TAGS",
    "KnowledgeRecord",
    "check_text",
    "content_id",
    "merge",
    "new_record",
    "normal_tags",
    "record_from_json",
    "schema_errors",
]

KINDS: Final = ("fact", "preference", "procedure", "failure_pattern", "skill_ref")
MAX_CONTENT_CHARS: Final = 4_000
MAX_TAGS: Final = 16
_MESSAGE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class KnowledgeRecord:
    id: str
    kind: str
    content: str
    tags: tuple[str, ...]
    source: str
    created: float
    last_used: float
    use_count: int
    confidence: float

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field, 10x slower (measured).
        return {
            "id": self.id,
            "kind": self.kind,
            "content": self.content,
            "tags": list(self.tags),
            "source": self.source,
            "created": self.created,
            "last_used": self.last_used,
            "use_count": self.use_count,
            "confidence": self.confidence,
        }


def check_text(field: str, value: object) -> str:
    """``value`` if it is text UTF-8 can store; else ``InvalidRecordError`` naming ``field``."""
    if not isinstance(value, str):
        raise InvalidRecordError(f"{field} must be text, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: JSON would write them, UTF-8 cannot
        raise InvalidRecordError(f"{field} holds an invalid character at {exc.start}") from exc
    return value


def content_id(content: str) -> str:
    """The id every record with this content gets, however it is cased or spaced."""
    folded = " ".join(content.casefold().split())
    return "k" + hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def normal_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Lower-cased, spaces as ``-``, duplicates dropped, sorted (so files diff cleanly)."""
    if isinstance(tags, str):  # a lone string would become one tag per character
        raise InvalidRecordError("tags must be a list of strings, not one string")
    checked = [check_text("a tag", t) for t in tags]
    return tuple(sorted({"-".join(t.lower().split()) for t in checked if t.strip()}))


def new_record(
    *, kind: str, content: str, tags: Sequence[str], source: str, confidence: float, now: float
) -> KnowledgeRecord:
    """A validated record; raises ``MemoryLimitError``/``InvalidRecordError`` naming the field."""
    text = check_text("content", content).strip()
    check_text("source", source)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise InvalidRecordError("confidence must be a number between 0 and 1")
    if len(text) > MAX_CONTENT_CHARS:
        raise MemoryLimitError("content", len(text), MAX_CONTENT_CHARS)
    if not math.isfinite(confidence):  # NaN passes every schema comparison
        raise InvalidRecordError(f"confidence: {confidence!r} is not a number between 0 and 1")
    normal = normal_tags(tags)
    if len(normal) > MAX_TAGS:
        raise MemoryLimitError("tags", len(normal), MAX_TAGS, unit="tags")
    record = KnowledgeRecord(
        content_id(text), kind, text, normal, source, now, now, 0, float(confidence)
    )
    problems = schema_errors(record.to_json())
    if problems:
        raise InvalidRecordError("; ".join(problems))
    return record


def merge(existing: KnowledgeRecord, added: KnowledgeRecord) -> KnowledgeRecord:
    """``existing`` re-asserted: tags united, the higher confidence, used now."""
    tags = normal_tags((*existing.tags, *added.tags))[:MAX_TAGS]
    confidence = max(existing.confidence, added.confidence)
    return replace(existing, tags=tags, confidence=confidence, last_used=added.created)


def record_from_json(document: object) -> KnowledgeRecord:
    """A record read from disk; raises ``InvalidRecordError`` when it breaks the schema."""
    if not _validator().is_valid(document):  # the fast path; errors only when there are some
        raise InvalidRecordError("; ".join(schema_errors(document)))
    assert isinstance(document, Mapping)
    fields = dict(document)
    fields["tags"] = tuple(fields["tags"])
    for name in ("created", "last_used", "confidence"):
        fields[name] = float(fields[name])
    return KnowledgeRecord(**fields)


def schema_errors(document: object) -> list[str]:
    """Every schema violation of ``document``, each naming the field."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [f"{'.'.join(map(str, e.path)) or 'record'}: {_short(e.message)}" for e in errors]


def _short(message: str) -> str:
    """jsonschema quotes the offending value whole; a bad value must not flood the reply."""
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("brain.memory").joinpath("knowledge_schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))
