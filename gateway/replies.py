"""How the brain's reply events become the protocol's session events."""

from __future__ import annotations

from typing import Any, assert_never

from gateway.events import (
    ApprovalRequested,
    FinalReply,
    ReplyEvent,
    TextDelta,
    ToolActivity,
    TurnFailed,
    Typing,
)

__all__ = ["reply_to_event"]


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
        case FinalReply(text=text, status=status):
            return "chat.final", base | {"text": text, "status": str(status)}
        case TurnFailed(code=code, message=message, retryable=retryable):
            return "chat.error", base | {"code": code, "message": message, "retryable": retryable}
        case _:
            assert_never(reply)
