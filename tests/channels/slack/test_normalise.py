"""The Slack normaliser against recorded payloads: pure, no network."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import ButtonPress
from channels.slack import BotIdentity, MalformedEvent, normalise
from channels.slack.text import decode
from gateway.events import (
    AttachmentKind,
    ConversationKind,
    InboundMessage,
    Mention,
    SessionKey,
)
from tests.channels.slack import payloads as p

BOT = BotIdentity(p.BOT_USER, p.BOT)


def message(body: dict[str, Any]) -> InboundMessage:
    item = normalise(body, BOT)
    assert isinstance(item, InboundMessage)
    return item


def test_a_direct_message() -> None:
    item = message(p.DM)
    assert item.id == "D0ALICE01:1717000000.123456"
    assert (item.channel, item.account, item.text) == ("slack", p.BOT_USER, "hello there")
    assert item.conversation.kind is ConversationKind.DM
    assert item.session_key == SessionKey("slack", p.BOT_USER, "D0ALICE01")
    assert item.sender.id == p.ALICE
    assert (item.sender.display_name, item.sender.username) == ("alice", "alice.liddell")
    assert not item.sender.is_bot and not item.mentions_self and not item.edited
    assert item.sent_at == pytest.approx(1717000000.123456)
    assert item.raw is not None and item.raw.data == p.DM
    assert "hello" not in repr(item.raw)  # the raw payload stays out of logs


def test_a_channel_message_heads_its_own_thread_and_does_not_mention_the_bot() -> None:
    item = message(p.CHANNEL_PLAIN)
    assert item.conversation.kind is ConversationKind.THREAD
    assert item.conversation.thread_id == "1717000100.000200"  # its own ts
    assert item.conversation.parent_id == "C0GENERAL"
    assert not item.mentions_self


def test_a_mention_of_the_bot_addresses_it_and_leaves_the_command_first() -> None:
    item = message(p.CHANNEL_MENTION)
    assert item.text == "/calculator 6*7"
    assert item.mentions == (Mention(p.BOT_USER, f"@{p.BOT_USER}", is_self=True),)
    assert item.session_key == SessionKey("slack", p.BOT_USER, "C0GENERAL", "1717000200.000300")


def test_the_app_mention_twin_is_the_same_message() -> None:
    twin = message(p.APP_MENTION)
    original = message(p.CHANNEL_MENTION)
    assert twin.id == original.id
    assert twin.text == original.text  # the router dedupes on id and text
    assert twin.session_key == original.session_key
    assert twin.mentions == original.mentions


def test_a_thread_reply_belongs_to_its_thread_and_the_parent_to_the_same_one() -> None:
    reply = message(p.THREAD_REPLY)
    parent = message(p.THREAD_PARENT)
    first = message(p.CHANNEL_MENTION)
    assert reply.conversation.thread_id == "1717000200.000300"
    assert reply.id.rsplit(":", 1)[-1] == "1717000400.000500"  # replies thread to the ts
    assert reply.session_key == parent.session_key == first.session_key
    assert reply.text == "and what about 7*8?"


def test_a_thread_reply_in_a_dm_is_its_own_dm_session() -> None:
    item = message(p.DM_THREAD_REPLY)
    assert item.conversation.kind is ConversationKind.DM
    assert item.session_key == SessionKey("slack", p.BOT_USER, "D0ALICE01", "1717000000.123456")


def test_an_edit_comes_back_as_the_original_message_marked_edited() -> None:
    item = message(p.MESSAGE_CHANGED)
    assert item.edited
    assert item.id == message(p.DM).id
    assert item.text == "hello there, corrected"


def test_shared_files_become_attachments_to_download() -> None:
    item = message(p.FILE_SHARE)
    image, clip, needs_info = item.attachments  # the tombstone (a deleted file) is left out
    assert image.kind is AttachmentKind.IMAGE
    assert image.ref.endswith("/download/cat.png")
    assert (image.name, image.mime_type, image.size) == ("cat.png", "image/png", 1234)
    assert clip.kind is AttachmentKind.VOICE and clip.ref.endswith("/clip.webm")
    assert needs_info.ref == "F0FILE0004" and needs_info.kind is AttachmentKind.FILE
    assert all(a.local_path is None for a in item.attachments)


def test_a_file_without_text_is_still_a_message() -> None:
    body = copy.deepcopy(p.FILE_SHARE)
    body["event"]["text"] = ""
    assert message(body).text == ""


def test_other_bots_and_the_bot_itself_are_marked_as_bots() -> None:
    other = message(p.OTHER_BOT)
    own = message(p.OWN_MESSAGE)
    assert other.sender.is_bot and other.sender.id == "B0OTHER01"
    assert other.sender.display_name == "Deploy Bot"
    assert other.text == "Deploy finished & green"
    assert own.sender.is_bot and own.sender.id == p.BOT_USER


@pytest.mark.parametrize(
    "body",
    [p.CHANNEL_JOIN, p.REACTION, p.URL_VERIFICATION, {"type": "app_rate_limited"}],
    ids=["join", "reaction", "url_verification", "other"],
)
def test_what_is_not_a_message_is_ignored(body: dict[str, Any]) -> None:
    assert normalise(body, BOT) is None


def test_an_empty_message_is_ignored() -> None:
    body = copy.deepcopy(p.DM)
    body["event"]["text"] = ""
    assert normalise(body, BOT) is None


def test_slack_escaping_and_references_become_plain_text() -> None:
    item = message(p.ESCAPES)
    assert item.text == (
        "a < b && c > d, ask @bob in #docs or @here: see the docs "
        "(https://example.org/a?b=1&c=2) and https://example.org/raw or Ann (ann@example.org), "
        "@devs at Feb 18, 2014"
    )
    assert item.mentions == (Mention("U0BOB0001", "@bob"),)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # an escaped entity stays what it showed
        ("<@U0BOT0001>: hi", "hi"),
        ("<@U0BOT0001|skillyard>, hi <@U0BOT0001>", "hi @U0BOT0001"),
        ("hi <@U0BOT0001>", "hi @U0BOT0001"),
        ("<@U0OTHER01> hi", "@U0OTHER01 hi"),
        ("<#C0DOCS001>", "#C0DOCS001"),
        ("<!channel> <!everyone>", "@channel @everyone"),
        ("<https://x.org|https://x.org>", "https://x.org"),
        ("<mailto:a@x.org>", "a@x.org"),
        ("2 < 3", "2 < 3"),
    ],
)
def test_decode(text: str, plain: str) -> None:
    assert decode(text, p.BOT_USER).text == plain


def test_a_press_of_an_approval_button() -> None:
    press = normalise(p.block_actions("apr:apr_7f3a:approve"), BOT)
    assert isinstance(press, ButtonPress)
    assert (press.request_id, press.decision.value) == ("apr_7f3a", "approve")
    assert (press.channel, press.account, press.conversation_id) == (
        "slack",
        p.BOT_USER,
        "D0ALICE01",
    )
    assert press.thread_id is None  # the DM session itself
    assert press.sender.id == p.ALICE


def test_a_press_in_a_channel_thread_names_the_thread_of_the_session() -> None:
    body = p.block_actions("apr:apr_7f3a:deny", channel="C0GENERAL", thread_ts="1717000200.000300")
    press = normalise(body, BOT)
    assert isinstance(press, ButtonPress)
    assert press.decision.value == "deny"
    assert (press.conversation_id, press.thread_id) == ("C0GENERAL", "1717000200.000300")
    asked = message(p.CHANNEL_MENTION)
    assert (asked.conversation.id, asked.conversation.thread_id) == (
        press.conversation_id,
        press.thread_id,
    )


@pytest.mark.parametrize(
    "action_id",
    ["someone_else:x:approve", "apr:x:maybe", "apr::approve", "skillyard_approval:approve:x"],
)
def test_other_actions_are_ignored(action_id: str) -> None:
    assert normalise(p.block_actions(action_id), BOT) is None


def _broken(path: tuple[str, ...], value: object) -> dict[str, Any]:
    body = copy.deepcopy(p.DM)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (["not", "an", "object"], "body must be an object"),
        ({"type": "event_callback"}, "body.event must be an object"),
        (_broken(("event", "channel"), 42), "body.event.channel"),
        (_broken(("event", "channel"), "../../etc"), "body.event.channel must be a Slack id"),
        (_broken(("event", "ts"), "yesterday"), "body.event.ts must be a Slack timestamp"),
        (_broken(("event", "text"), ["x"]), "body.event.text must be a string"),
        (_broken(("event", "user"), "u1; drop"), "body.event.user must be a Slack id"),
        (_broken(("event", "files"), {"id": "F1"}), "body.event.files must be an array"),
        (_broken(("event", "thread_ts"), 1.5), "body.event.thread_ts"),
    ],
)
def test_a_malformed_payload_is_refused_naming_the_field(body: Any, named: str) -> None:
    with pytest.raises(MalformedEvent, match=named.replace(".", r"\.")):
        normalise(body, BOT)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_RECORDED = [p.DM, p.CHANNEL_MENTION, p.THREAD_REPLY, p.MESSAGE_CHANGED, p.FILE_SHARE, p.OTHER_BOT]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_RECORDED),
    st.dictionaries(st.sampled_from(sorted({k for b in _RECORDED for k in b["event"]})), _json),
)
def test_any_json_is_normalised_or_refused_clearly(
    recorded: dict[str, Any], changes: dict[str, Any]
) -> None:
    body = copy.deepcopy(recorded)
    body["event"].update(changes)
    try:
        item = normalise(body, BOT)
    except MalformedEvent as exc:
        refusal = str(exc)
        item = None
    else:
        refusal = "slack: body."
    assert refusal.startswith("slack: body.")  # a refusal names the field
    if isinstance(item, InboundMessage):  # whatever got through is safe to use
        assert ":" not in item.conversation.id and "/" not in item.conversation.id
        assert item.id.rsplit(":", 1)[-1].replace(".", "").isdigit()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("<>@#!|&;amplgtU0B1 x:/^"), max_size=40))
def test_any_text_decodes(text: str) -> None:
    decoded = decode(text, p.BOT_USER)
    assert decoded.text == decoded.text.strip()
    assert all(m.user_id for m in decoded.mentions)
