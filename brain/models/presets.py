"""Provider presets and model specs: ``minimax``, ``anthropic:MODEL``, ``ollama:MODEL``…

A spec names a preset and, where the preset needs one, a model::

    local                       the embedded SmolLM2 (llama.cpp)
    scripted:echo | scripted:PATH
    openai:MODEL                any OpenAI-compatible endpoint (OPENAI_API_KEY, OPENAI_BASE_URL)
    anthropic:MODEL             any Anthropic-compatible endpoint (ANTHROPIC_API_KEY,
                                ANTHROPIC_BASE_URL)
    minimax[:MODEL]             MiniMax over its OpenAI-compatible endpoint (MINIMAX_API_KEY)
    minimax-anthropic[:MODEL]   MiniMax over its Anthropic-compatible endpoint
    ollama:MODEL                Ollama's /v1 on this machine, no key

:func:`resolve` turns a spec plus the provider variables (a snapshot taken
at the edge, never ``os.environ``) into a frozen :class:`ProviderConfig`.
Each preset's capability record is the one place its quirks are written
down; the facts come from the providers' own documents (MiniMax: the M2.7
README and the Anthropic-compatibility page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from brain.errors import BadModelSpecError
from brain.models.base import Sampling
from brain.models.capabilities import (
    Capabilities,
    Range,
    ReasoningChannel,
    SystemRule,
    ToolChoiceForm,
)

__all__ = [
    "PRESETS",
    "PROVIDER_ENV_VARS",
    "ModelSpec",
    "Overrides",
    "Preset",
    "ProviderConfig",
    "Wire",
    "parse_model_spec",
    "resolve",
]

Kind = Literal["local", "scripted", "openai", "anthropic", "minimax", "minimax-anthropic", "ollama"]

_HELP = (
    "expected local, scripted:echo, scripted:PATH, openai:MODEL, anthropic:MODEL, "
    "minimax[:MODEL], minimax-anthropic[:MODEL] or ollama:MODEL"
)


class Wire(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    LOCAL = "local"
    SCRIPTED = "scripted"


_AUTO_NONE = frozenset({ToolChoiceForm.AUTO, ToolChoiceForm.NONE})
_ONE_SYSTEM_FIRST = SystemRule(max_count=1, first_only=True)
_UNIT = Range(0.0, 1.0)
_UNIT_OPEN = Range(0.0, 1.0, low_exclusive=True)  # MiniMax: (0.0, 1.0]
_TOP_K = Range(1, 1000)
_PENALTY = Range(-2.0, 2.0)
# MiniMax M2.7/M2.5 READMEs: temperature=1.0, top_p=0.95, top_k=40.
_MINIMAX_SAMPLING = Sampling(temperature=1.0, top_p=0.95, top_k=40)
_MINIMAX_CONTEXT = 204_800
_NO_SAMPLING = Sampling()


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """Defaults for one kind of endpoint.  ``key_env`` None: no key needed."""

    kind: Kind
    wire: Wire
    capabilities: Capabilities
    default_model: str | None = None
    base_url: str = ""
    base_url_env: str | None = None
    key_env: str | None = None
    sampling: Sampling = _NO_SAMPLING
    default_max_tokens: int | None = None
    extra_body: Mapping[str, object] = field(default_factory=dict)
    think_tags: bool = False
    stream_usage: bool = False


PRESETS: Mapping[Kind, Preset] = {
    "openai": Preset(
        kind="openai",
        wire=Wire.OPENAI,
        base_url="https://api.openai.com/v1",
        base_url_env="OPENAI_BASE_URL",
        key_env="OPENAI_API_KEY",
        stream_usage=True,
        capabilities=Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=128_000,
            penalties=_PENALTY,
            json_mode=True,
        ),
    ),
    "anthropic": Preset(
        kind="anthropic",
        wire=Wire.ANTHROPIC,
        base_url="https://api.anthropic.com",
        base_url_env="ANTHROPIC_BASE_URL",
        key_env="ANTHROPIC_API_KEY",
        default_max_tokens=4096,  # Anthropic requires max_tokens on every call
        capabilities=Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=200_000,
            temperature=_UNIT,
            top_k=_TOP_K,
            system=_ONE_SYSTEM_FIRST,  # one top-level ``system`` parameter
            reasoning=ReasoningChannel.THINKING_BLOCKS,
        ),
    ),
    "minimax": Preset(
        kind="minimax",
        wire=Wire.OPENAI,
        default_model="MiniMax-M2.7",
        base_url="https://api.minimax.io/v1",
        key_env="MINIMAX_API_KEY",
        sampling=_MINIMAX_SAMPLING,
        # Reasoning in ``reasoning_details`` rather than <think> in content; the
        # think filter still runs in case a compatible server ignores the flag.
        extra_body={"reasoning_split": True},
        think_tags=True,
        capabilities=Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=_MINIMAX_CONTEXT,
            temperature=_UNIT_OPEN,
            top_p=_UNIT_OPEN,
            top_k=_TOP_K,  # not an OpenAI field: sent in the body's extras
            tool_choice=_AUTO_NONE,
            system=_ONE_SYSTEM_FIRST,
            reasoning=ReasoningChannel.REASONING_DETAILS,
        ),
    ),
    "minimax-anthropic": Preset(
        kind="minimax-anthropic",
        wire=Wire.ANTHROPIC,
        default_model="MiniMax-M2.7",
        base_url="https://api.minimax.io/anthropic",
        key_env="MINIMAX_API_KEY",
        sampling=_MINIMAX_SAMPLING,  # top_k is dropped below: this endpoint ignores it
        default_max_tokens=4096,
        capabilities=Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=_MINIMAX_CONTEXT,
            temperature=_UNIT_OPEN,
            top_p=_UNIT_OPEN,
            top_k=None,
            tool_choice=_AUTO_NONE,
            system=_ONE_SYSTEM_FIRST,
            reasoning=ReasoningChannel.THINKING_BLOCKS,
        ),
    ),
    "ollama": Preset(
        kind="ollama",
        wire=Wire.OPENAI,
        base_url="http://127.0.0.1:11434/v1",
        think_tags=True,  # R1-style models write <think> into content
        capabilities=Capabilities(
            chooses_tools=True,
            streams=True,
            context_window=4096,  # Ollama's default num_ctx; set model.context_window
            penalties=_PENALTY,
            tool_choice=_AUTO_NONE,
            json_mode=True,
            reasoning=ReasoningChannel.THINK_TAGS,
        ),
    ),
}

# Every variable a preset may read; the edge passes exactly these (if set).
PROVIDER_ENV_VARS = frozenset(
    name
    for preset in PRESETS.values()
    for name in (preset.key_env, preset.base_url_env)
    if name is not None
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: Kind
    argument: str = ""


def parse_model_spec(spec: str, *, setting: str = "model") -> ModelSpec:
    """Raises ``BadModelSpecError`` naming ``setting`` when ``spec`` is not one of the forms."""
    kind, _, argument = spec.strip().partition(":")
    argument = argument.strip()
    if kind == "local" and not argument:
        return ModelSpec("local")
    if kind in ("minimax", "minimax-anthropic"):
        return ModelSpec(kind, argument)  # type: ignore[arg-type]
    if kind in ("scripted", "openai", "anthropic", "ollama") and argument:
        return ModelSpec(kind, argument)  # type: ignore[arg-type]
    raise BadModelSpecError(setting, f"{_HELP}, got {spec!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConfig:
    """One resolved provider: what to call, where, with which key and limits."""

    name: str
    preset: Preset
    model: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    key_env: str | None = None
    capabilities: Capabilities
    sampling: Sampling = _NO_SAMPLING
    timeout_s: float = 120.0

    @property
    def wire(self) -> Wire:
        return self.preset.wire

    @property
    def needs_key(self) -> bool:
        """A key is required for the preset's own endpoint; a custom URL may not need one."""
        return self.preset.key_env is not None and self.base_url == self.preset.base_url


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Settings that apply to one link of the chain (the primary's from the config)."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    context_window: int | None = None
    sampling: Sampling = _NO_SAMPLING
    timeout_s: float = 120.0


def resolve(
    spec: str,
    env: Mapping[str, str],
    overrides: Overrides | None = None,
    *,
    setting: str = "model",
) -> ProviderConfig:
    """The config for an HTTP preset (``openai``, ``anthropic``, ``minimax*``, ``ollama``).

    ``local`` and ``scripted`` have no preset: callers check ``parse_model_spec`` first.
    """
    overrides = overrides or Overrides()
    parsed = parse_model_spec(spec, setting=setting)
    preset = PRESETS.get(parsed.kind)
    if preset is None:
        raise BadModelSpecError(setting, f"{spec!r} is not an HTTP provider")
    model = parsed.argument or preset.default_model or ""
    base_url = overrides.base_url or _env(env, preset.base_url_env) or preset.base_url
    capabilities = preset.capabilities
    if overrides.context_window is not None:
        capabilities = replace(capabilities, context_window=overrides.context_window)
    return ProviderConfig(
        name=f"{parsed.kind}:{model}",
        preset=preset,
        model=model,
        base_url=base_url,
        api_key=overrides.api_key or _env(env, preset.key_env),
        key_env=preset.key_env,
        capabilities=capabilities,
        sampling=overrides.sampling.over(preset.sampling),
        timeout_s=overrides.timeout_s,
    )


def _env(env: Mapping[str, str], name: str | None) -> str | None:
    return (env.get(name) or None) if name is not None else None
