"""The API's answers checked against ``openapi.json``, the contract client and server share.

:func:`checked` validates a JSON answer against the response schema the
document gives for its operation and status, so a server that drifts from
the document, or lies about its shape, is a
:class:`~registry.client_errors.BadAnswer` naming the field, never a
``KeyError`` deep in the client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry as SchemaRegistry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from registry.client_errors import BadAnswer

__all__ = ["checked"]

_BASE = "urn:skillyard:openapi"


@cache
def _document() -> Mapping[str, Any]:
    # Read as a file of this package: importing registry.server would pull in the server.
    text = resources.files("registry").joinpath("server/openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def _validator(operation_id: str, status: int) -> Draft202012Validator | None:
    """The schema of ``operation_id``'s answer at ``status``; None if none is documented."""
    document = _document()
    operation = next(
        op
        for item in document["paths"].values()
        for op in item.values()
        if op.get("operationId") == operation_id
    )
    answer = operation["responses"].get(str(status), {})
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    rooted = json.loads(json.dumps(schema).replace('"#/components/', f'"{_BASE}#/components/'))
    resource = Resource.from_contents(
        {"components": document["components"]}, default_specification=DRAFT202012
    )
    return Draft202012Validator(rooted, registry=SchemaRegistry().with_resource(_BASE, resource))


def checked(operation_id: str, status: int, value: object) -> dict[str, Any]:
    """``value`` if it is what the document promises for ``operation_id`` at ``status``."""
    validator = _validator(operation_id, status)
    if validator is None:
        raise BadAnswer(f"the registry answered {operation_id} with undocumented status {status}")
    error = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        at = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise BadAnswer(
            f"the registry's answer to {operation_id} is invalid at {at or '.'}: {error.message}"
        )
    if not isinstance(value, dict):
        raise BadAnswer(f"the registry's answer to {operation_id} is not a JSON object")
    return value
