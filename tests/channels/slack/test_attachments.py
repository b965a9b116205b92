"""Files shared with the bot: downloaded with the bot token, only from Slack, within a cap,
and only when the host asks (after its access decision)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from gateway.events import InboundMessage
from tests.channels.slack.conftest import MakeAdapter, running
from tests.fakes.slack_api import BOT_TOKEN, BOT_USER_ID, FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


def stored(local_path: str | None) -> tuple[bytes, int]:
    """The bytes and permission bits of a downloaded file."""
    assert local_path is not None
    path = Path(local_path)
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


async def shared(
    fake: FakeSlack, adapter_options: dict[str, Any], make_adapter: MakeAdapter, *files: Any
) -> InboundMessage:
    """Share ``files`` in a DM; what the adapter handed over, with its files fetched."""
    alice = fake.user("U0ALICE01", "alice")
    dm = fake.dm(alice)
    adapter = make_adapter(**adapter_options)
    async with running(adapter) as inbox:
        event = fake.message(dm, alice, "what is this?", files=files)
        await fake.wait_ack(await fake.push(fake.event(event)))
        (item,) = inbox.items
        assert isinstance(item, InboundMessage)
        assert not fake.calls_of("file download")  # nothing before the host decides
        return await adapter.fetch_attachments(item)


async def test_a_shared_file_is_downloaded_privately_with_the_bot_token(
    fake: FakeSlack, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    picture = fake.file("cat.png", PNG, "image/png")
    item = await shared(fake, {}, make_adapter, picture)
    (attachment,) = item.attachments
    assert stored(attachment.local_path) == (PNG, 0o600)
    path = Path(str(attachment.local_path))
    assert path.parent == tmp_path / "slack" / "attachments" / item.conversation.id
    assert path.suffix == ".png" and "cat" not in path.name  # our name, not the sender's
    (download,) = fake.calls_of("file download")
    assert download.token == BOT_TOKEN


async def test_a_file_over_the_cap_is_not_downloaded_but_the_message_goes_through(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    picture = fake.file("cat.png", PNG, "image/png")
    item = await shared(fake, {"max_download_bytes": 1000}, make_adapter, picture)
    (attachment,) = item.attachments
    assert attachment.local_path is None
    assert item.text == "what is this?"
    assert fake.calls_of("file download") == []
    assert "over the 1000-byte cap" in caplog.text


async def test_a_file_larger_than_declared_is_cut_off_at_the_cap(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    picture = fake.file("cat.png", PNG, "image/png") | {"size": 10}  # Slack under-declared
    item = await shared(fake, {"max_download_bytes": 1000}, make_adapter, picture)
    assert item.attachments[0].local_path is None
    assert "over the 1000-byte cap" in caplog.text


async def test_a_slack_connect_file_is_looked_up_with_files_info(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    details = fake.file("notes.txt", b"hello", "text/plain")
    item = await shared(
        fake, {}, make_adapter, {"id": details["id"], "file_access": "check_file_info"}
    )
    (attachment,) = item.attachments
    assert stored(attachment.local_path)[0] == b"hello"
    (info,) = fake.calls_of("files.info")
    assert info.params["file"] == details["id"]


async def test_the_token_is_never_sent_to_a_host_other_than_slacks(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = fake.file("cat.png", PNG, "image/png")
    elsewhere["url_private_download"] = "https://attacker.example/steal?file=cat.png"
    item = await shared(fake, {}, make_adapter, elsewhere)
    assert item.attachments[0].local_path is None
    assert "not sent the token" in caplog.text
    assert fake.calls_of("file download") == []


async def test_slacks_sign_in_page_instead_of_the_file_is_reported(
    fake: FakeSlack, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    fake.files_readable = False
    picture = fake.file("cat.png", PNG, "image/png")
    item = await shared(fake, {}, make_adapter, picture)
    assert item.attachments[0].local_path is None
    assert "files:read" in caplog.text


async def test_channel_messages_are_handed_over_without_downloading_their_files(
    fake: FakeSlack, make_adapter: MakeAdapter
) -> None:
    alice = fake.user("U0ALICE01", "alice")
    general = fake.channel()
    picture = fake.file("cat.png", PNG, "image/png")
    adapter = make_adapter()
    async with running(adapter) as inbox:
        for text in ("look at my cat", f"<@{BOT_USER_ID}> what is this?"):
            event = fake.message(general, alice, text, files=[picture])
            await fake.wait_ack(await fake.push(fake.event(event)))
        chatter, question = inbox.items
        assert fake.calls_of("file download") == []  # Slack sends every message of a channel
        assert isinstance(question, InboundMessage)
        question = await adapter.fetch_attachments(question)  # the host accepted this one
    assert isinstance(chatter, InboundMessage) and chatter.attachments[0].local_path is None
    assert question.attachments[0].local_path is not None
    assert len(fake.calls_of("file download")) == 1
