"""The Slack adapter in HTTP mode: signed events to its own routes, through Bolt.

The routes are served in memory (``httpx.ASGITransport``); the Web API calls
go to the loopback fake.  The gateway-level test is in tests/e2e/test_slack.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from channels.base import ButtonPress
from channels.errors import ChannelConfigError
from channels.slack import SlackAdapter
from gateway.events import InboundMessage
from tests.channels.inbox import Inbox
from tests.channels.slack import payloads as p
from tests.channels.slack.conftest import MakeAdapter, running
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, sign

EVENTS = "http://gateway.test/slack/events"
INTERACTIONS = "http://gateway.test/slack/interactions"
NOW = 1_717_000_000


def served(adapter: SlackAdapter) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=Starlette(routes=list(adapter.http_routes())))


@pytest.fixture
def http_adapter(make_adapter: MakeAdapter) -> Callable[[], SlackAdapter]:
    return lambda: make_adapter("http", clock=lambda: float(NOW))


def test_http_mode_serves_the_events_and_interactions_routes(
    make_adapter: MakeAdapter,
) -> None:
    paths = [route.path for route in make_adapter("http").http_routes()]  # type: ignore[attr-defined]
    assert paths == ["/slack/events", "/slack/interactions"]
    assert make_adapter("socket").http_routes() == ()


async def test_the_url_verification_handshake_is_answered(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter]
) -> None:
    adapter = http_adapter()
    async with running(adapter):
        answer = await fake.post(
            EVENTS, p.URL_VERIFICATION, timestamp=NOW, transport=served(adapter)
        )
    assert answer.status_code == 200
    assert answer.json() == {"challenge": p.URL_VERIFICATION["challenge"]}


async def test_a_signed_event_is_handed_over_and_a_retry_of_it_is_not(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter]
) -> None:
    adapter = http_adapter()
    async with running(adapter) as inbox:
        transport = served(adapter)
        first = await fake.post(EVENTS, p.DM, timestamp=NOW, transport=transport)
        again = await fake.post(EVENTS, p.DM, timestamp=NOW, retry_num=1, transport=transport)
    assert (first.status_code, again.status_code) == (200, 200)
    (item,) = inbox.items
    assert isinstance(item, InboundMessage) and item.text == "hello there"


async def test_a_button_press_arrives_as_a_signed_form(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter]
) -> None:
    adapter = http_adapter()
    press = p.block_actions("apr:apr_7f3a:approve")
    async with running(adapter) as inbox:
        answer = await fake.post(INTERACTIONS, press, timestamp=NOW, transport=served(adapter))
    assert answer.status_code == 200
    (item,) = inbox.items
    assert isinstance(item, ButtonPress) and item.request_id == "apr_7f3a"


async def test_other_buttons_and_events_are_acknowledged_and_dropped(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter]
) -> None:
    adapter = http_adapter()
    async with running(adapter) as inbox:
        transport = served(adapter)
        answers = [
            await fake.post(
                INTERACTIONS, p.block_actions("poll:vote"), timestamp=NOW, transport=transport
            ),
            await fake.post(EVENTS, p.REACTION, timestamp=NOW, transport=transport),
            await fake.post(EVENTS, p.CHANNEL_JOIN, timestamp=NOW, transport=transport),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]  # a 404 would make Slack retry
    assert inbox.items == []


@pytest.mark.parametrize(
    ("secret", "timestamp", "reason"),
    [
        ("a-guessed-secret", NOW, "a wrong signature"),
        (SIGNING_SECRET, NOW - 301, "a timestamp outside the 5-minute window"),
        (SIGNING_SECRET, NOW + 301, "a timestamp outside the 5-minute window"),
    ],
    ids=["forged", "replayed", "from-the-future"],
)
async def test_a_request_slack_did_not_sign_now_is_refused_with_401_and_logged(
    fake: FakeSlack,
    http_adapter: Callable[[], SlackAdapter],
    caplog: pytest.LogCaptureFixture,
    secret: str,
    timestamp: int,
    reason: str,
) -> None:
    adapter = http_adapter()
    async with running(adapter) as inbox:
        answer = await fake.post(
            EVENTS, p.DM, secret=secret, timestamp=timestamp, transport=served(adapter)
        )
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid request"}
    assert inbox.items == []
    assert reason in caplog.text
    assert SIGNING_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no signature"),
        ({"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}, "malformed"),
        (
            {
                "X-Slack-Request-Timestamp": str(NOW),
                "X-Slack-Signature": "v0=\xe9".encode("latin-1"),
            },
            "malformed",
        ),
    ],
)
async def test_unsigned_or_garbled_signatures_are_refused(
    http_adapter: Callable[[], SlackAdapter],
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str | bytes],
    reason: str,
) -> None:
    adapter = http_adapter()
    async with running(adapter) as inbox, httpx.AsyncClient(transport=served(adapter)) as client:
        answer = await client.post(EVENTS, content=b"{}", headers=headers)
    assert answer.status_code == 401
    assert inbox.items == []
    assert reason in caplog.text


async def test_a_signed_body_that_is_no_slack_payload_gets_400(
    http_adapter: Callable[[], SlackAdapter],
) -> None:
    adapter = http_adapter()
    body = b"{not json"
    headers = sign(body, timestamp=NOW) | {"Content-Type": "application/json"}
    async with running(adapter), httpx.AsyncClient(transport=served(adapter)) as client:
        answer = await client.post(EVENTS, content=body, headers=headers)
    assert answer.status_code == 400


async def test_an_oversized_body_gets_413(http_adapter: Callable[[], SlackAdapter]) -> None:
    adapter = http_adapter()
    async with running(adapter), httpx.AsyncClient(transport=served(adapter)) as client:
        answer = await client.post(EVENTS, content=b"x" * ((1 << 20) + 1))
    assert answer.status_code == 413


async def test_events_before_the_adapter_is_connected_get_503_so_slack_retries(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter]
) -> None:
    adapter = http_adapter()
    answer = await fake.post(EVENTS, p.DM, timestamp=NOW, transport=served(adapter))
    assert answer.status_code == 503


def test_http_mode_needs_the_signing_secret(make_adapter: MakeAdapter) -> None:
    with pytest.raises(ChannelConfigError, match="SLACK_SIGNING_SECRET"):
        make_adapter("http", secrets={"SLACK_SIGNING_SECRET": ""})


async def test_the_bolt_listener_runs_before_the_answer(
    fake: FakeSlack, http_adapter: Callable[[], SlackAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway that cannot take the event makes the answer non-2xx: Slack retries it."""
    caplog.set_level(logging.CRITICAL, logger="slack_bolt")

    class Refusing(Inbox):
        async def __call__(self, item: object) -> None:
            raise RuntimeError("the store is down")

    adapter = http_adapter()
    async with running(adapter, Refusing()):
        answer = await fake.post(EVENTS, p.DM, timestamp=NOW, transport=served(adapter))
    assert answer.status_code == 500
