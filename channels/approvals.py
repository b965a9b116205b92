"""Approval buttons' ids, the same on every platform: ``apr:<request id>:<approve|deny>``.

The id goes out with the button (Telegram ``callback_data``, Slack
``action_id``, Discord ``custom_id``) and comes back verbatim when the button
is pressed, so a press is routed from the id alone — never from state kept in
memory — and buttons keep working after the gateway restarts.  Each platform
caps the id's length; a request id too long for it gets no buttons, and the
message asks for ``/approve`` or ``/deny`` instead (:data:`NO_BUTTONS_HINT`).
"""

from __future__ import annotations

from channels.base import ApprovalButtons
from gateway.events import ApprovalDecision

__all__ = ["NO_BUTTONS_HINT", "button_ids", "decode_button", "encode_button"]

NO_BUTTONS_HINT = "Reply /approve or /deny."
_PREFIX = "apr"


def encode_button(request_id: str, decision: ApprovalDecision, *, max_bytes: int) -> str | None:
    """The button's id, or None when it would be longer than ``max_bytes``.

    Measured in UTF-8 bytes, Telegram's unit; the platforms that count
    characters (Slack, Discord) get ids that fit all the more.
    """
    data = f"{_PREFIX}:{request_id}:{decision.value}"
    return data if request_id and len(data.encode("utf-8")) <= max_bytes else None


def decode_button(data: str) -> tuple[str, ApprovalDecision] | None:
    """``(request id, decision)``, or None for an id that is not one of our buttons'."""
    prefix, _, rest = data.partition(":")
    request_id, _, decision = rest.rpartition(":")
    if prefix != _PREFIX or not request_id:
        return None
    try:
        return request_id, ApprovalDecision(decision)
    except ValueError:
        return None


def button_ids(buttons: ApprovalButtons, *, max_bytes: int) -> tuple[str, str] | None:
    """The approve and the deny button's ids; None when the request id does not fit."""
    approve = encode_button(buttons.request_id, ApprovalDecision.APPROVE, max_bytes=max_bytes)
    deny = encode_button(buttons.request_id, ApprovalDecision.DENY, max_bytes=max_bytes)
    return (approve, deny) if approve is not None and deny is not None else None
