"""Webhook mode: setWebhook at start, our own Starlette route, the secret header checked."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from channels.telegram import TelegramAdapter
from channels.telegram.webhook import MAX_BODY_BYTES
from gateway.events import InboundMessage
from tests.channels.inbox import Inbox, Link
from tests.channels.telegram.conftest import RoutesServer, running
from tests.fakes.telegram_api import FakeTelegram

MakeAdapter = Callable[..., TelegramAdapter]
SECRET = "s3cret-Value_for-the-hook"


def webhook_adapter(make_adapter: MakeAdapter) -> TelegramAdapter:
    return make_adapter(
        mode="webhook",
        public_url="https://bot.example.test/",
        secrets={"TELEGRAM_WEBHOOK_SECRET": SECRET},
    )


async def test_start_sets_the_webhook_and_updates_arrive_through_the_route(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    adapter = webhook_adapter(make_adapter)
    alice = fake.user(42, "Alice")
    update = fake.text(fake.private_chat(alice), alice, "hello hook")
    async with RoutesServer(adapter.http_routes()) as routes, running(adapter) as inbox:
        (call,) = fake.calls_of("setWebhook")
        assert call.params["url"] == "https://bot.example.test/telegram/webhook"
        assert call.params["secret_token"] == SECRET
        assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
        local = f"{routes.origin}/telegram/webhook"
        response = await fake.push_webhook(update, url=local)
        assert response.status_code == 200
        (message,) = inbox.items  # handled before the answer: 200 means it arrived
    assert isinstance(message, InboundMessage) and message.text == "hello hook"
    assert not fake.calls_of("getUpdates") and not fake.calls_of("deleteWebhook")


@pytest.mark.parametrize("secret", [None, "", "forged-guess", SECRET + "x", SECRET[:-1], "ü" * 10])
async def test_a_forged_request_is_refused_and_logged_without_the_secret(
    fake: FakeTelegram,
    make_adapter: MakeAdapter,
    caplog: pytest.LogCaptureFixture,
    secret: str | None,
) -> None:
    adapter = webhook_adapter(make_adapter)
    alice = fake.user(42, "Alice")
    update = fake.text(fake.private_chat(alice), alice, "let me in")
    async with RoutesServer(adapter.http_routes()) as routes, running(adapter) as inbox:
        url = f"{routes.origin}/telegram/webhook"
        response = await fake.push_webhook(update, url=url, secret=secret)
        assert response.status_code == 403
        assert inbox.items == []
    assert any("refused a request" in line for line in caplog.messages)
    assert not any(SECRET in line for line in caplog.messages)
    assert not any(secret and secret in line for line in caplog.messages)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"update_id": 9, "message": {"message_id": "x"}}).encode(), 400),
        (b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}", 413),
    ],
)
async def test_bad_bodies_with_the_right_secret_get_clear_errors(
    fake: FakeTelegram, make_adapter: MakeAdapter, body: bytes, status: int
) -> None:
    adapter = webhook_adapter(make_adapter)
    async with RoutesServer(adapter.http_routes()) as routes, running(adapter) as inbox:
        url = f"{routes.origin}/telegram/webhook"
        response = await fake.push_webhook({}, url=url, body=body)
        assert response.status_code == status
        assert response.json()["ok"] is False
        assert inbox.items == []


async def test_a_redelivered_update_is_handled_once(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    adapter = webhook_adapter(make_adapter)
    alice = fake.user(42, "Alice")
    update = fake.text(fake.private_chat(alice), alice, "once")
    async with RoutesServer(adapter.http_routes()) as routes, running(adapter) as inbox:
        url = f"{routes.origin}/telegram/webhook"
        for _ in range(3):  # Telegram re-delivers when it missed our answer
            assert (await fake.push_webhook(update, url=url)).status_code == 200
        assert len(inbox.items) == 1


async def test_while_not_running_telegram_is_told_to_come_back_later(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    adapter = webhook_adapter(make_adapter)
    alice = fake.user(42, "Alice")
    update = fake.text(fake.private_chat(alice), alice, "early")
    async with RoutesServer(adapter.http_routes()) as routes:
        url = f"{routes.origin}/telegram/webhook"
        assert (await fake.push_webhook(update, url=url, secret=SECRET)).status_code == 503
        async with running(adapter, Inbox()) as inbox:
            assert (await fake.push_webhook(update, url=url)).status_code == 200
            assert len(inbox.items) == 1


async def test_a_refused_webhook_address_is_a_configuration_error(
    fake: FakeTelegram, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    from channels.errors import ChannelConfigError

    caplog.set_level(logging.INFO)
    fake.fail_next(
        "setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host"
    )
    adapter = webhook_adapter(make_adapter)
    with pytest.raises(ChannelConfigError, match=r"channels\.telegram\.public_url"):
        await adapter.run(Inbox(), Link())
