"""The brain's configuration: one frozen value object, built once at the edge.

The composition root (the gateway's start-up) reads ``skillyard.yaml`` and the
environment and builds a :class:`BrainSettings`; nothing inside the brain reads
environment variables.  Secrets (``openai_api_key``, ``skill_env``,
``model_env``) are kept out of ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from brain.errors import ConfigError
from brain.guard.settings import GuardSettings

if TYPE_CHECKING:
    from brain.models.base import Sampling

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "BrainSettings",
    "ContextSettings",
    "DiscoverySettings",
    "ToolSettings",
]

_GUARD = GuardSettings()
DEFAULT_SYSTEM_PROMPT = "You are skillyard, a helpful assistant. Answer briefly and plainly."
# ``host``, ``host:port``, ``*.domain`` (subdomains only) or ``[v6]:port``.
_ALLOW_ENTRY = re.compile(r"(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSettings:
    """Limits of the built-in tools (``brain.tools``).

    ``http_allowlist`` is every host ``http_request`` may reach: ``host``
    (any port), ``host:port``, or ``*.example.org`` (its subdomains, not
    itself); empty means no HTTP at all.  ``python_require_isolation`` false
    lets ``run_python`` run without bubblewrap (then the code can read what
    the server's user can read and reach the network): for tests and hosts
    that confine the server themselves.
    """

    output_cap_chars: int = 6_000
    http_allowlist: tuple[str, ...] = ()
    http_timeout_s: float = 10.0
    http_max_response_bytes: int = 1 << 20
    python_timeout_s: float = 30.0
    python_memory_bytes: int = 512 * 1024 * 1024
    python_require_isolation: bool = True
    sql_timeout_s: float = 10.0
    sql_max_rows: int = 200
    send_file_max_bytes: int = 50 * 1024 * 1024  # Telegram's limit for bots' documents

    def __post_init__(self) -> None:
        if self.output_cap_chars < 200:
            raise ConfigError("tools.output_cap_chars", "must be at least 200")
        for entry in self.http_allowlist:
            if not _ALLOW_ENTRY.fullmatch(entry):
                message = f"{entry!r} is not host, host:port or *.domain (lowercase)"
                raise ConfigError("tools.http_allowlist", message)
        for name in ("http_timeout_s", "python_timeout_s", "sql_timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"tools.{name}", "must be positive")
        sizes = ("http_max_response_bytes", "python_memory_bytes", "sql_max_rows")
        for name in (*sizes, "send_file_max_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"tools.{name}", "must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextSettings:
    """Context building, compaction and memory limits (``brain.context``, ``brain.memory``).

    ``compact_at`` is the share of the model's context window at which old
    turns are summarised (``reserve_tokens`` are kept free for the reply, at
    most a quarter of the window); ``summariser`` is
    ``extractive`` (no model call) or ``model`` (the conversation's provider,
    falling back to extractive).  ``*_chars`` are the pinned blocks' limits.
    """

    compact_at: float = 0.75
    keep_fraction: float = 0.5
    reserve_tokens: int = 1_024
    summary_tokens: int = 2_000
    summariser: str = "extractive"
    knowledge_top_k: int = 5
    catalog_entries: int = 20
    catalog_tokens: int = 2_000
    persona_chars: int = 2_000
    user_chars: int = 2_000
    task_chars: int = 5_000

    def __post_init__(self) -> None:
        if not 0.1 <= self.compact_at <= 1.0:
            raise ConfigError("context.compact_at", "must be between 0.1 and 1.0")
        if not 0.0 < self.keep_fraction < 1.0:
            raise ConfigError("context.keep_fraction", "must be between 0 and 1 (exclusive)")
        if self.summariser not in ("extractive", "model"):
            raise ConfigError("context.summariser", "must be 'extractive' or 'model'")
        for name in ("reserve_tokens", "summary_tokens", "catalog_tokens", "persona_chars",
                     "user_chars", "task_chars"):  # fmt: skip
            if getattr(self, name) < 100:
                raise ConfigError(f"context.{name}", "must be at least 100")
        for name in ("knowledge_top_k", "catalog_entries"):
            if getattr(self, name) < 0:
                raise ConfigError(f"context.{name}", "must not be negative")

    @property
    def block_limits(self) -> Mapping[str, int]:
        return {"persona": self.persona_chars, "user": self.user_chars, "task": self.task_chars}


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoverySettings:
    """Skill discovery (``brain.discovery``).

    A tool-choosing model is offered the tools of the ``tool_skills`` best
    skills for the message.  A model that cannot choose gets the best skill's
    tool forced only when the skill matches: BM25F score at least
    ``min_score`` (one distinctive shared word), or cosine at least
    ``min_similarity`` with embeddings.  ``embeddings`` fuses static word
    vectors distilled from all-MiniLM-L6-v2 into the ranking (the
    ``embeddings`` extra; the first use distils them, about two minutes on
    two cores, and caches them under the data dir).
    """

    tool_skills: int = 8
    min_score: float = 0.5
    # The static vectors put small talk at 0.15-0.22 from every skill and an
    # unmistakable request without shared words at 0.32-0.34 (a small probe,
    # not a tuned figure: an abstain set such as BFCL's would fix it).
    min_similarity: float = 0.28
    embeddings: bool = False

    def __post_init__(self) -> None:
        if self.tool_skills < 1:
            raise ConfigError("discovery.tool_skills", "must be at least 1")
        if self.min_score < 0:
            raise ConfigError("discovery.min_score", "must not be negative")
        if not -1 <= self.min_similarity <= 1:
            raise ConfigError("discovery.min_similarity", "must be between -1 and 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrainSettings:
    """How to build a ``Brain``.

    ``model`` is a provider spec (``brain.models.presets``): ``local`` (the
    embedded SmolLM2), ``scripted:echo``, ``scripted:PATH``, ``openai:MODEL``,
    ``anthropic:MODEL``, ``minimax[:MODEL]``, ``minimax-anthropic[:MODEL]`` or
    ``ollama:MODEL``; ``model_fallback`` lists specs tried, in order, when it
    cannot answer a call.  ``model_env`` holds the provider variables (API keys,
    base URLs: ``brain.models.presets.PROVIDER_ENV_VARS``) as read at the edge.
    ``openai_base_url``, ``openai_api_key`` and ``openai_context_window``
    (historical names) override the *primary* provider's URL, key and window,
    whatever its wire format; ``openai_max_retries`` and ``openai_timeout_s``
    apply to every HTTP provider; ``model_sampling`` overrides the primary's
    preset sampling (values outside its ranges are clamped, and logged).
    ``approval_required_tools`` holds exposed tool names (``<skill>__<tool>``)
    that must be approved by a person before each run.  ``history_limit`` is
    how many recent messages stay verbatim; older turns are compacted into a
    summary (``context``), not dropped.
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
    openai_context_window: int | None = None
    model_fallback: tuple[str, ...] = ()
    model_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    model_sampling: Sampling | None = None
    tools: ToolSettings = ToolSettings()
    context: ContextSettings = ContextSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    guard: GuardSettings = _GUARD  # permissions, budgets, loop detector, format re-asks

    def __post_init__(self) -> None:
        for name in ("max_steps", "history_limit", "max_input_chars", "local_max_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be at least 1")
        if self.openai_max_retries < 0:
            raise ConfigError("openai_max_retries", "must not be negative")
        if self.openai_timeout_s <= 0:
            raise ConfigError("openai_timeout_s", "must be positive")
        if self.openai_context_window is not None and self.openai_context_window < 1:
            raise ConfigError("openai_context_window", "must be at least 1")
