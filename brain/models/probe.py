"""What ``skillyard models list`` shows: each configured provider and whether it answers.

:func:`describe_chain` is pure: the chain from the settings, with model names,
base URLs, where the key comes from (never the key) and capabilities.
:func:`probe_chain` adds reachability, probing every link at once with a
short timeout: ``GET /models`` for OpenAI-compatible endpoints, ``GET
/v1/models`` for Anthropic-compatible ones, the GGUF file and llama-cpp for
``local``, the script for ``scripted``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from brain.errors import BrainError, ConfigError
from brain.models.factory import chain_specs, resolve_http
from brain.models.presets import ProviderConfig, Wire, parse_model_spec

if TYPE_CHECKING:
    from brain.settings import BrainSettings

__all__ = ["ProviderReport", "describe_chain", "probe_chain"]


@dataclass(frozen=True, slots=True)
class ProviderReport:
    """One link of the chain; ``reachable`` None until probed."""

    role: str
    spec: str
    wire: str
    model: str
    base_url: str | None
    api_key: str
    capabilities: dict[str, object] | None
    reachable: bool | None = None
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def describe_chain(settings: BrainSettings) -> list[ProviderReport]:
    """Raises ``ConfigError`` for a spec that does not parse."""
    return [
        _describe(settings, index, spec, setting)
        for index, (setting, spec) in enumerate(chain_specs(settings))
    ]


def _describe(settings: BrainSettings, index: int, spec: str, setting: str) -> ProviderReport:
    role = "primary" if index == 0 else f"fallback {index}"
    parsed = parse_model_spec(spec, setting=setting)
    if parsed.kind == "local":
        from brain.models.local import GGUF_NAME, LocalProvider, default_model_path

        path = settings.local_model_path or default_model_path() or Path(GGUF_NAME)
        capabilities = LocalProvider(path).capabilities.describe()
        return ProviderReport(role, spec, "local", str(path), None, "not needed", capabilities)
    if parsed.kind == "scripted":
        from brain.models.scripted import ScriptedProvider

        capabilities = ScriptedProvider().capabilities.describe()
        model = parsed.argument
        return ProviderReport(role, spec, "scripted", model, None, "not needed", capabilities)
    config = resolve_http(settings, index, spec, setting)
    return ProviderReport(
        role,
        spec,
        config.wire.value,
        config.model,
        config.base_url,
        _key_source(config),
        config.capabilities.describe(),
    )


def _key_source(config: ProviderConfig) -> str:
    if config.key_env is None and not config.api_key:
        return "not needed"
    state = "set" if config.api_key else ("missing" if config.needs_key else "not set")
    return f"{config.key_env or 'configured'} ({state})"


async def probe_chain(settings: BrainSettings, *, timeout_s: float = 5.0) -> list[ProviderReport]:
    """:func:`describe_chain` with ``reachable`` and ``detail`` filled in; never raises for a
    provider that is down (that is what it reports)."""
    reports = describe_chain(settings)
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(_probe(settings, index, report, timeout_s))
            for index, report in enumerate(reports)
        ]
    return [task.result() for task in tasks]


async def _probe(
    settings: BrainSettings, index: int, report: ProviderReport, timeout_s: float
) -> ProviderReport:
    try:
        detail = await _check(settings, index, report, timeout_s)
    except BrainError as exc:
        return replace(report, reachable=False, detail=str(exc))
    return replace(report, reachable=True, detail=detail)


async def _check(
    settings: BrainSettings, index: int, report: ProviderReport, timeout_s: float
) -> str:
    if report.wire == "scripted":
        return _check_script(report.model)
    if report.wire == "local":
        return await asyncio.to_thread(_check_local, settings)
    config = resolve_http(settings, index, report.spec, "model")
    if config.needs_key and not config.api_key:
        raise ConfigError(report.spec, f"no API key: set {config.key_env}")
    return await _check_http(config, timeout_s)


def _check_script(argument: str) -> str:
    if argument == "echo":
        return "always"
    from brain.models.scripted import load_script

    steps = load_script(Path(argument).expanduser())
    return f"script with {len(steps)} steps"


def _check_local(settings: BrainSettings) -> str:
    from brain.models.local import check_local_model, default_model_path

    return f"model file {check_local_model(settings.local_model_path or default_model_path())}"


async def _check_http(config: ProviderConfig, timeout_s: float) -> str:
    from brain.models.anthropic_compat import AnthropicProvider
    from brain.models.openai_compat import OpenAIProvider

    provider: AnthropicProvider | OpenAIProvider
    if config.wire is Wire.ANTHROPIC:
        provider = AnthropicProvider(config)
    else:
        provider = OpenAIProvider(config)
    try:
        return await provider.probe(timeout_s)
    finally:
        await provider.aclose()
