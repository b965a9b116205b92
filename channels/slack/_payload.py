"""Checked reads from a Slack payload (``channels.payload``).

Slack sends ``""`` and ``null`` alike for "none" (``thread_ts``, ``subtype``),
so a blank string counts as absent and a required string must not be blank.
"""

from __future__ import annotations

from channels import payload
from channels.slack.errors import MalformedEvent

__all__ = ["Obj"]


class Obj(payload.Obj):
    """One JSON object of a payload, at ``path`` (``body.event.files[0]``)."""

    __slots__ = ()
    error = MalformedEvent
    blank_is_absent = True
