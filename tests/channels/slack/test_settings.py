"""``channels.slack.*`` and the Slack secrets, checked when the gateway builds the adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.base import AdapterSettings
from channels.errors import ChannelConfigError
from channels.slack import Mode, SlackAdapter, SlackSettings, create_adapter

BOT = "xoxb-1-2-secretbotvalue"
APP = "xapp-1-A1-2-secretappvalue"
SIGNING = "0123456789abcdef0123456789abcdef"


def settings(**values: object) -> AdapterSettings:
    secrets = values.pop("secrets", {"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP})
    return AdapterSettings(secrets=secrets, data_dir=Path("/data/slack"), **values)  # type: ignore[arg-type]


def test_defaults_are_socket_mode_against_slack() -> None:
    built = SlackSettings.from_adapter(settings())
    assert built.mode is Mode.SOCKET
    assert built.api_base_url == "https://slack.com/api"
    assert built.file_origins == {"https://slack.com", "https://files.slack.com"}
    assert built.attachments_dir == Path("/data/slack/attachments")
    assert BOT not in repr(built) and APP not in repr(built)


def test_a_configured_api_is_where_files_may_come_from_too() -> None:
    built = SlackSettings.from_adapter(settings(api_base_url="http://127.0.0.1:9/api/"))
    assert built.api_base_url == "http://127.0.0.1:9/api"
    assert "http://127.0.0.1:9" in built.file_origins


def test_http_mode_needs_the_signing_secret_but_no_app_token() -> None:
    secrets = {"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SIGNING}
    built = SlackSettings.from_adapter(settings(mode="http", secrets=secrets))
    assert (built.mode, built.app_token, built.signing_secret) == (Mode.HTTP, "", SIGNING)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"mode": "webhook"}, "channels.slack.mode: 'webhook' is not a Slack mode"),
        ({"secrets": {"SLACK_APP_TOKEN": APP}}, "SLACK_BOT_TOKEN is not set"),
        ({"secrets": {"SLACK_BOT_TOKEN": APP, "SLACK_APP_TOKEN": APP}}, "SLACK_BOT_TOKEN does not"),
        ({"secrets": {"SLACK_BOT_TOKEN": BOT}}, "SLACK_APP_TOKEN is not set"),
        ({"secrets": {"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": BOT}}, "SLACK_APP_TOKEN does not"),
        (
            {"mode": "http", "secrets": {"SLACK_BOT_TOKEN": BOT}},
            "SLACK_SIGNING_SECRET is not set .required in http mode",
        ),
        ({"api_base_url": "ftp://slack.example"}, "channels.slack.api_base_url"),
        ({"file_base_url": "files.slack.com"}, "channels.slack.file_base_url"),
    ],
)
def test_misconfiguration_names_the_key_and_never_the_secret(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(ChannelConfigError, match=named) as raised:
        SlackSettings.from_adapter(settings(**values))
    assert BOT not in str(raised.value) and APP not in str(raised.value)


def test_the_gateway_builds_the_adapter_by_name() -> None:
    adapter = create_adapter(settings())
    assert isinstance(adapter, SlackAdapter)
    assert adapter.capabilities.name == "slack"
