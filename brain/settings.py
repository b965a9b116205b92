"""The brain's configuration: one frozen value object, built once at the edge.

The composition root (the gateway's start-up) reads ``skillyard.yaml`` and the
environment and builds a :class:`BrainSettings`; nothing inside the brain reads
environment variables.  Secrets (``openai_api_key``, ``skill_env``) are kept
out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from brain.errors import ConfigError

__all__ = ["DEFAULT_SYSTEM_PROMPT", "BrainSettings"]

DEFAULT_SYSTEM_PROMPT = "You are skillyard, a helpful assistant. Answer briefly and plainly."


@dataclass(frozen=True, slots=True, kw_only=True)
class BrainSettings:
    """How to build a ``Brain``.

    ``model`` is ``local`` (the embedded SmolLM2), ``scripted:echo``,
    ``scripted:PATH`` (a YAML/JSON script) or ``openai:MODEL`` (any
    OpenAI-compatible endpoint at ``openai_base_url``).
    ``approval_required_tools`` holds exposed tool names (``<skill>__<tool>``)
    that must be approved by a person before each run.
    """

    model: str
    data_dir: Path
    openai_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    skill_dirs: tuple[Path, ...] = ()
    skill_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    sandbox_hidden_paths: tuple[Path, ...] = ()
    max_steps: int = 8
    local_model_path: Path | None = None
    local_max_tokens: int = 256
    history_limit: int = 40
    max_input_chars: int = 32_000
    approval_required_tools: frozenset[str] = frozenset()
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    openai_max_retries: int = 2
    openai_timeout_s: float = 120.0
    openai_context_window: int = 128_000

    def __post_init__(self) -> None:
        for name in ("max_steps", "history_limit", "max_input_chars", "local_max_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be at least 1")
        if self.openai_max_retries < 0:
            raise ConfigError("openai_max_retries", "must not be negative")
        if self.openai_timeout_s <= 0:
            raise ConfigError("openai_timeout_s", "must be positive")
