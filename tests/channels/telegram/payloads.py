"""Bot API updates as Telegram sends them (shapes recorded from real bots, ids changed).

The bot is ``@skillyard_test_bot`` with user id 7000000001.
"""

from __future__ import annotations

from typing import Any

BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Skillyard",
    "username": "skillyard_test_bot",
}
ALICE = {
    "id": 111111111,
    "is_bot": False,
    "first_name": "Alice",
    "last_name": "Liddell",
    "username": "alice",
    "language_code": "en",
}
BOB = {"id": 222222222, "is_bot": False, "first_name": "Bob"}  # no username
HELPER_BOT = {"id": 333333333, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}

DM_CHAT = {
    "id": 111111111,
    "first_name": "Alice",
    "last_name": "Liddell",
    "username": "alice",
    "type": "private",
}
GROUP_CHAT = {"id": -4012345678, "title": "Book club", "type": "group"}
SUPERGROUP_CHAT = {"id": -1002233445566, "title": "Engineering", "type": "supergroup"}
FORUM_CHAT = {"id": -1009988776655, "title": "Support", "type": "supergroup", "is_forum": True}

DM: dict[str, Any] = {
    "update_id": 500000001,
    "message": {
        "message_id": 17,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000000,
        "text": "hello there",
    },
}

GROUP_PLAIN: dict[str, Any] = {
    "update_id": 500000002,
    "message": {
        "message_id": 230,
        "from": ALICE,
        "chat": GROUP_CHAT,
        "date": 1717000100,
        "text": "anyone read chapter 3?",
    },
}

SUPERGROUP_MENTION: dict[str, Any] = {
    "update_id": 500000003,
    "message": {
        "message_id": 4410,
        "from": ALICE,
        "chat": SUPERGROUP_CHAT,
        "date": 1717000200,
        # "🙂 " is 3 UTF-16 units: the entity offset counts them, not code points.
        "text": "🙂 @skillyard_test_bot what is the build status?",
        "entities": [{"offset": 3, "length": 19, "type": "mention"}],
    },
}

TEXT_MENTION: dict[str, Any] = {
    "update_id": 500000004,
    "message": {
        "message_id": 4411,
        "from": ALICE,
        "chat": SUPERGROUP_CHAT,
        "date": 1717000210,
        "text": "Skillyard and Bob, please look",
        "entities": [
            {"offset": 0, "length": 9, "type": "text_mention", "user": BOT},
            {"offset": 14, "length": 3, "type": "text_mention", "user": BOB},
        ],
    },
}

OTHER_MENTION: dict[str, Any] = {
    "update_id": 500000005,
    "message": {
        "message_id": 4412,
        "from": ALICE,
        "chat": SUPERGROUP_CHAT,
        "date": 1717000220,
        "text": "@helper_bot do the thing",
        "entities": [{"offset": 0, "length": 11, "type": "mention"}],
    },
}

FORUM_TOPIC: dict[str, Any] = {
    "update_id": 500000006,
    "message": {
        "message_id": 88,
        "message_thread_id": 77,
        "from": ALICE,
        "chat": FORUM_CHAT,
        "date": 1717000300,
        "reply_to_message": {
            "message_id": 77,
            "message_thread_id": 77,
            "from": BOT,  # the bot opened the topic: still not a reply to the bot
            "chat": FORUM_CHAT,
            "date": 1717000000,
            "forum_topic_created": {"name": "Billing", "icon_color": 7322096},
            "is_topic_message": True,
        },
        "is_topic_message": True,
        "text": "/calculator@skillyard_test_bot 6*7",
        "entities": [{"offset": 0, "length": 30, "type": "bot_command"}],
    },
}

REPLY_TO_BOT: dict[str, Any] = {
    "update_id": 500000007,
    "message": {
        "message_id": 4413,
        "from": BOB,
        "chat": SUPERGROUP_CHAT,
        "date": 1717000400,
        "reply_to_message": {
            "message_id": 4400,
            "from": BOT,
            "chat": SUPERGROUP_CHAT,
            "date": 1717000390,
            "text": "The build is green.",
        },
        "text": "and the deploy?",
    },
}

COMMAND_FOR_OTHER_BOT: dict[str, Any] = {
    "update_id": 500000008,
    "message": {
        "message_id": 231,
        "from": ALICE,
        "chat": GROUP_CHAT,
        "date": 1717000500,
        "text": "/start@helper_bot",
        "entities": [{"offset": 0, "length": 17, "type": "bot_command"}],
    },
}

EDITED: dict[str, Any] = {
    "update_id": 500000009,
    "edited_message": {
        "message_id": 17,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000000,
        "edit_date": 1717000050,
        "text": "hello there!",
    },
}

PHOTO: dict[str, Any] = {
    "update_id": 500000010,
    "message": {
        "message_id": 18,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000600,
        "photo": [
            {
                "file_id": "AgAD-small",
                "file_unique_id": "s1",
                "file_size": 1432,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": "AgAD-large",
                "file_unique_id": "s3",
                "file_size": 98211,
                "width": 1280,
                "height": 960,
            },
            {
                "file_id": "AgAD-medium",
                "file_unique_id": "s2",
                "file_size": 20044,
                "width": 320,
                "height": 240,
            },
        ],
        "caption": "what is in this picture?",
    },
}

DOCUMENT: dict[str, Any] = {
    "update_id": 500000011,
    "message": {
        "message_id": 19,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000700,
        "document": {
            "file_name": "../../etc/report Q3.pdf",
            "mime_type": "application/pdf",
            "file_id": "BQAD-doc",
            "file_unique_id": "d1",
            "file_size": 48213,
        },
        "caption": "summarise @skillyard_test_bot",
        "caption_entities": [{"offset": 10, "length": 19, "type": "mention"}],
    },
}

VOICE: dict[str, Any] = {
    "update_id": 500000012,
    "message": {
        "message_id": 20,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000800,
        "voice": {
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_id": "AwAD-voice",
            "file_unique_id": "v1",
            "file_size": 7120,
        },
    },
}

ANIMATION: dict[str, Any] = {
    "update_id": 500000013,
    "message": {
        "message_id": 21,
        "from": ALICE,
        "chat": DM_CHAT,
        "date": 1717000900,
        "animation": {
            "file_name": "cat.mp4",
            "mime_type": "video/mp4",
            "duration": 2,
            "width": 320,
            "height": 240,
            "file_id": "CgAD-anim",
            "file_unique_id": "a1",
            "file_size": 90000,
        },
        "document": {
            "file_name": "cat.mp4",
            "mime_type": "video/mp4",
            "file_id": "CgAD-anim",
            "file_unique_id": "a1",
            "file_size": 90000,
        },
    },
}

FROM_BOT: dict[str, Any] = {
    "update_id": 500000014,
    "message": {
        "message_id": 4414,
        "from": HELPER_BOT,
        "chat": SUPERGROUP_CHAT,
        "date": 1717001000,
        "text": "@skillyard_test_bot ping",
        "entities": [{"offset": 0, "length": 19, "type": "mention"}],
    },
}

CHANNEL_POST: dict[str, Any] = {
    "update_id": 500000015,
    "channel_post": {
        "message_id": 5,
        "sender_chat": {"id": -1001112223334, "title": "News", "type": "channel"},
        "chat": {"id": -1001112223334, "title": "News", "type": "channel"},
        "date": 1717001100,
        "text": "release 1.2 is out",
    },
}

JOINED: dict[str, Any] = {
    "update_id": 500000016,
    "message": {
        "message_id": 232,
        "from": ALICE,
        "chat": GROUP_CHAT,
        "date": 1717001200,
        "new_chat_participant": BOB,
        "new_chat_member": BOB,
        "new_chat_members": [BOB],
    },
}

APPROVE_PRESS: dict[str, Any] = {
    "update_id": 500000017,
    "callback_query": {
        "id": "4382947382947382947",
        "from": ALICE,
        "message": {
            "message_id": 4415,
            "message_thread_id": 77,
            "is_topic_message": True,
            "from": BOT,
            "chat": FORUM_CHAT,
            "date": 1717001300,
            "text": "Approve this action?\ncalculator__evaluate 6*7",
            "reply_markup": {
                "inline_keyboard": [
                    [
                        {"text": "Approve", "callback_data": "apr:apr_Qk3jZ0xY2bT9mW1r:approve"},
                        {"text": "Deny", "callback_data": "apr:apr_Qk3jZ0xY2bT9mW1r:deny"},
                    ]
                ]
            },
        },
        "chat_instance": "-5849304958304958",
        "data": "apr:apr_Qk3jZ0xY2bT9mW1r:approve",
    },
}

OTHER_BUTTON: dict[str, Any] = {
    "update_id": 500000018,
    "callback_query": {
        "id": "4382947382947382948",
        "from": ALICE,
        "message": APPROVE_PRESS["callback_query"]["message"],
        "chat_instance": "-5849304958304958",
        "data": "page:2",
    },
}

ANONYMOUS_ADMIN: dict[str, Any] = {
    "update_id": 500000019,
    "message": {
        "message_id": 4416,
        "from": {
            "id": 1087968824,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        },
        "sender_chat": SUPERGROUP_CHAT,
        "chat": SUPERGROUP_CHAT,
        "date": 1717001400,
        "text": "@skillyard_test_bot status?",
        "entities": [{"offset": 0, "length": 19, "type": "mention"}],
    },
}
