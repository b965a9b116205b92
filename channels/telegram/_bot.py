"""PTB's ``Bot``, plus ``getUpdates`` that leaves parsing to our normaliser."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot

__all__ = ["PollingBot"]

# Telegram Bot API: getUpdates holds a long poll for ``timeout`` seconds; allow for the
# network on top (PTB adds its read timeout the same way).
_READ_SLACK_S = 10.0


class PollingBot(Bot):
    """``Bot.get_updates`` parses the whole batch into PTB objects and raises for
    all of it when one update has a shape PTB does not expect; the same batch
    would then come back on every retry and stop the channel for good.  Here
    the raw updates come back and each one is judged alone."""

    async def update_payloads(
        self, *, offset: int | None, timeout_s: float, allowed_updates: Sequence[str]
    ) -> list[object]:
        """The next updates as JSON (raises ``telegram.error.TelegramError``)."""
        data = {"offset": offset, "timeout": int(timeout_s), "allowed_updates": allowed_updates}
        result = await self._post("getUpdates", data, read_timeout=timeout_s + _READ_SLACK_S)
        return list(result) if isinstance(result, list) else []
