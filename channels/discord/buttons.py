"""Approval buttons as a ``discord.ui.View``.

Each button's ``custom_id`` is the shared id of ``channels.approvals``
(Discord: ``custom_id`` is 1-100 characters and comes back verbatim in the
``INTERACTION_CREATE`` of the press).  Presses are routed from that id alone,
never from an object kept in memory, so the buttons keep working after a
restart of the gateway — the property discord.py calls a persistent view.
"""

from __future__ import annotations

import discord

from channels.approvals import button_ids
from channels.base import ApprovalButtons

__all__ = ["MAX_CUSTOM_ID", "ApprovalView", "approval_view"]

MAX_CUSTOM_ID = 100
MAX_LABEL = 80  # Discord: a button label is at most 80 characters


class ApprovalView(discord.ui.View):
    """Approve / deny buttons; build it inside the event loop, with :func:`approval_view`.

    It is never stored in discord.py's view store (``is_dispatchable`` is
    false): the adapter answers every press from its ``custom_id``, so the
    store would only grow by one view per approval, forever.
    """

    def __init__(self, buttons: ApprovalButtons, approve_id: str, deny_id: str) -> None:
        super().__init__(timeout=None)
        for label, custom_id, style in (
            (buttons.approve_label, approve_id, discord.ButtonStyle.success),
            (buttons.deny_label, deny_id, discord.ButtonStyle.danger),
        ):
            self.add_item(
                discord.ui.Button(label=label[:MAX_LABEL], custom_id=custom_id, style=style)
            )

    def is_dispatchable(self) -> bool:
        return False


def approval_view(buttons: ApprovalButtons) -> ApprovalView | None:
    """The buttons, or None when the request id is too long for a ``custom_id``
    (the message then asks for ``/approve`` or ``/deny``)."""
    ids = button_ids(buttons, max_bytes=MAX_CUSTOM_ID)
    return ApprovalView(buttons, *ids) if ids is not None else None
