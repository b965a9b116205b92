"""Files that come with messages: fetched with getFile into safe paths, within the size cap,
and only when the host asks (after its access decision)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from channels.telegram import TelegramAdapter
from gateway.events import AttachmentKind, InboundMessage
from tests.channels.telegram.conftest import running
from tests.fakes.telegram_api import FakeTelegram

MakeAdapter = Callable[..., TelegramAdapter]
JPEG = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 100


def contents(path: Path) -> bytes:
    return path.read_bytes()


def permissions(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def receive(adapter: TelegramAdapter, fake: FakeTelegram, **fields: object) -> InboundMessage:
    """The message as the host gets it, then with its files fetched as the host asks."""
    alice = fake.user(42, "Alice")
    fake.deliver(fake.update(message=fake.message(fake.private_chat(alice), alice, **fields)))
    async with running(adapter) as inbox:
        (message,) = await inbox.wait()
        assert isinstance(message, InboundMessage)
        assert all(a.local_path is None for a in message.attachments)
        assert not fake.calls_of("getFile")  # nothing is fetched before the host decides
        return await adapter.fetch_attachments(message)


async def test_a_photo_is_downloaded_at_its_largest_size(
    fake: FakeTelegram, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    message = await receive(make_adapter(), fake, photo=fake.photo(JPEG), caption="look")
    (photo,) = message.attachments
    assert photo.kind is AttachmentKind.IMAGE and photo.local_path is not None
    path = Path(photo.local_path)
    assert contents(path) == JPEG
    assert path.parent == tmp_path / "telegram" / "attachments" / "42"
    assert path.suffix == ".jpg" and path.name.startswith(f"{message.id.split(':')[1]}-1-")
    assert permissions(path) == 0o600
    assert message.text == "look"


@pytest.mark.parametrize(
    "field", ["document", "voice", "audio", "video"], ids=lambda field: str(field)
)
async def test_files_voice_audio_and_video_are_downloaded(
    fake: FakeTelegram, make_adapter: MakeAdapter, field: str
) -> None:
    mime = {"document": "application/pdf", "voice": "audio/ogg"}.get(field, "video/mp4")
    info = fake.add_file(b"content of " + field.encode(), mime_type=mime)
    if field != "document":
        info["duration"] = 3  # the Bot API always sends it for media
    message = await receive(make_adapter(), fake, **{field: info})
    (attachment,) = message.attachments
    assert attachment.local_path is not None
    assert contents(Path(attachment.local_path)) == b"content of " + field.encode()


async def test_a_platform_file_name_never_chooses_the_path(
    fake: FakeTelegram, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    info = fake.add_file(b"%PDF", mime_type="application/pdf", file_name="../../../../tmp/evil.sh")
    message = await receive(make_adapter(), fake, document=info)
    (document,) = message.attachments
    assert document.name == "../../../../tmp/evil.sh"
    assert document.local_path is not None
    path = Path(document.local_path)
    assert path.parent == tmp_path / "telegram" / "attachments" / "42"
    assert path.suffix == ".pdf" and "evil" not in path.name


async def test_files_over_the_cap_are_not_downloaded(
    fake: FakeTelegram, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    big = fake.add_file(b"x" * 2048, mime_type="application/zip")
    message = await receive(make_adapter(max_download_bytes=1024), fake, document=big)
    (document,) = message.attachments
    assert document.local_path is None  # the message itself still arrives
    assert not fake.calls_of("getFile")  # the declared size was enough to know
    assert "over the 1024-byte cap" in caplog.text


async def test_a_file_larger_than_declared_is_refused_after_download(
    fake: FakeTelegram, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    lying = fake.add_file(b"x" * 4096, mime_type="text/plain", declared_size=10)
    message = await receive(make_adapter(max_download_bytes=1024), fake, document=lying)
    assert message.attachments[0].local_path is None
    assert not (tmp_path / "telegram" / "attachments" / "42").exists()


async def test_a_local_file_path_from_the_api_is_never_read(
    fake: FakeTelegram, make_adapter: MakeAdapter, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    # PTB would read an existing local path (its local mode) instead of downloading
    hostile = fake.add_file(b"", mime_type="text/plain", file_path=str(secret))
    message = await receive(make_adapter(), fake, document=hostile)
    assert message.attachments[0].local_path is None
    assert not (tmp_path / "telegram" / "attachments").exists()


async def test_a_failed_download_leaves_the_message_intact(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    info = fake.add_file(b"voice", mime_type="audio/ogg") | {"duration": 1}
    fake.fail_next("getFile", 400, description="Bad Request: file is too big")
    message = await receive(make_adapter(), fake, voice=info, caption="listen")
    assert message.attachments[0].local_path is None
    assert message.text == "listen"


async def test_stickers_are_reported_not_downloaded(
    fake: FakeTelegram, make_adapter: MakeAdapter
) -> None:
    sticker = fake.add_file(b"RIFFwebp", mime_type="image/webp") | {"type": "regular"}
    message = await receive(make_adapter(), fake, sticker=sticker | {"width": 1, "height": 1})
    assert message.attachments[0].kind is AttachmentKind.STICKER
    assert not fake.calls_of("getFile")
