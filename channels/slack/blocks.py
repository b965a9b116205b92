"""Approval buttons as Block Kit.  Pure.

The buttons carry the shared ids of ``channels.approvals`` as their
``action_id``, which comes back verbatim in the ``block_actions`` payload when
a button is pressed.  Block Kit limits (Slack: "Block Kit reference"):
``action_id`` ≤ 255 characters, a section's text ≤ 3000, a button's label ≤ 75.
"""

from __future__ import annotations

from typing import Any

from channels.approvals import button_ids
from channels.base import ApprovalButtons

__all__ = ["ACTIONS_BLOCK_ID", "MAX_ACTION_ID", "approval_blocks"]

ACTIONS_BLOCK_ID = "skillyard_approval"
MAX_ACTION_ID = 255
MAX_SECTION_TEXT = 3000
MAX_BUTTON_LABEL = 75


def approval_blocks(text: str, buttons: ApprovalButtons) -> list[dict[str, Any]] | None:
    """A section with ``text`` (mrkdwn) above an approve and a deny button; None
    when the request id is too long for an ``action_id`` (the text then asks for
    ``/approve`` or ``/deny``)."""
    ids = button_ids(buttons, max_bytes=MAX_ACTION_ID)
    if ids is None:
        return None
    approve, deny = ids
    shown = text if len(text) <= MAX_SECTION_TEXT else text[: MAX_SECTION_TEXT - 1] + "…"
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": shown}},
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK_ID,
            "elements": [
                _button(buttons.approve_label, approve, buttons.request_id, "primary"),
                _button(buttons.deny_label, deny, buttons.request_id, "danger"),
            ],
        },
    ]


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:MAX_BUTTON_LABEL]},
        "action_id": action_id,
        "value": value[:2000],  # Block Kit: a button's value is at most 2000 characters
        "style": style,
    }
