"""The shipped JSON Schemas: loading them and validating against them.

The schema files under ``schemas/`` (draft 2020-12) are the reference for
third-party clients and the single source of truth here.  Two validators are
built from them, each once and lazily:

* the fast checks of :mod:`gateway.protocol._compile`, used for every inbound
  frame and by :func:`validate_params` and ``validate_frame("client", ...)``;
* ``jsonschema``, the reference implementation, used for server frames
  (:func:`validate_result`, :func:`validate_event`,
  ``validate_frame("server", ...)``) — for tests and for connections created
  with ``validate_outbound=True``, never on the production hot path.

Every function returns ``None`` for a valid value or a :class:`SchemaViolation`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, Final, Literal

from gateway.protocol._compile import Check, SchemaCompiler, Violation, render_path
from gateway.protocol.catalog import Event, Method
from gateway.protocol.errors import SchemaError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "BASE_URI",
    "SchemaViolation",
    "load_schema",
    "params_check",
    "request_check",
    "schema_documents",
    "validate_event",
    "validate_frame",
    "validate_params",
    "validate_result",
]

BASE_URI: Final = "https://skillyard.dev/schemas/protocol/v1/"
"""``$id`` prefix of every shipped schema; an identifier, not a URL we serve."""

_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """Where a value breaks a schema (``field`` is a path like ``params.text``) and how."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    @classmethod
    def from_violation(cls, violation: Violation, *prefix: str) -> SchemaViolation:
        path = render_path([*violation.path, *reversed(prefix)])
        return cls(path or None, violation.message)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".json"):
            yield f"{prefix}{entry.name}", entry


@functools.cache
def schema_documents() -> Mapping[str, Mapping[str, Any]]:
    """Every shipped schema document, keyed by its ``$id``."""
    documents: dict[str, Mapping[str, Any]] = {}
    for relative, entry in _walk(files(__package__) / "schemas"):
        document = json.loads(entry.read_text(encoding="utf-8"))
        if document.get("$id") != BASE_URI + relative:
            raise SchemaError(f"schemas/{relative} must have $id {BASE_URI + relative!r}")
        documents[BASE_URI + relative] = document
    return documents


def load_schema(name: str) -> Mapping[str, Any]:
    """One schema document by its path under ``schemas/``: ``methods/chat.send.params.json``."""
    try:
        return schema_documents()[BASE_URI + name]
    except KeyError:
        raise SchemaError(f"no shipped schema {name!r}") from None


# --- fast checks (client frames) -------------------------------------------------------


@functools.cache
def _compiler() -> SchemaCompiler:
    return SchemaCompiler(schema_documents())


@functools.cache
def request_check() -> Check:
    """The request envelope alone (``frame-client.json#/$defs/request``), params unchecked."""
    return _compiler().compile(BASE_URI + "frame-client.json#/$defs/request")


@functools.cache
def params_check(method: Method) -> Check:
    """The params schema of ``method``."""
    return _compiler().compile(f"{BASE_URI}methods/{method.value}.params.json")


@functools.cache
def _client_frame_check() -> Check:
    return _compiler().compile(BASE_URI + "frame-client.json")


def validate_params(method: str, params: object) -> SchemaViolation | None:
    """Check the params of a request; the field path starts with ``params``."""
    violation = params_check(Method(method))(params)
    return None if violation is None else SchemaViolation.from_violation(violation, "params")


# --- reference validation (server frames) ----------------------------------------------


@functools.cache
def _reference(uri: str) -> Draft202012Validator:
    # Imported here so that the server's hot path never loads jsonschema.
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    registry: Registry[Any] = Registry().with_resources(
        (key, DRAFT202012.create_resource(doc)) for key, doc in schema_documents().items()
    )
    return Draft202012Validator({"$ref": uri}, registry=registry)


def _reference_check(uri: str, instance: object, *prefix: str) -> SchemaViolation | None:
    from jsonschema.exceptions import best_match

    error = best_match(_reference(uri).iter_errors(instance))
    if error is None:
        return None
    path = render_path([*reversed(error.absolute_path), *reversed(prefix)])
    message = error.message
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + "..."
    return SchemaViolation(path or None, message)


def validate_result(method: str, payload: object) -> SchemaViolation | None:
    """Check the payload of a successful response to ``method``."""
    return _reference_check(f"{BASE_URI}methods/{Method(method).value}.result.json", payload)


def validate_event(name: str, payload: object) -> SchemaViolation | None:
    """Check the payload of event ``name``."""
    return _reference_check(f"{BASE_URI}events/{Event(name).value}.json", payload)


def validate_frame(
    direction: Literal["client", "server"], frame: object, *, method: str | None = None
) -> SchemaViolation | None:
    """Check a decoded frame against ``frame-client.json`` or ``frame-server.json``.

    For a server frame that is a successful response, pass the ``method`` it
    answers to check the payload against that method's result schema too.
    """
    if direction == "client":
        violation = _client_frame_check()(frame)
        return None if violation is None else SchemaViolation.from_violation(violation)
    if direction != "server":
        raise ValueError(f"direction must be 'client' or 'server', got {direction!r}")
    found = _reference_check(BASE_URI + "frame-server.json", frame)
    if found is None and method is not None and isinstance(frame, dict) and frame.get("ok") is True:
        uri = f"{BASE_URI}methods/{Method(method).value}.result.json"
        found = _reference_check(uri, frame["payload"], "payload")
    return found
