"""discord.py's ``Client``, handing the few events the adapter needs to a listener, in order.

discord.py runs each ``on_<event>`` handler as a task of its own, owned by
nobody and free to finish in any order.  :class:`GatewayClient` instead
passes the events the adapter needs to a :class:`Listener` synchronously, as
discord.py parses them; the adapter queues them for its own tasks.

discord.py has no option for its endpoints: the REST base and the gateway URL
are class attributes (``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY``),
set by :func:`use_endpoints` before connecting.  One Discord endpoint per
process is therefore supported.
"""

from __future__ import annotations

from typing import Any, Protocol

import discord
import yarl

__all__ = ["GatewayClient", "Listener", "intents", "use_endpoints"]

# Discord: waits up to this long are left to discord.py; longer ones reach the adapter
# as RateLimited (discord.py clamps the value to at least 30 s).
_MAX_INLINE_RATELIMIT_S = 30.0


class Listener(Protocol):
    def connected(self) -> None:
        """READY or RESUMED: the gateway session is live."""

    def disconnected(self) -> None:
        """The gateway connection dropped; discord.py is reconnecting."""

    def message(self, message: discord.Message) -> None: ...

    def interaction(self, interaction: discord.Interaction[discord.Client]) -> None: ...


def use_endpoints(api_base_url: str, gateway_url: str) -> None:
    """Point every discord.py client of this process at these endpoints."""
    discord.http.Route.BASE = api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def intents(*, message_content: bool) -> discord.Intents:
    chosen = discord.Intents.default()  # guilds, guild and DM messages, reactions …
    chosen.message_content = message_content  # privileged: enabled in the Developer Portal
    return chosen


class GatewayClient(discord.Client):
    def __init__(
        self, listener: Listener, *, message_content: bool, guild_ready_timeout_s: float
    ) -> None:
        super().__init__(
            intents=intents(message_content=message_content),
            # A model must never ping @everyone, roles or users.
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout_s,
            max_messages=None,  # the adapter keeps no message history
            max_ratelimit_timeout=_MAX_INLINE_RATELIMIT_S,
        )
        self._listener = listener

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        super().dispatch(event, *args, **kwargs)
        match event, args:
            case ("ready" | "resumed", ()):
                self._listener.connected()
            case ("disconnect", ()):
                self._listener.disconnected()
            case ("message", (discord.Message() as message,)):
                self._listener.message(message)
            case ("interaction", (discord.Interaction() as interaction,)):
                self._listener.interaction(interaction)
