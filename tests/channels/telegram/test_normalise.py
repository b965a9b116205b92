"""The pure normaliser against recorded Bot API payloads, and against hostile ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from telegram import Update

from channels.base import ButtonPress
from channels.telegram import BotIdentity, MalformedUpdate, normalise
from channels.telegram.normalise import callback_query_id, update_id
from gateway.events import (
    ApprovalDecision,
    AttachmentKind,
    ConversationKind,
    InboundMessage,
    Mention,
)
from tests.channels.telegram import payloads as p

BOT = BotIdentity("7000000001", "skillyard_test_bot")


def message_of(update: dict[str, Any]) -> InboundMessage:
    result = normalise(update, BOT)
    assert isinstance(result, InboundMessage)
    return result


def test_a_direct_message() -> None:
    message = message_of(p.DM)
    assert message.id == "111111111:17"
    assert (message.channel, message.account) == ("telegram", "7000000001")
    assert message.conversation.kind is ConversationKind.DM
    assert message.session_key.conversation == "111111111"
    assert message.session_key.thread is None
    assert message.sender.id == "111111111"
    assert message.sender.display_name == "Alice Liddell"
    assert message.sender.username == "alice"
    assert message.sender.is_bot is False
    assert message.text == "hello there"
    assert message.sent_at == 1717000000.0
    assert message.mentions == () and message.attachments == () and message.reply_to is None
    assert message.raw is not None and message.raw.data == p.DM


def test_a_group_message_without_a_mention() -> None:
    message = message_of(p.GROUP_PLAIN)
    assert message.conversation.kind is ConversationKind.GROUP
    assert message.conversation.id == "-4012345678"
    assert message.conversation.title == "Book club"
    assert not message.mentions_self


def test_a_mention_is_found_by_utf16_offsets() -> None:
    message = message_of(p.SUPERGROUP_MENTION)
    assert message.conversation.kind is ConversationKind.GROUP
    assert message.mentions == (Mention("7000000001", "@skillyard_test_bot", is_self=True),)


def test_text_mentions_carry_user_ids() -> None:
    message = message_of(p.TEXT_MENTION)
    assert message.mentions == (
        Mention("7000000001", "Skillyard", is_self=True),
        Mention("222222222", "Bob", is_self=False),
    )


def test_a_mention_of_another_bot_is_not_a_mention_of_ours() -> None:
    message = message_of(p.OTHER_MENTION)
    assert message.mentions == (Mention("@helper_bot", "@helper_bot", is_self=False),)
    assert not message_of(p.COMMAND_FOR_OTHER_BOT).mentions_self


def test_a_forum_topic_is_a_thread_and_its_command_addresses_the_bot() -> None:
    message = message_of(p.FORUM_TOPIC)
    assert message.conversation.kind is ConversationKind.THREAD
    assert message.conversation.thread_id == "77"
    assert message.conversation.parent_id == "-1009988776655"
    assert str(message.session_key) == "telegram:7000000001:-1009988776655:77"
    assert message.mentions_self  # /calculator@skillyard_test_bot
    assert message.text == "/calculator@skillyard_test_bot 6*7"
    # every topic message "replies" to the topic's creation notice; that is no reply
    assert message.reply_to is None


def test_a_reply_to_the_bot_counts_as_a_mention() -> None:
    message = message_of(p.REPLY_TO_BOT)
    assert message.reply_to == "-1002233445566:4400"
    assert message.mentions_self
    assert message.sender.display_name == "Bob" and message.sender.username is None


def test_an_edit_keeps_the_message_id_and_is_marked() -> None:
    message = message_of(p.EDITED)
    assert message.edited is True
    assert message.id == message_of(p.DM).id
    assert message.text == "hello there!"


def test_a_photo_takes_the_largest_size_and_its_caption() -> None:
    message = message_of(p.PHOTO)
    (photo,) = message.attachments
    assert (photo.kind, photo.ref, photo.size) == (AttachmentKind.IMAGE, "AgAD-large", 98211)
    assert photo.mime_type == "image/jpeg"
    assert photo.local_path is None
    assert message.text == "what is in this picture?"


def test_a_document_keeps_its_name_as_data_and_caption_mentions_count() -> None:
    message = message_of(p.DOCUMENT)
    (document,) = message.attachments
    assert document.kind is AttachmentKind.FILE
    assert document.name == "../../etc/report Q3.pdf"  # only ever shown, never a path
    assert document.mime_type == "application/pdf"
    assert message.mentions_self


def test_voice_and_animation_attachments() -> None:
    (voice,) = message_of(p.VOICE).attachments
    assert (voice.kind, voice.ref, voice.mime_type) == (
        AttachmentKind.VOICE,
        "AwAD-voice",
        "audio/ogg",
    )
    assert message_of(p.VOICE).text == ""
    # Telegram repeats an animation as a document: one attachment, not two
    (animation,) = message_of(p.ANIMATION).attachments
    assert animation.kind is AttachmentKind.VIDEO


def test_a_bot_sender_is_reported_as_a_bot() -> None:
    message = message_of(p.FROM_BOT)
    assert message.sender.is_bot is True
    assert message.mentions_self  # the access policy ignores it anyway


def test_an_anonymous_admin_speaks_as_the_group() -> None:
    message = message_of(p.ANONYMOUS_ADMIN)
    assert message.sender.id == "-1002233445566"
    assert message.sender.display_name == "Engineering"
    assert message.sender.is_bot is False


@pytest.mark.parametrize("update", [p.CHANNEL_POST, p.JOINED, p.OTHER_BUTTON])
def test_kinds_we_do_not_answer_are_ignored(update: dict[str, Any]) -> None:
    assert normalise(update, BOT) is None


def test_an_approval_button_press() -> None:
    press = normalise(p.APPROVE_PRESS, BOT)
    assert isinstance(press, ButtonPress)
    assert press.request_id == "apr_Qk3jZ0xY2bT9mW1r"
    assert press.decision is ApprovalDecision.APPROVE
    assert (press.conversation_id, press.thread_id) == ("-1009988776655", "77")
    assert press.sender.id == "111111111"
    assert callback_query_id(p.APPROVE_PRESS) == "4382947382947382947"
    assert callback_query_id(p.DM) is None


def test_ptb_update_objects_normalise_like_their_json() -> None:
    for payload in (p.DM, p.FORUM_TOPIC, p.PHOTO, p.APPROVE_PRESS):
        parsed = Update.de_json(copy.deepcopy(payload), None)
        assert normalise(parsed, BOT) == normalise(payload, BOT)
        assert update_id(parsed) == update_id(payload) == payload["update_id"]


def test_the_input_is_never_changed() -> None:
    payload = copy.deepcopy(p.FORUM_TOPIC)
    message = message_of(payload)
    assert payload == p.FORUM_TOPIC
    assert message.raw is not None and message.raw.data is not payload


# -- hostile and malformed payloads ------------------------------------------------


def broken(path: str, value: object) -> dict[str, Any]:
    """A recorded update with the value at a dotted path replaced (None deletes it)."""
    update = copy.deepcopy(p.SUPERGROUP_MENTION)
    *parents, last = path.split(".")
    node: Any = update
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return update


@pytest.mark.parametrize(
    ("update", "named"),
    [
        (broken("update_id", "1"), "update.update_id must be an integer"),
        (broken("message.chat", None), "update.message.chat must be an object"),
        (broken("message.chat.id", True), "update.message.chat.id must be an integer"),
        (broken("message.text", 42), "update.message.text must be a string"),
        (broken("message.from", "alice"), "update.message.from must be an object"),
        (
            broken("message.entities", {"type": "mention"}),
            "update.message.entities must be an array",
        ),
        (broken("message.entities.0.offset", "3"), "update.message.entities[0].offset"),
        (broken("message.is_topic_message", "yes"), "is_topic_message must be true or false"),
        (broken("message.message_id", 1.5), "update.message.message_id must be an integer"),
    ],
)
def test_malformed_updates_are_refused_naming_the_field(update: dict[str, Any], named: str) -> None:
    with pytest.raises(MalformedUpdate, match=named.replace("[", r"\[").replace("]", r"\]")):
        normalise(update, BOT)


@pytest.mark.parametrize("update", [[], "update", 42, None])
def test_an_update_must_be_an_object(update: object) -> None:
    with pytest.raises(MalformedUpdate, match="must be a JSON object"):
        normalise(update, BOT)  # type: ignore[arg-type]


@pytest.mark.parametrize(("offset", "length"), [(40, 19), (-1, 5), (3, 0), (3, 10_000)])
def test_entities_outside_the_text_are_skipped_not_fatal(offset: int, length: int) -> None:
    update = broken("message.entities", [{"type": "mention", "offset": offset, "length": length}])
    message = message_of(update)
    assert message.mentions == ()
    assert message.text.startswith("🙂")


def test_an_oversized_file_name_is_cut() -> None:
    update = copy.deepcopy(p.DOCUMENT)
    update["message"]["document"]["file_name"] = "x" * 5000
    (document,) = message_of(update).attachments
    assert document.name is not None and len(document.name) == 255
