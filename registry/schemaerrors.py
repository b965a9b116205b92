"""JSON Schema errors restated as (key path, problem) pairs a person can act on.

``jsonschema`` reports an unknown key as "Additional properties are not
allowed ('x' was unexpected)" at the *parent* object; here the pair names the
key itself (``tools[0].x``), and likewise for a missing required key.  Used for
``skill.yaml`` and for tool inputs and outputs, so errors read the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

__all__ = ["join_key", "key_path", "schema_problems"]


def schema_problems(
    schema: Mapping[str, Any], instance: object, *, root: str = "", limit: int = 5
) -> list[tuple[str, str]]:
    """Up to ``limit`` (key path, problem) pairs, shallowest first; empty when valid.

    ``schema`` must itself be a valid draft 2020-12 schema without remote refs.
    Paths start at ``root`` (``input`` gives ``input.expression``).
    """
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=_order)
    return [_describe(error, root) for error in errors[:limit]]


def key_path(parts: Iterable[str | int], root: str = "") -> str:
    """``["tools", 0, "name"]`` -> ``tools[0].name``."""
    text = root
    for part in parts:
        text = join_key(text, f"[{part}]" if isinstance(part, int) else part)
    return text


def join_key(base: str, key: str) -> str:
    return f"{base}.{key}" if base and key and not key.startswith("[") else base + key


def _order(error: jsonschema.ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), key_path(error.absolute_path))


def _describe(error: jsonschema.ValidationError, root: str) -> tuple[str, str]:
    base = key_path(error.absolute_path, root)
    instance, schema = error.instance, error.schema
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {})) if isinstance(schema, Mapping) else []
        extra = sorted(set(instance) - set(allowed))
        where = join_key(base, extra[0] if extra else "")
        return where, f"unknown key (allowed: {', '.join(allowed) or 'none'})"
    if error.validator == "required" and isinstance(instance, dict):
        missing = [key for key in _strings(error.validator_value) if key not in instance]
        return join_key(base, missing[0] if missing else ""), "is required"
    return base or "(top level)", error.message


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
