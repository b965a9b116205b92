"""Frozen dataclasses to JSON and back, driven by their type hints.

Dataclasses become objects tagged with ``"$type"`` (their class name), so a
union of dataclasses decodes to the right member; enums become their values;
tuples and lists become arrays; mappings stay objects (values typed
``object`` or ``Any`` pass through as plain JSON).  Decoding checks every
value against its hint and raises ``CheckpointError`` naming the path: a
saved value read by a newer version must fail loudly, never half-load.
A field added later with a default decodes from an older document.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from brain.guard.errors import CheckpointError

__all__ = ["decode", "encode"]

_TAG = "$type"
_PLAIN = (str, int, float, bool)


def encode(value: object) -> object:
    """``value`` as JSON-ready data (dicts, lists, strings, numbers, booleans, None)."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TAG: type(value).__name__, **fields}
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if value is None or isinstance(value, _PLAIN):
        return value
    raise CheckpointError(f"cannot save a {type(value).__name__} value")


def decode(hint: Any, data: object, path: str = "$") -> Any:
    """``data`` (from :func:`encode`) as a value of type ``hint``."""
    origin = get_origin(hint)
    if hint is Any or hint is object:
        return data
    if origin is Union or origin is types.UnionType:
        return _union(get_args(hint), data, path)
    if origin is tuple:
        return _tuple(get_args(hint), data, path)
    if origin is not None and _is_mapping(origin):
        value_hint = get_args(hint)[1] if get_args(hint) else Any
        items = _expect(data, dict, path)
        return {key: decode(value_hint, item, f"{path}.{key}") for key, item in items.items()}
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError:
            raise CheckpointError(f"{path}: {data!r} is not a {hint.__name__}") from None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, data, path)
    return _plain(hint, data, path)


def _union(members: tuple[Any, ...], data: object, path: str) -> Any:
    if data is None and type(None) in members:
        return None
    candidates = [m for m in members if m is not type(None)]
    if isinstance(data, dict) and _TAG in data:
        tagged = [m for m in candidates if getattr(m, "__name__", None) == data[_TAG]]
        candidates = tagged or candidates
    for member in candidates:
        try:
            return decode(member, data, path)
        except CheckpointError:
            continue
    raise CheckpointError(f"{path}: {data!r} matches none of the expected types")


def _tuple(args: tuple[Any, ...], data: object, path: str) -> tuple[Any, ...]:
    items = _expect(data, list, path)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(decode(args[0], item, f"{path}[{i}]") for i, item in enumerate(items))
    if len(args) != len(items):
        raise CheckpointError(f"{path}: expected {len(args)} items, got {len(items)}")
    return tuple(
        decode(a, item, f"{path}[{i}]")
        for i, (a, item) in enumerate(zip(args, items, strict=False))
    )


def _dataclass(cls: type, data: object, path: str) -> Any:
    items = _expect(data, dict, path)
    if items.get(_TAG, cls.__name__) != cls.__name__:
        raise CheckpointError(f"{path}: expected a {cls.__name__}, got {items[_TAG]!r}")
    hints = _hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in items:
            values[field.name] = decode(
                hints[field.name], items[field.name], f"{path}.{field.name}"
            )
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise CheckpointError(f"{path}.{field.name}: missing")
    return cls(**values)


def _plain(hint: Any, data: object, path: str) -> Any:
    if hint is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if (
        isinstance(hint, type)
        and isinstance(data, hint)
        and (hint is bool) == isinstance(data, bool)
    ):
        return data
    raise CheckpointError(f"{path}: expected {getattr(hint, '__name__', hint)}, got {data!r}")


def _expect(data: object, kind: type, path: str) -> Any:
    if not isinstance(data, kind):
        raise CheckpointError(f"{path}: expected {kind.__name__}, got {type(data).__name__}")
    return data


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)  # evaluating string annotations is slow: once per class


def _is_mapping(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, Mapping)
