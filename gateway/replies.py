"""How the brain's reply events become the protocol's session events, and back.

``reply_to_event`` is what the router stores and sends (a run's last event
carries its ``exit_status``, see ``gateway.events.exit_status_of``); ``event_to_reply``
turns a stored event back into the typed value for consumers that are not
protocol clients (the chat channels), and ``event_to_resolution`` does the
same for the router's ``approval.resolved``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, assert_never

from gateway.events import (
    ApprovalDecision,
    ApprovalRequested,
    FileReply,
    FinalReply,
    ReplyEvent,
    RunStatus,
    TextDelta,
    ToolActivity,
    ToolPhase,
    TurnFailed,
    Typing,
    exit_status_of,
)

__all__ = ["ApprovalResolved", "event_to_reply", "event_to_resolution", "reply_to_event"]


@dataclass(frozen=True, slots=True)
class ApprovalResolved:
    """A stored ``approval.resolved``: request ``request_id`` of run ``run_id`` was decided."""

    run_id: str
    request_id: str
    decision: ApprovalDecision


def reply_to_event(session: str, reply: ReplyEvent) -> tuple[str, dict[str, Any]]:
    """The protocol event name and payload for ``reply`` in ``session``."""
    base: dict[str, Any] = {"session": session, "run_id": reply.run_id}
    match reply:
        case TextDelta(text=text):
            return "chat.delta", base | {"text": text}
        case ToolActivity(tool=tool, phase=phase, detail=detail):
            extra = {"detail": detail} if detail is not None else {}
            return "chat.tool", base | {"tool": tool, "phase": str(phase)} | extra
        case Typing():
            return "chat.typing", base
        case ApprovalRequested(request_id=request_id, tool=tool, summary=summary):
            return "approval.requested", base | {
                "request_id": request_id,
                "tool": tool,
                "summary": summary,
            }
        case FileReply():
            return "chat.file", base | _file_payload(reply)
        case FinalReply(text=text, status=status):
            return "chat.final", base | {
                "text": text,
                "status": str(status),
                "exit_status": exit_status_of(reply).value,
            }
        case TurnFailed(code=code, message=message, retryable=retryable):
            return "chat.error", base | {
                "code": code,
                "message": message,
                "retryable": retryable,
                "exit_status": exit_status_of(reply).value,
            }
        case _:
            assert_never(reply)


def event_to_reply(name: str, payload: Mapping[str, Any]) -> ReplyEvent | None:
    """The reply event a stored session event stands for; None for the others
    (user messages, approval decisions)."""
    decode = _DECODERS.get(name)
    return decode(payload) if decode is not None else None


def event_to_resolution(name: str, payload: Mapping[str, Any]) -> ApprovalResolved | None:
    """The decision a stored ``approval.resolved`` event records; None for other events."""
    if name != "approval.resolved":
        return None
    decision = ApprovalDecision(payload["decision"])
    return ApprovalResolved(payload["run_id"], payload["request_id"], decision)


def _file_payload(reply: FileReply) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "file_id": reply.file_id,
        "name": reply.name,
        "media_type": reply.media_type,
        "size": reply.size,
    }
    return payload | ({"caption": reply.caption} if reply.caption is not None else {})


def _file(payload: Mapping[str, Any]) -> FileReply:
    return FileReply(
        payload["run_id"],
        payload["file_id"],
        payload["name"],
        payload["media_type"],
        int(payload["size"]),
        payload.get("caption"),
    )


def _tool(payload: Mapping[str, Any]) -> ToolActivity:
    phase = ToolPhase(payload["phase"])
    return ToolActivity(payload["run_id"], payload["tool"], phase, payload.get("detail"))


def _final(payload: Mapping[str, Any]) -> FinalReply:
    return FinalReply(payload["run_id"], payload["text"], RunStatus(payload["status"]))


def _failed(payload: Mapping[str, Any]) -> TurnFailed:
    return TurnFailed(
        payload["run_id"], payload["code"], payload["message"], bool(payload.get("retryable"))
    )


_DECODERS: Mapping[str, Callable[[Mapping[str, Any]], ReplyEvent]] = {
    "chat.delta": lambda p: TextDelta(p["run_id"], p["text"]),
    "chat.tool": _tool,
    "chat.typing": lambda p: Typing(p["run_id"]),
    "approval.requested": lambda p: ApprovalRequested(
        p["run_id"], p["request_id"], p["tool"], p["summary"]
    ),
    "chat.file": _file,
    "chat.final": _final,
    "chat.error": _failed,
}
