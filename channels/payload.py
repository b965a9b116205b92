"""Typed, checked reads from a platform's JSON payload; errors name the field's path.

Every normaliser reads its payload through an :class:`Obj`, so a payload
without the documented shape fails with one clear error (``update.message.chat
must be an object``) instead of a ``KeyError`` deep inside, and nothing of it
is half-used.  Each platform subclasses :class:`Obj` to say which error it
raises (``MalformedUpdate``, ``MalformedEvent``) and adds the readers only it
needs (Discord's snowflake ids); the reading rules are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Self

from channels.errors import MalformedPayload

__all__ = ["Obj"]


class Obj:
    """One JSON object of a payload, at ``path`` (``body.event.files[0]``).

    Subclasses set :attr:`error`, the platform's "malformed payload" exception
    (built from the message alone), and may set :attr:`blank_is_absent` where
    the platform sends ``""`` and ``null`` alike for "none" (Slack).
    """

    __slots__ = ("_data", "path")

    error: ClassVar[type[MalformedPayload]]
    blank_is_absent: ClassVar[bool] = False

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise self.error(f"{path} must be an object")
        self._data: Mapping[str, object] = data
        self.path = path

    @property
    def data(self) -> Mapping[str, object]:
        return self._data

    def has(self, key: str) -> bool:
        value = self._data.get(key)
        return value is not None and not (self.blank_is_absent and value == "")

    def req_int(self, key: str) -> int:
        value = self._data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"{self.path}.{key} must be an integer")
        return value

    def opt_int(self, key: str) -> int | None:
        return self.req_int(key) if self.has(key) else None

    def req_str(self, key: str) -> str:
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self.error(f"{self.path}.{key} must be a string")
        if self.blank_is_absent and not value:
            raise self.error(f"{self.path}.{key} must be a non-empty string")
        return value

    def opt_str(self, key: str) -> str | None:
        return self.req_str(key) if self.has(key) else None

    def flag(self, key: str) -> bool:
        """A boolean that is false when absent (or ``null``)."""
        value = self._data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(f"{self.path}.{key} must be true or false")
        return value

    def child(self, key: str) -> Self:
        return type(self)(self._data.get(key), f"{self.path}.{key}")

    def opt_child(self, key: str) -> Self | None:
        return self.child(key) if self.has(key) else None

    def children(self, key: str) -> list[Self]:
        """The objects of an optional array (empty when absent)."""
        return [type(self)(item, path) for item, path in self.items(key)]

    def items(self, key: str) -> list[tuple[object, str]]:
        """The values of an optional array with their paths (empty when absent)."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{self.path}.{key} must be an array")
        return [(item, f"{self.path}.{key}[{i}]") for i, item in enumerate(value)]
