"""The brain: turns a ``TurnRequest`` into a stream of reply events.

Public API (the gateway's composition root uses exactly this)::

    brain = await Brain.open(BrainSettings(model="scripted:echo", data_dir=...))
    async for event in brain.run_turn(request): ...
    await brain.resolve_approval(request_id, decision, decided_by=user)
    brain.list_skills(); brain.sandbox_mode
    await brain.aclose()

``brain`` never imports ``channels`` or the gateway server; it shares only
``gateway.events`` (the contract) and ``registry`` (skill parsing).
"""

from __future__ import annotations

from brain.brain import Brain
from brain.errors import (
    BadModelSpecError,
    BadScriptError,
    BrainError,
    ConfigError,
    FailureCode,
    LocalModelMissingError,
    ModelError,
)
from brain.settings import BrainSettings

__all__ = [
    "BadModelSpecError",
    "BadScriptError",
    "Brain",
    "BrainError",
    "BrainSettings",
    "ConfigError",
    "FailureCode",
    "LocalModelMissingError",
    "ModelError",
]
