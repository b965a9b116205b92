"""Token counting for context budgets: an injectable counter, chars/4 by default.

A provider that knows its tokenizer may pass its own :data:`TokenCounter`;
chars/4 is the usual estimate for English prose and is what the tests use
(``registry.budget.estimate_tokens``, the count the catalog and body cuts use).
A message costs its text plus :data:`MESSAGE_OVERHEAD` (role and framing); an
assistant message that carries a provider's native copy (reasoning included)
costs that copy instead, since that is what goes back on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from brain.models.base import Message
from registry.budget import TokenCounter
from registry.budget import estimate_tokens as approx_tokens  # ceil(len(text) / 4)

__all__ = ["MESSAGE_OVERHEAD", "TokenCounter", "approx_tokens", "message_tokens", "messages_tokens"]

MESSAGE_OVERHEAD = 4


def message_tokens(message: Message, count: TokenCounter = approx_tokens) -> int:
    if message.native is not None:
        return MESSAGE_OVERHEAD + count(message.native.body)
    calls = sum(
        count(call.name) + count(json.dumps(call.arguments, ensure_ascii=False, default=str))
        for call in message.tool_calls
    )
    return MESSAGE_OVERHEAD + count(message.content) + calls


def messages_tokens(messages: Iterable[Message], count: TokenCounter = approx_tokens) -> int:
    return sum(message_tokens(m, count) for m in messages)
