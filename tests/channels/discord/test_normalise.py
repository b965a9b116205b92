"""The Discord normaliser against recorded gateway payloads: pure, no network."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import ButtonPress
from channels.discord import (
    BotIdentity,
    ChannelFacts,
    MalformedEvent,
    normalise,
    normalise_interaction,
)
from gateway.events import ApprovalDecision, AttachmentKind, ConversationKind, InboundMessage
from tests.channels.discord import payloads as p

BOT = BotIdentity(p.BOT_ID, "skillyard", frozenset({p.BOT_ROLE}))
GENERAL = ChannelFacts(name="general")
IN_THREAD = ChannelFacts(parent_id=p.GENERAL, name="planning")


def message(payload: dict[str, Any], facts: ChannelFacts | None = None) -> InboundMessage:
    item = normalise(payload, BOT, channel=facts)
    assert isinstance(item, InboundMessage)
    return item


# -- where a message was posted ---------------------------------------------------


def test_a_direct_message_is_a_dm_conversation_keyed_by_its_channel() -> None:
    item = message(p.dm())
    assert item.id == f"{p.DM}:1213000000000000101"
    assert (item.channel, item.account, item.text) == ("discord", p.BOT_ID, "/calculator 6*7")
    assert item.conversation.kind is ConversationKind.DM
    assert str(item.session_key) == f"discord:{p.BOT_ID}:{p.DM}"
    assert item.sender.id == p.ALICE
    assert (item.sender.display_name, item.sender.username) == ("Alice", "alice")
    assert not item.sender.is_bot and not item.edited and item.reply_to is None
    assert item.sent_at == pytest.approx(1709294400.123)
    assert item.raw is not None and item.raw.data["content"] == "/calculator 6*7"


def test_a_guild_text_channel_is_a_group_named_after_the_channel() -> None:
    item = message(p.guild_message("hello all"), GENERAL)
    assert item.conversation.kind is ConversationKind.GROUP
    assert (item.conversation.id, item.conversation.title) == (p.GENERAL, "general")
    assert item.conversation.thread_id is None
    assert not item.mentions_self


def test_a_thread_is_its_parent_channels_conversation_with_the_thread_as_thread() -> None:
    item = message(p.guild_message("in the thread", channel=p.THREAD), IN_THREAD)
    conversation = item.conversation
    assert conversation.kind is ConversationKind.THREAD
    assert (conversation.id, conversation.thread_id, conversation.parent_id) == (
        p.GENERAL,
        p.THREAD,
        p.GENERAL,
    )
    assert str(item.session_key) == f"discord:{p.BOT_ID}:{p.GENERAL}:{p.THREAD}"
    assert item.id == f"{p.THREAD}:1213000000000000202"  # replies go to the thread itself


def test_a_member_nickname_is_the_display_name() -> None:
    payload = p.guild_message("hi")
    payload["member"]["nick"] = "Ally"
    assert message(payload, GENERAL).sender.display_name == "Ally"


# -- mentions ---------------------------------------------------------------------


@pytest.mark.parametrize("written", [f"<@{p.BOT_ID}>", f"<@!{p.BOT_ID}>", f"<@&{p.BOT_ROLE}>"])
def test_a_leading_mention_of_the_bot_addresses_it_and_leaves_the_command(written: str) -> None:
    payload = p.guild_message(f"{written} /calculator 6*7", mention_roles=[])
    if "&" not in written:
        payload["mentions"] = [p.mention_of(p.bot_user())]
    item = message(payload, GENERAL)
    assert item.text == "/calculator 6*7"
    assert item.mentions_self
    assert [m.user_id for m in item.mentions if m.is_self] == [p.BOT_ID]


def test_other_users_mentions_read_as_names_and_do_not_address_the_bot() -> None:
    payload = p.guild_message(f"ask <@{p.BOB}> or <@!{p.BOB}> about it")
    payload["mentions"] = [p.mention_of(p.bob())]
    item = message(payload, GENERAL)
    assert item.text == "ask @Bob or @Bob about it"
    assert [(m.user_id, m.text, m.is_self) for m in item.mentions] == [(p.BOB, "@Bob", False)]
    assert not item.mentions_self


def test_a_mention_of_the_bot_mid_sentence_stays_readable() -> None:
    payload = p.guild_message(f"thanks <@{p.BOT_ID}>!")
    payload["mentions"] = [p.mention_of(p.bot_user())]
    item = message(payload, GENERAL)
    assert item.text == "thanks @skillyard!"
    assert item.mentions_self


def test_a_role_that_is_not_the_bots_does_not_address_it() -> None:
    item = message(p.guild_message("<@&1111111111111111111> ping", mention_roles=[]), GENERAL)
    assert item.text == "<@&1111111111111111111> ping"
    assert not item.mentions_self


def test_a_reply_to_the_bots_message_counts_as_a_mention_of_the_bot() -> None:
    answered = p.bot_message()
    payload = p.guild_message("and what about 7*8?", type=19, referenced_message=answered)
    payload["message_reference"] = {
        "type": 0,
        "message_id": answered["id"],
        "channel_id": p.GENERAL,
        "guild_id": p.GUILD,
    }
    item = message(payload, GENERAL)
    assert item.mentions_self
    assert item.reply_to == f"{p.GENERAL}:{answered['id']}"
    assert item.text == "and what about 7*8?"


def test_a_reply_ping_without_the_replied_message_still_addresses_the_bot() -> None:
    payload = p.guild_message("and now?", type=19, mentions=[p.mention_of(p.bot_user())])
    payload["message_reference"] = {"message_id": "1212999999999999999", "channel_id": p.GENERAL}
    assert message(payload, GENERAL).mentions_self


def test_a_reply_to_someone_else_does_not_address_the_bot() -> None:
    theirs = p.guild_message("my idea", author=p.bob(), id="1212999999999999990")
    payload = p.guild_message("+1", type=19, referenced_message=theirs)
    payload["message_reference"] = {"message_id": theirs["id"], "channel_id": p.GENERAL}
    item = message(payload, GENERAL)
    assert not item.mentions_self
    assert item.reply_to == f"{p.GENERAL}:{theirs['id']}"


# -- attachments ------------------------------------------------------------------


def test_attachments_are_reported_by_kind_with_their_cdn_url() -> None:
    item = message(p.dm(content="", attachments=[p.ATTACHMENT, p.PHOTO]))
    document, photo = item.attachments
    assert (document.kind, document.name, document.size) == (
        AttachmentKind.FILE,
        "report.pdf",
        48213,
    )
    assert document.ref == p.ATTACHMENT["url"] and document.mime_type == "application/pdf"
    assert (photo.kind, photo.mime_type) == (AttachmentKind.IMAGE, "image/png")
    assert item.text == "" and document.local_path is None  # the shell downloads


def test_a_voice_message_is_a_voice_attachment() -> None:
    item = message(p.dm(content="", attachments=[p.VOICE], flags=1 << 13))
    assert item.attachments[0].kind is AttachmentKind.VOICE


def test_a_hostile_file_name_is_kept_only_as_a_bounded_label() -> None:
    hostile = p.ATTACHMENT | {"filename": "../../" + "x" * 500}
    (attachment,) = message(p.dm(attachments=[hostile])).attachments
    assert attachment.name is not None and len(attachment.name) == 255


# -- who wrote it, and what is not answered ----------------------------------------


def test_bots_and_webhooks_are_marked_as_bots() -> None:
    assert message(p.guild_message("beep", author=p.bot_user()), GENERAL).sender.is_bot
    hook = p.guild_message("deploy done", webhook_id="1200000000000000999", member=None)
    hook["author"] = {"id": "1200000000000000999", "username": "CI", "discriminator": "0000"}
    assert message(hook, GENERAL).sender.is_bot


def test_an_edit_is_reported_as_edited() -> None:
    edited = p.dm(content="/calculator 6*8", edited_timestamp="2024-03-01T12:01:00.000000+00:00")
    item = message(edited)
    assert item.edited and item.id == f"{p.DM}:1213000000000000101"


def test_without_the_message_content_intent_an_unaddressed_guild_message_is_dropped() -> None:
    # Discord blanks content, attachments and embeds then: nothing to answer.
    assert normalise(p.guild_message(""), BOT, channel=GENERAL) is None


@pytest.mark.parametrize("kind", [6, 7, 8, 18, 21, 46])  # pin, join, boost, thread created …
def test_system_messages_are_not_answered(kind: int) -> None:
    assert normalise(p.guild_message("Alice joined", type=kind), BOT, channel=GENERAL) is None


# -- button presses -----------------------------------------------------------------


def test_an_approval_button_press_in_a_channel() -> None:
    press = normalise_interaction(p.interaction("apr:apr_Zx9:approve"), BOT)
    assert press == ButtonPress(
        channel="discord",
        account=p.BOT_ID,
        conversation_id=p.GENERAL,
        thread_id=None,
        sender=press.sender if press else None,  # type: ignore[arg-type]
        request_id="apr_Zx9",
        decision=ApprovalDecision.APPROVE,
    )
    assert press is not None and (press.sender.id, press.sender.display_name) == (p.ALICE, "Alice")


def test_a_press_in_a_thread_belongs_to_the_threads_session() -> None:
    thread = {"id": p.THREAD, "type": 11, "guild_id": p.GUILD, "parent_id": p.GENERAL}
    press = normalise_interaction(p.interaction("apr:apr_1:deny", channel=thread), BOT)
    assert press is not None
    assert (press.conversation_id, press.thread_id) == (p.GENERAL, p.THREAD)
    assert press.decision is ApprovalDecision.DENY


def test_a_press_in_a_dm_names_the_user() -> None:
    dm_channel = {"id": p.DM, "type": 1}
    press = normalise_interaction(
        p.interaction("apr:a:approve", channel=dm_channel, guild=False), BOT
    )
    assert press is not None and (press.conversation_id, press.sender.id) == (p.DM, p.ALICE)


@pytest.mark.parametrize(
    "custom_id", ["other:button", "apr::approve", "apr:x:maybe", "apr:x", "", "x" * 100]
)
def test_presses_of_other_components_are_not_approvals(custom_id: str) -> None:
    assert normalise_interaction(p.interaction(custom_id), BOT) is None


def test_slash_commands_and_select_menus_are_not_approvals() -> None:
    command = p.interaction("apr:x:approve") | {"type": 2}
    select = p.interaction("apr:x:approve")
    select["data"]["component_type"] = 3
    assert normalise_interaction(command, BOT) is None
    assert normalise_interaction(select, BOT) is None


# -- malformed and hostile payloads ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"channel_id": None}, "message.channel_id"),
        ({"id": "12; DROP TABLE"}, "message.id"),
        ({"id": "9" * 40}, "message.id"),
        ({"content": ["not", "text"]}, "message.content"),
        ({"author": "alice"}, "message.author"),
        ({"attachments": {"url": "x"}}, "message.attachments"),
        ({"timestamp": "yesterday"}, "message.timestamp"),
        ({"mentions": [{"id": True}]}, "message.mentions[0].id"),
    ],
)
def test_a_malformed_message_is_refused_naming_the_field(
    change: dict[str, Any], named: str
) -> None:
    with pytest.raises(MalformedEvent, match=named.replace("[", r"\[").replace("]", r"\]")):
        normalise(p.dm(**change), BOT)


def test_a_malformed_interaction_is_refused_naming_the_field() -> None:
    broken = p.interaction("apr:x:approve")
    del broken["member"]
    with pytest.raises(MalformedEvent, match=r"interaction\.user"):
        normalise_interaction(broken, BOT)
    with pytest.raises(MalformedEvent, match="JSON object"):
        normalise_interaction(["not", "an", "object"], BOT)  # type: ignore[arg-type]


def test_the_raw_payload_is_a_copy_the_caller_cannot_change() -> None:
    payload = p.dm()
    item = message(payload)
    payload["content"] = "changed"
    assert item.raw is not None and item.raw.data["content"] == "/calculator 6*7"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(p.DM_MESSAGE), "guild_id"]), _json))
def test_any_json_is_normalised_or_refused_clearly(changes: dict[str, Any]) -> None:
    try:
        normalise(p.dm(**changes), BOT)
        normalise_interaction(p.interaction("apr:x:approve") | changes, BOT)
    except MalformedEvent:
        pass
