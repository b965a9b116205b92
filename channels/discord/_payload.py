"""Checked reads from a Discord gateway payload (``channels.payload``), plus snowflake ids.

Discord sends ids (snowflakes) as strings of digits; discord.py and older
payloads sometimes hold them as integers.  :meth:`Obj.req_id` accepts both and
always returns the string form.
"""

from __future__ import annotations

from channels import payload
from channels.discord.errors import MalformedEvent

__all__ = ["Obj"]

_MAX_SNOWFLAKE_DIGITS = 20  # a 64-bit unsigned integer


class Obj(payload.Obj):
    """One JSON object of an event, at ``path`` (``message.author``)."""

    __slots__ = ()
    error = MalformedEvent

    def req_id(self, key: str) -> str:
        return _snowflake(self.data.get(key), f"{self.path}.{key}")

    def opt_id(self, key: str) -> str | None:
        return self.req_id(key) if self.has(key) else None

    def ids(self, key: str) -> list[str]:
        """An optional array of snowflake ids (``mention_roles``)."""
        return [_snowflake(item, path) for item, path in self.items(key)]


def _snowflake(value: object, path: str) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise MalformedEvent(f"{path} must be a snowflake id")
    if len(text) > _MAX_SNOWFLAKE_DIGITS:
        raise MalformedEvent(f"{path} is too long for a snowflake id")
    return text
