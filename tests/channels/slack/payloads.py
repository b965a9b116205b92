"""Slack payloads as Slack delivers them (shapes recorded from real apps, ids changed).

The bot is user ``U0BOT0001`` (bot ``B0BOT0001``) in team ``T0TEST001``; Alice
is ``U0ALICE01``.  Events are ``event_callback`` bodies (the HTTP body, or a
Socket Mode envelope's ``payload``); buttons are ``block_actions`` payloads.
"""

from __future__ import annotations

import copy
from typing import Any

TEAM = "T0TEST001"
BOT_USER = "U0BOT0001"
BOT = "B0BOT0001"
ALICE = "U0ALICE01"


def callback(event: dict[str, Any], event_id: str = "Ev0TEST0001") -> dict[str, Any]:
    return {
        "token": "XXYYZZ",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "api_app_id": "A0APP0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1717000000,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


_RICH_TEXT = [
    {
        "type": "rich_text",
        "block_id": "Xk0",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "…"}]}],
    }
]

DM_EVENT: dict[str, Any] = {
    "user": ALICE,
    "type": "message",
    "ts": "1717000000.123456",
    "client_msg_id": "6f0e3c1a-6b8b-4c53-9f6e-2b0a0f0d5f11",
    "text": "hello there",
    "team": TEAM,
    "blocks": _RICH_TEXT,
    "channel": "D0ALICE01",
    "event_ts": "1717000000.123456",
    "channel_type": "im",
    "user_profile": {
        "avatar_hash": "g0a1b2c3d4e5",
        "display_name": "alice",
        "real_name": "Alice Liddell",
        "name": "alice.liddell",
        "team": TEAM,
    },
}
DM = callback(DM_EVENT)

CHANNEL_PLAIN = callback(
    {
        "user": ALICE,
        "type": "message",
        "ts": "1717000100.000200",
        "client_msg_id": "0d6f8c8e-1c5e-4d0a-9d8e-7e6f5a4b3c21",
        "text": "anyone read chapter 3?",
        "team": TEAM,
        "channel": "C0GENERAL",
        "event_ts": "1717000100.000200",
        "channel_type": "channel",
    }
)

_MENTION_TEXT = f"<@{BOT_USER}> /calculator 6*7"
CHANNEL_MENTION_EVENT: dict[str, Any] = {
    "user": ALICE,
    "type": "message",
    "ts": "1717000200.000300",
    "client_msg_id": "a1b2c3d4-0000-4000-8000-000000000300",
    "text": _MENTION_TEXT,
    "team": TEAM,
    "channel": "C0GENERAL",
    "event_ts": "1717000200.000300",
    "channel_type": "channel",
}
CHANNEL_MENTION = callback(CHANNEL_MENTION_EVENT, "Ev0MSG0300")
APP_MENTION = callback(
    {
        "type": "app_mention",
        "user": ALICE,
        "ts": "1717000200.000300",
        "client_msg_id": "a1b2c3d4-0000-4000-8000-000000000300",
        "text": _MENTION_TEXT,
        "team": TEAM,
        "channel": "C0GENERAL",
        "event_ts": "1717000200.000300",
    },
    "Ev0MEN0300",
)

THREAD_REPLY = callback(
    {
        "user": ALICE,
        "type": "message",
        "ts": "1717000400.000500",
        "client_msg_id": "a1b2c3d4-0000-4000-8000-000000000500",
        "text": f"<@{BOT_USER}> and what about 7*8?",
        "team": TEAM,
        "thread_ts": "1717000200.000300",
        "parent_user_id": ALICE,
        "channel": "C0GENERAL",
        "event_ts": "1717000400.000500",
        "channel_type": "channel",
    }
)

# A thread's parent carries ``thread_ts == ts`` once it has replies.
THREAD_PARENT = callback(
    {
        "user": ALICE,
        "type": "message",
        "ts": "1717000200.000300",
        "text": f"<@{BOT_USER}> /calculator 6*7",
        "team": TEAM,
        "thread_ts": "1717000200.000300",
        "reply_count": 1,
        "reply_users_count": 1,
        "latest_reply": "1717000400.000500",
        "reply_users": [BOT_USER],
        "channel": "C0GENERAL",
        "event_ts": "1717000200.000300",
        "channel_type": "channel",
    }
)

DM_THREAD_REPLY = callback(
    {
        "user": ALICE,
        "type": "message",
        "ts": "1717000500.000600",
        "text": "in a thread of our DM",
        "team": TEAM,
        "thread_ts": "1717000000.123456",
        "parent_user_id": ALICE,
        "channel": "D0ALICE01",
        "event_ts": "1717000500.000600",
        "channel_type": "im",
    }
)

MESSAGE_CHANGED = callback(
    {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            "user": ALICE,
            "type": "message",
            "edited": {"user": ALICE, "ts": "1717000600.000000"},
            "client_msg_id": "6f0e3c1a-6b8b-4c53-9f6e-2b0a0f0d5f11",
            "text": "hello there, corrected",
            "team": TEAM,
            "ts": "1717000000.123456",
            "source_team": TEAM,
            "user_team": TEAM,
        },
        "previous_message": {
            "user": ALICE,
            "type": "message",
            "ts": "1717000000.123456",
            "text": "hello there",
        },
        "channel": "D0ALICE01",
        "hidden": True,
        "ts": "1717000600.000700",
        "event_ts": "1717000600.000700",
        "channel_type": "im",
    }
)

FILE_SHARE = callback(
    {
        "type": "message",
        "subtype": "file_share",
        "text": "what is in this picture?",
        "files": [
            {
                "id": "F0FILE0001",
                "created": 1717000700,
                "timestamp": 1717000700,
                "name": "cat.png",
                "title": "cat.png",
                "mimetype": "image/png",
                "filetype": "png",
                "pretty_type": "PNG",
                "user": ALICE,
                "mode": "hosted",
                "size": 1234,
                "url_private": "https://files.slack.com/files-pri/T0TEST001-F0FILE0001/cat.png",
                "url_private_download": (
                    "https://files.slack.com/files-pri/T0TEST001-F0FILE0001/download/cat.png"
                ),
                "permalink": "https://skillyard-test.slack.com/files/U0ALICE01/F0FILE0001/cat.png",
            },
            {
                "id": "F0FILE0002",
                "name": "clip.webm",
                "mimetype": "audio/webm",
                "subtype": "slack_audio",
                "mode": "hosted",
                "size": 2048,
                "url_private": "https://files.slack.com/files-pri/T0TEST001-F0FILE0002/clip.webm",
            },
            {"id": "F0FILE0003", "mode": "tombstone"},
            {"id": "F0FILE0004", "file_access": "check_file_info", "created": 1717000700},
        ],
        "upload": False,
        "user": ALICE,
        "display_as_bot": False,
        "ts": "1717000700.000800",
        "client_msg_id": "a1b2c3d4-0000-4000-8000-000000000800",
        "channel": "D0ALICE01",
        "event_ts": "1717000700.000800",
        "channel_type": "im",
    }
)

OTHER_BOT = callback(
    {
        "type": "message",
        "subtype": "bot_message",
        "text": "Deploy finished &amp; green",
        "ts": "1717000800.000900",
        "username": "Deploy Bot",
        "bot_id": "B0OTHER01",
        "app_id": "A0OTHER01",
        "channel": "C0GENERAL",
        "event_ts": "1717000800.000900",
        "channel_type": "channel",
    }
)

OWN_MESSAGE = callback(
    {
        "bot_id": BOT,
        "type": "message",
        "text": "42",
        "user": BOT_USER,
        "ts": "1717000900.001000",
        "app_id": "A0APP0001",
        "team": TEAM,
        "bot_profile": {"id": BOT, "name": "skillyard", "app_id": "A0APP0001"},
        "channel": "D0ALICE01",
        "event_ts": "1717000900.001000",
        "channel_type": "im",
    }
)

CHANNEL_JOIN = callback(
    {
        "type": "message",
        "subtype": "channel_join",
        "ts": "1717001000.001100",
        "user": ALICE,
        "text": f"<@{ALICE}> has joined the channel",
        "channel": "C0GENERAL",
        "event_ts": "1717001000.001100",
        "channel_type": "channel",
    }
)

REACTION = callback(
    {
        "type": "reaction_added",
        "user": ALICE,
        "reaction": "thumbsup",
        "item": {"type": "message", "channel": "C0GENERAL", "ts": "1717000100.000200"},
        "event_ts": "1717001100.001200",
    }
)

ESCAPES = callback(
    {
        "user": ALICE,
        "type": "message",
        "ts": "1717001200.001300",
        "text": (
            "a &lt; b &amp;&amp; c &gt; d, ask <@U0BOB0001|bob> in <#C0DOCS001|docs> "
            "or <!here>: see <https://example.org/a?b=1&amp;c=2|the docs> and "
            "<https://example.org/raw> or <mailto:ann@example.org|Ann>, "
            "<!subteam^S0DEVS001|@devs> at <!date^1392734382^{date}|Feb 18, 2014>"
        ),
        "team": TEAM,
        "channel": "C0GENERAL",
        "event_ts": "1717001200.001300",
        "channel_type": "channel",
    }
)

URL_VERIFICATION = {
    "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
    "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    "type": "url_verification",
}

_APPROVAL_MESSAGE = {
    "user": BOT_USER,
    "type": "message",
    "ts": "1717001300.001400",
    "bot_id": BOT,
    "app_id": "A0APP0001",
    "text": "Approve this action?",
    "team": TEAM,
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Approve this action?"}},
        {
            "type": "actions",
            "block_id": "skillyard_approval",
            "elements": [
                {
                    "type": "button",
                    "action_id": "apr:apr_7f3a:approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": "apr_7f3a",
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": "apr:apr_7f3a:deny",
                    "text": {"type": "plain_text", "text": "Deny"},
                    "value": "apr_7f3a",
                    "style": "danger",
                },
            ],
        },
    ],
}


def block_actions(
    action_id: str, *, channel: str = "D0ALICE01", thread_ts: str | None = None
) -> dict[str, Any]:
    message = copy.deepcopy(_APPROVAL_MESSAGE)
    container = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        message["thread_ts"] = container["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {
            "id": ALICE,
            "username": "alice.liddell",
            "name": "alice.liddell",
            "team_id": TEAM,
        },
        "api_app_id": "A0APP0001",
        "token": "XXYYZZ",
        "container": container,
        "trigger_id": "1717001400.1.abcdef",
        "team": {"id": TEAM, "domain": "skillyard-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0TEST001/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "skillyard_approval",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": "apr_7f3a",
                "style": "primary",
                "type": "button",
                "action_ts": "1717001400.001500",
            }
        ],
    }
