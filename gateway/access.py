"""Who may talk to the assistant through a chat channel: a pure decision per message.

Direct messages follow ``dm_policy``:

``pairing`` (default)
    a stranger gets a one-time code instead of an answer; once the owner
    approves it (``skillyard pairing approve <channel> <code>``) the sender is
    known and goes straight through;
``allowlist``
    only senders in ``allow_from`` (or approved earlier) are answered; others
    are ignored;
``open``
    anyone is answered.

In groups and threads, ``require_mention`` (default true) means the bot
answers only when mentioned (a reply to one of its messages counts: the
normalisers report it as a mention of the bot), and ``group_policy`` says
whom it answers there: ``members`` (default: senders known from DMs or
``allow_from``), ``open`` (anyone) or ``disabled``.  A DM approval never opens
groups to strangers.  Bots — including this one — are always ignored, so two
bots cannot talk each other into a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gateway.events import ConversationKind, InboundMessage

__all__ = ["AccessPolicy", "Decision", "DmPolicy", "GroupPolicy", "Verdict", "decide"]


class DmPolicy(StrEnum):
    PAIRING = "pairing"
    ALLOWLIST = "allowlist"
    OPEN = "open"


class GroupPolicy(StrEnum):
    MEMBERS = "members"
    OPEN = "open"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    dm_policy: DmPolicy = DmPolicy.PAIRING
    allow_from: frozenset[str] = field(default_factory=frozenset)
    group_policy: GroupPolicy = GroupPolicy.MEMBERS
    require_mention: bool = True


class Verdict(StrEnum):
    ACCEPT = "accept"
    PAIR = "pair"  # answer with a pairing code, not with the assistant
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str


def decide(
    message: InboundMessage, policy: AccessPolicy, *, sender_known: bool, bot_id: str
) -> Decision:
    """What to do with ``message``; ``sender_known`` says whether pairing approved them."""
    if message.sender.is_bot or message.sender.id == bot_id:
        return Decision(Verdict.IGNORE, "messages from bots are ignored")
    allowed = sender_known or message.sender.id in policy.allow_from
    if message.conversation.kind is ConversationKind.DM:
        return _direct(policy, allowed)
    return _group(message, policy, allowed)


def _direct(policy: AccessPolicy, allowed: bool) -> Decision:
    if allowed or policy.dm_policy is DmPolicy.OPEN:
        return Decision(Verdict.ACCEPT, "sender may talk to the assistant")
    if policy.dm_policy is DmPolicy.PAIRING:
        return Decision(Verdict.PAIR, "unknown sender: pairing required")
    return Decision(Verdict.IGNORE, "sender is not on the allowlist")


def _group(message: InboundMessage, policy: AccessPolicy, allowed: bool) -> Decision:
    if policy.group_policy is GroupPolicy.DISABLED:
        return Decision(Verdict.IGNORE, "groups are disabled for this channel")
    if policy.require_mention and not message.mentions_self:
        return Decision(Verdict.IGNORE, "not addressed to the bot")
    if policy.group_policy is GroupPolicy.MEMBERS and not allowed:
        return Decision(Verdict.IGNORE, "sender is not known to this assistant")
    return Decision(Verdict.ACCEPT, "addressed to the bot")
