"""The access policy, as a table."""

from __future__ import annotations

import pytest

from gateway.access import AccessPolicy, DmPolicy, GroupPolicy, Verdict, decide
from gateway.events import Conversation, ConversationKind, InboundMessage, Mention, Sender

BOT = "bot-1"


def message(
    *,
    kind: ConversationKind = ConversationKind.DM,
    sender: str = "u1",
    is_bot: bool = False,
    mentioned: bool = False,
) -> InboundMessage:
    mentions = (Mention(BOT, "@bot", is_self=True),) if mentioned else ()
    return InboundMessage(
        id="m1",
        channel="telegram",
        account=BOT,
        conversation=Conversation("c1", kind),
        sender=Sender(sender, is_bot=is_bot),
        text="hi",
        sent_at=0.0,
        mentions=mentions,
    )


DM, GROUP = ConversationKind.DM, ConversationKind.GROUP
P = AccessPolicy


@pytest.mark.parametrize(
    ("policy", "msg", "known", "verdict"),
    [
        (P(), message(), False, Verdict.PAIR),
        (P(), message(), True, Verdict.ACCEPT),
        (P(allow_from=frozenset({"u1"})), message(), False, Verdict.ACCEPT),
        (P(dm_policy=DmPolicy.ALLOWLIST), message(), False, Verdict.IGNORE),
        (P(dm_policy=DmPolicy.ALLOWLIST), message(), True, Verdict.ACCEPT),
        (P(dm_policy=DmPolicy.OPEN), message(), False, Verdict.ACCEPT),
        (P(), message(is_bot=True), True, Verdict.IGNORE),
        (P(dm_policy=DmPolicy.OPEN), message(sender=BOT), False, Verdict.IGNORE),
        (P(), message(kind=GROUP), True, Verdict.IGNORE),  # not mentioned
        (P(), message(kind=GROUP, mentioned=True), True, Verdict.ACCEPT),
        (P(), message(kind=GROUP, mentioned=True), False, Verdict.IGNORE),  # stranger
        (
            P(group_policy=GroupPolicy.OPEN),
            message(kind=GROUP, mentioned=True),
            False,
            Verdict.ACCEPT,
        ),
        (P(require_mention=False), message(kind=GROUP), True, Verdict.ACCEPT),
        (
            P(group_policy=GroupPolicy.DISABLED),
            message(kind=GROUP, mentioned=True),
            True,
            Verdict.IGNORE,
        ),
        (
            P(dm_policy=DmPolicy.OPEN),
            message(kind=ConversationKind.THREAD, mentioned=True),
            False,
            Verdict.IGNORE,
        ),  # an open DM policy does not open groups
    ],
)
def test_access_matrix(
    policy: AccessPolicy, msg: InboundMessage, known: bool, verdict: Verdict
) -> None:
    assert decide(msg, policy, sender_known=known, bot_id=BOT).verdict is verdict
