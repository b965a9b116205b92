"""The OpenAPI document as the one source of the API's input rules.

``openapi.json`` (next to this module) is what clients read and what the
server enforces: :class:`ApiSpec` turns each operation's parameters and JSON
body schema into a validator, so a parameter the document calls an integer
from 1 to 100 is refused with 400 naming it, exactly as documented.  Query
and header values arrive as text and are converted to the declared type
first (``"20"`` → ``20``, ``"true"`` → ``True``); a missing parameter gets
its declared default.  Domain rules a schema cannot say (a version's
precedence, a range's syntax) are checked by the handlers after this.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry as SchemaRegistry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["API_PREFIX", "ApiSpec", "InputError", "Operation", "openapi_document"]

API_PREFIX = "/api/v1"
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
_BOOLEANS = {"true": True, "false": False}


class InputError(ValueError):
    """A request input that breaks the document; the message names it."""


@cache
def openapi_document() -> Mapping[str, Any]:
    text = resources.files("registry.server").joinpath("openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    location: str
    required: bool
    kind: str
    default: object
    validator: Draft202012Validator


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation's input rules."""

    operation_id: str
    params: tuple[_Param, ...]
    body: Draft202012Validator | None
    secured: bool = False

    def parse(
        self,
        path: Mapping[str, str],
        query: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """Every parameter, converted and checked, by name; raises :class:`InputError`."""
        sources = {"path": path, "query": query, "header": headers}
        values: dict[str, Any] = {}
        for param in self.params:
            raw = sources[param.location].get(param.name)
            if raw is None:
                if param.required:
                    raise InputError(f"{param.location} parameter {param.name!r} is required")
                values[param.name] = param.default
                continue
            value = _convert(raw, param)
            _check(param.validator, value, f"{param.location} parameter {param.name!r}")
            values[param.name] = value
        return values

    def check_body(self, body: object) -> None:
        if self.body is not None:
            _check(self.body, body, "the request body")


def _convert(raw: str, param: _Param) -> object:
    where = f"{param.location} parameter {param.name!r}"
    if param.kind == "integer":
        if not _INTEGER.match(raw):
            raise InputError(f"{where} must be an integer")
        return int(raw)
    if param.kind == "boolean":
        if raw not in _BOOLEANS:
            raise InputError(f"{where} must be true or false")
        return _BOOLEANS[raw]
    return raw


def _check(validator: Draft202012Validator, value: object, where: str) -> None:
    error: ValidationError | None = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        at = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise InputError(f"{where}{at}: {error.message}")


class ApiSpec:
    """Validators for every operation of the document, by ``operationId``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._components = {"components": document["components"]}
        resource = Resource.from_contents(self._components, default_specification=DRAFT202012)
        self._schemas = SchemaRegistry().with_resource("urn:skillyard:openapi", resource)
        self.operations = {
            spec["operationId"]: self._operation(spec)
            for item in document["paths"].values()
            for spec in item.values()
        }

    def __getitem__(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    def _validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        rooted = json.loads(
            json.dumps(schema).replace('"#/components/', '"urn:skillyard:openapi#/components/')
        )
        return Draft202012Validator(rooted, registry=self._schemas)

    def _operation(self, spec: Mapping[str, Any]) -> Operation:
        params = tuple(self._param(p) for p in spec.get("parameters", ()))
        content = spec.get("requestBody", {}).get("content", {})
        body = content.get("application/json", {}).get("schema")
        validator = None if body is None else self._validator(body)
        return Operation(spec["operationId"], params, validator, bool(spec.get("security")))

    def _param(self, spec: Mapping[str, Any]) -> _Param:
        schema = spec["schema"]
        resolved = self._resolve(schema)
        return _Param(
            name=spec["name"].lower() if spec["in"] == "header" else spec["name"],
            location=spec["in"],
            required=bool(spec.get("required", False)),
            kind=str(resolved.get("type", "string")),
            default=resolved.get("default"),
            validator=self._validator(schema),
        )

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if ref is None:
            return schema
        resolved: Mapping[str, Any] = self._components["components"]["schemas"][
            ref.rsplit("/", 1)[1]
        ]
        return resolved
