"""Build the configured provider chain from ``BrainSettings``.

``settings.model`` is the primary; ``settings.model_fallback`` the specs tried
after it.  Every HTTP provider is wrapped in ``RetryingProvider``; two or more
links make a ``FallbackProvider``.  Provider modules are imported only when
chosen, so ``scripted`` never pays for importing an SDK and ``local`` never
needs one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from brain.errors import ConfigError
from brain.models.base import ModelProvider, Sampling
from brain.models.presets import (
    ModelSpec,
    Overrides,
    ProviderConfig,
    Wire,
    parse_model_spec,
    resolve,
)
from brain.models.retry import RetryingProvider, RetryPolicy

if TYPE_CHECKING:
    from brain.settings import BrainSettings

__all__ = ["ModelSpec", "chain_specs", "open_provider", "parse_model_spec", "resolve_http"]


def chain_specs(settings: BrainSettings) -> list[tuple[str, str]]:
    """``(setting, spec)`` for every link, primary first; the setting names it in errors."""
    links = [("model", settings.model)]
    links += [(f"model.fallback[{i}]", s) for i, s in enumerate(settings.model_fallback)]
    return links


def resolve_http(settings: BrainSettings, index: int, spec: str, setting: str) -> ProviderConfig:
    """The config of link ``index``: the primary takes the settings' overrides."""
    overrides = Overrides(timeout_s=settings.openai_timeout_s)
    if index == 0:
        overrides = Overrides(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            context_window=settings.openai_context_window,
            sampling=settings.model_sampling or Sampling(),
            timeout_s=settings.openai_timeout_s,
        )
    return resolve(spec, settings.model_env, overrides, setting=setting)


def open_provider(settings: BrainSettings) -> ModelProvider:
    """The provider chain for ``settings``; raises a ``ConfigError`` naming the setting."""
    links = [
        _open_link(settings, index, spec, setting)
        for index, (setting, spec) in enumerate(chain_specs(settings))
    ]
    if len(links) == 1:
        return links[0]
    from brain.models.fallback import FallbackProvider

    return FallbackProvider(links)


def _open_link(settings: BrainSettings, index: int, spec: str, setting: str) -> ModelProvider:
    parsed = parse_model_spec(spec, setting=setting)
    if parsed.kind == "scripted":
        return _scripted(parsed.argument)
    if parsed.kind == "local":
        return _local(settings)
    config = resolve_http(settings, index, spec, setting)
    if config.needs_key and not config.api_key:
        raise ConfigError(setting, f"{spec} needs an API key: set {config.key_env}")
    policy = RetryPolicy(max_retries=settings.openai_max_retries)
    return RetryingProvider(_http(config), policy)


def _http(config: ProviderConfig) -> ModelProvider:
    if config.wire is Wire.ANTHROPIC:
        from brain.models.anthropic_compat import AnthropicProvider

        return AnthropicProvider(config)
    from brain.models.openai_compat import OpenAIProvider

    return OpenAIProvider(config)


def _scripted(argument: str) -> ModelProvider:
    from brain.models.scripted import ScriptedProvider, load_script

    if argument == "echo":
        return ScriptedProvider()
    return ScriptedProvider(load_script(Path(argument).expanduser()))


def _local(settings: BrainSettings) -> ModelProvider:
    from brain.models.local import LocalProvider, check_local_model, default_model_path

    path = check_local_model(settings.local_model_path or default_model_path())
    return LocalProvider(path, max_tokens=settings.local_max_tokens)
