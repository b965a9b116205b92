"""Attachments reach the model: copied into the workspace and described in the text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from brain import Brain, BrainSettings
from brain.tools import workspace_dir
from gateway.events import Attachment, AttachmentKind, ReplyEvent, TurnRequest
from tests.brain.conftest import final_text, turn


def with_files(request: TurnRequest, *attachments: Attachment) -> TurnRequest:
    message = dataclasses.replace(request.messages[0], attachments=attachments)
    return dataclasses.replace(request, messages=(message,))


async def collect(brain: Brain, request: TurnRequest) -> list[ReplyEvent]:
    return [event async for event in brain.run_turn(request)]


async def test_a_downloaded_file_is_placed_in_the_workspace_and_mentioned(tmp_path: Path) -> None:
    download = tmp_path / "channel" / "x7f3.jpg"
    download.parent.mkdir()
    download.write_bytes(b"\xff\xd8 picture")
    photo = Attachment(
        AttachmentKind.IMAGE,
        "file-1",
        name="../../etc/passwd",
        mime_type="image/jpeg",
        size=2048,
        local_path=str(download),
    )
    missing = Attachment(AttachmentKind.VOICE, "file-2", name="note.ogg")
    request = with_files(turn("what is in this picture?"), photo, missing)
    brain = await Brain.open(BrainSettings(model="scripted:echo", data_dir=tmp_path / "home"))
    try:
        reply = final_text(await collect(brain, request))  # the echo model repeats what it got
    finally:
        await brain.aclose()
    workspace = workspace_dir(tmp_path / "home", request.session)
    assert (workspace / "attachments" / "1-1.jpg").read_bytes() == b"\xff\xd8 picture"
    assert 'image "../../etc/passwd" (image/jpeg, 2 KB)' in reply
    assert "attachments/1-1.jpg" in reply
    assert 'voice "note.ogg"; it could not be downloaded' in reply
    assert sorted(p.name for p in (workspace / "attachments").iterdir()) == ["1-1.jpg"]
