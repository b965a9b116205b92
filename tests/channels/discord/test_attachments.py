"""Files users send: downloaded from the (fake) CDN with a size cap, into safe paths, and
only when the host asks (after its access decision)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from channels.discord import DiscordAdapter
from channels.errors import ChannelUnavailable
from gateway.events import (
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
)
from tests.channels.discord.conftest import running
from tests.fakes.discord_api import FakeDiscord

MakeAdapter = Callable[..., DiscordAdapter]


def contents(path: Path) -> bytes:
    return path.read_bytes()


def permissions(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_an_attachment_is_downloaded_into_the_channels_folder(
    fake: FakeDiscord, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    photo = fake.attachment(dm, b"\x89PNG fake image", "../../etc/passwd", content_type="image/png")
    adapter = make_adapter()
    async with running(adapter) as inbox:
        sent = await fake.post(dm, alice, "", attachments=[photo])
        (message,) = await inbox.wait()
        assert isinstance(message, InboundMessage)
        assert not fake.calls_of("cdn")  # nothing before the host decides
        message = await adapter.fetch_attachments(message)
    (attachment,) = message.attachments
    assert attachment.kind is AttachmentKind.IMAGE and attachment.name == "../../etc/passwd"
    assert attachment.local_path is not None
    path = Path(attachment.local_path)
    folder = tmp_path / "discord" / "attachments" / dm["id"]
    assert path.parent == folder and path.name.startswith(f"{sent['id']}-1-")
    assert path.suffix == ".png"
    assert contents(path) == b"\x89PNG fake image"
    assert permissions(path) == 0o600


async def test_files_over_the_cap_are_not_downloaded_but_the_message_goes_through(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    declared_big = fake.attachment(dm, b"x" * 10, "big.bin")
    declared_big["size"] = 5000
    lying = fake.attachment(dm, b"y" * 5000, "small.txt", declared_size=10)
    fine = fake.attachment(dm, b"z" * 100, "ok.txt", content_type="text/plain")
    adapter = make_adapter(max_download_bytes=1000)
    async with running(adapter) as inbox:
        await fake.post(dm, alice, "three files", attachments=[declared_big, lying, fine])
        (message,) = await inbox.wait()
        assert isinstance(message, InboundMessage)
        assert not fake.calls_of("cdn")  # nothing before the host decides
        message = await adapter.fetch_attachments(message)
    big, lied, ok = message.attachments
    assert big.local_path is None and lied.local_path is None
    assert ok.local_path is not None and contents(Path(ok.local_path)) == b"z" * 100
    assert len(fake.calls_of("cdn")) == 2  # the one declared too big was never fetched
    assert message.text == "three files"


async def test_urls_off_discords_cdn_are_not_fetched(
    fake: FakeDiscord, make_adapter: MakeAdapter
) -> None:
    alice = fake.user(42, "alice")
    dm = fake.dm_channel(alice)
    elsewhere = fake.attachment(dm, b"secret", "a.txt")
    elsewhere["url"] = elsewhere["url"].replace("127.0.0.1", "localhost")
    internal = fake.attachment(dm, b"secret", "b.txt")
    internal["url"] = "file:///etc/passwd"
    adapter = make_adapter()
    async with running(adapter) as inbox:
        await fake.post(dm, alice, "look", attachments=[elsewhere, internal])
        (message,) = await inbox.wait()
        assert isinstance(message, InboundMessage)
        assert not fake.calls_of("cdn")  # nothing before the host decides
        message = await adapter.fetch_attachments(message)
    assert all(a.local_path is None for a in message.attachments)
    assert not fake.calls_of("cdn")


async def test_files_are_not_fetched_while_disconnected(make_adapter: MakeAdapter) -> None:
    message = InboundMessage(
        "1:2",
        "discord",
        "3",
        Conversation("1", ConversationKind.DM),
        Sender("4"),
        "",
        0.0,
        attachments=(Attachment(AttachmentKind.FILE, "https://cdn.discordapp.com/x"),),
    )
    with pytest.raises(ChannelUnavailable, match="not connected"):
        await make_adapter().fetch_attachments(message)
