"""Build the configured provider from ``BrainSettings.model``.

Provider modules are imported only when chosen, so ``scripted`` never pays
for importing the ``openai`` SDK and ``local`` never needs it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from brain.errors import BadModelSpecError
from brain.models.base import ModelProvider
from brain.settings import BrainSettings

__all__ = ["ModelSpec", "open_provider", "parse_model_spec"]

_HELP = "expected 'local', 'scripted:echo', 'scripted:PATH' or 'openai:MODEL'"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: Literal["local", "scripted", "openai"]
    argument: str = ""


def parse_model_spec(spec: str) -> ModelSpec:
    kind, _, argument = spec.strip().partition(":")
    if kind == "local" and not argument:
        return ModelSpec("local")
    if kind == "scripted" and argument:
        return ModelSpec("scripted", argument)
    if kind == "openai" and argument.strip():
        return ModelSpec("openai", argument.strip())
    raise BadModelSpecError("model", f"{_HELP}, got {spec!r}")


def open_provider(settings: BrainSettings) -> ModelProvider:
    """The provider for ``settings.model``; raises a ``ConfigError`` naming the setting."""
    spec = parse_model_spec(settings.model)
    if spec.kind == "scripted":
        return _scripted(spec.argument)
    if spec.kind == "openai":
        return _openai(spec.argument, settings)
    return _local(settings)


def _scripted(argument: str) -> ModelProvider:
    from brain.models.scripted import ScriptedProvider, load_script

    if argument == "echo":
        return ScriptedProvider()
    return ScriptedProvider(load_script(Path(argument).expanduser()))


def _openai(model: str, settings: BrainSettings) -> ModelProvider:
    from brain.models.openai_compat import OpenAIProvider

    return OpenAIProvider(
        model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        max_retries=settings.openai_max_retries,
        timeout_s=settings.openai_timeout_s,
        context_window=settings.openai_context_window,
    )


def _local(settings: BrainSettings) -> ModelProvider:
    from brain.models.local import LocalProvider, check_local_model, default_model_path

    path = check_local_model(settings.local_model_path or default_model_path())
    return LocalProvider(path, max_tokens=settings.local_max_tokens)
