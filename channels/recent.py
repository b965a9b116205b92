"""The ids a channel handled lately, to skip a platform's re-deliveries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Recent"]

K = TypeVar("K", bound=Hashable)


class Recent(Generic[K]):
    """The last ``size`` ids added, oldest forgotten first.

    Platforms deliver again what they think was missed (a webhook answered
    late, ``X-Slack-Retry-Num``); the router dedupes on the message id too,
    but skipping here saves the work before it.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._ids: OrderedDict[K, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def add(self, key: K) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)
