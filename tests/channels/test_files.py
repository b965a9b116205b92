"""The shared attachment logic: size caps, safe paths, private files, capped downloads."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from channels.errors import ChannelRequestError
from channels.files import (
    AttachmentFolder,
    SizeCap,
    download_capped,
    extension_for,
    origin_of,
    write_private,
)
from gateway.events import (
    Attachment,
    AttachmentKind,
    Conversation,
    ConversationKind,
    InboundMessage,
    Sender,
)

CAP = SizeCap(100, "testchat")
TIMEOUT = aiohttp.ClientTimeout(total=10)


def message(
    *files: Attachment, conversation: str = "C42", ident: str = "C42:1700.0001"
) -> InboundMessage:
    return InboundMessage(
        ident,
        "testchat",
        "bot",
        Conversation(conversation, ConversationKind.DM),
        Sender("u1"),
        "look",
        0.0,
        attachments=files,
    )


def permissions(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def file(ref: str = "f1", size: int | None = None, mime: str | None = "image/png") -> Attachment:
    return Attachment(AttachmentKind.IMAGE, ref, "../../etc/passwd", mime, size)


async def test_files_land_privately_under_names_we_choose(tmp_path: Path) -> None:
    async def download(item: Attachment) -> bytes:
        return b"png-bytes"

    fetched = await AttachmentFolder(tmp_path, CAP).fetch(message(file()), download)
    (item,) = fetched.attachments
    assert item.local_path is not None and item.size == len(b"png-bytes")
    path = Path(item.local_path)
    assert path.parent == tmp_path / "C42"
    assert path.name.startswith("1700-0001-1-") and path.suffix == ".png"
    assert permissions(path) == 0o600 and permissions(path.parent) == 0o700


@pytest.mark.parametrize(
    ("conversation", "ident", "folder", "stem"),
    [
        ("../..", "../..:../../x", "other", "message"),
        ("-1001234", "-1001234:77", "-1001234", "77"),  # a Telegram group
        ("C0/../x", "C0:1.2", "other", "1-2"),
    ],
)
def test_a_hostile_id_never_chooses_the_path(
    tmp_path: Path, conversation: str, ident: str, folder: str, stem: str
) -> None:
    item = file()
    path = AttachmentFolder(tmp_path, CAP).path_for(
        message(item, conversation=conversation, ident=ident), 3, item
    )
    assert path.parent == tmp_path / folder and path.name.startswith(f"{stem}-3-")


async def test_a_file_that_cannot_be_fetched_is_left_as_a_reference(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    async def download(item: Attachment) -> bytes:
        calls.append(item.ref)
        if item.ref == "broken":
            raise ChannelRequestError("the file host answered HTTP 404", channel="testchat")
        return b"x" * (200 if item.ref == "liar" else 10)

    items = (file("big", size=5000), file("broken"), file("liar", size=10), file("fine"))
    fetched = await AttachmentFolder(tmp_path, CAP).fetch(message(*items), download)
    assert [a.local_path is not None for a in fetched.attachments] == [False, False, False, True]
    assert calls == ["broken", "liar", "fine"]  # the declared size was enough for "big"
    assert "over the 100-byte cap" in caplog.text and "HTTP 404" in caplog.text
    assert fetched.text == "look"


async def test_unwanted_files_are_not_fetched(tmp_path: Path) -> None:
    async def download(item: Attachment) -> bytes:
        raise AssertionError("not wanted")

    sticker = Attachment(AttachmentKind.STICKER, "s1")
    fetched = await AttachmentFolder(tmp_path, CAP).fetch(
        message(sticker), download, wanted=lambda item: item.kind is not AttachmentKind.STICKER
    )
    assert fetched.attachments == (sticker,)


def test_a_file_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.bin"
    write_private(target, b"first")
    with pytest.raises(FileExistsError):
        write_private(target, b"second")
    assert target.read_bytes() == b"first"


@pytest.mark.parametrize(
    ("mime", "extension"),
    [
        ("image/jpeg", ".jpg"),
        ("audio/ogg; codecs=opus", ".ogg"),
        ("application/pdf", ".pdf"),
        ("text/plain", ".txt"),
        ("application/x-made-up", ".bin"),
        (None, ".bin"),
        ("", ".bin"),
    ],
)
def test_the_extension_comes_from_the_mime_type(mime: str | None, extension: str) -> None:
    assert extension_for(mime) == extension


def test_an_origin_is_scheme_host_and_port() -> None:
    assert origin_of("HTTPS://Files.Slack.com/files-pri/x?y=1") == "https://files.slack.com"
    assert origin_of("http://127.0.0.1:8123/cdn/a") == "http://127.0.0.1:8123"


@pytest.fixture
async def file_host() -> AsyncIterator[str]:
    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "moved":
            raise web.HTTPFound("http://127.0.0.1:1/elsewhere")
        if name == "big":  # no Content-Length: only the bytes tell
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(10):
                await response.write(b"y" * 64)
            return response
        return web.Response(body=b"z" * 50, content_type="image/png")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_capped_download_reads_at_most_the_cap_and_follows_no_redirect(
    file_host: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        got = await download_capped(session, f"{file_host}/ok", CAP, client_timeout=TIMEOUT)
        assert got == b"z" * 50
        with pytest.raises(ChannelRequestError, match="over the 100-byte cap"):
            await download_capped(session, f"{file_host}/big", CAP, client_timeout=TIMEOUT)
        with pytest.raises(ChannelRequestError, match="HTTP 302"):
            await download_capped(session, f"{file_host}/moved", CAP, client_timeout=TIMEOUT)

        def refuse(response: aiohttp.ClientResponse) -> None:
            raise ChannelRequestError(f"not {response.content_type}", channel="testchat")

        with pytest.raises(ChannelRequestError, match="not image/png"):
            await download_capped(
                session, f"{file_host}/ok", CAP, client_timeout=TIMEOUT, accept=refuse
            )
