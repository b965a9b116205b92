"""Model specs, presets, one variable to switch provider, and ``skillyard models list``."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from brain.errors import BadModelSpecError, ConfigError
from brain.models import Sampling, describe_chain, open_provider, parse_model_spec, probe_chain
from brain.models.fallback import FallbackProvider
from brain.models.presets import PRESETS, PROVIDER_ENV_VARS, Overrides, resolve
from brain.models.retry import RetryingProvider
from brain.settings import BrainSettings
from gateway.app import brain_settings
from gateway.cli import main
from gateway.config import load_config
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI


@pytest.mark.parametrize(
    ("spec", "kind", "argument"),
    [
        ("local", "local", ""),
        ("scripted:echo", "scripted", "echo"),
        ("openai:gpt-4.1-mini", "openai", "gpt-4.1-mini"),
        ("anthropic:claude-x", "anthropic", "claude-x"),
        ("minimax", "minimax", ""),
        ("minimax:MiniMax-M2.5", "minimax", "MiniMax-M2.5"),
        ("minimax-anthropic", "minimax-anthropic", ""),
        (" ollama:llama3.2 ", "ollama", "llama3.2"),
    ],
)
def test_specs_parse(spec: str, kind: str, argument: str) -> None:
    parsed = parse_model_spec(spec)
    assert (parsed.kind, parsed.argument) == (kind, argument)


@pytest.mark.parametrize(
    "spec", ["", "openai", "openai:", "anthropic", "ollama: ", "gpt-4", "local:x", "minimaxx"]
)
def test_bad_specs_name_the_setting(spec: str) -> None:
    with pytest.raises(BadModelSpecError, match=r"^model\.fallback\[1\]: expected local"):
        parse_model_spec(spec, setting="model.fallback[1]")


def test_presets_resolve_from_the_provider_variables() -> None:
    env = {
        "MINIMAX_API_KEY": "mm",
        "ANTHROPIC_API_KEY": "ak",
        "ANTHROPIC_BASE_URL": "https://api.minimax.io/anthropic",
        "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1",
    }
    minimax = resolve("minimax", env)
    assert (minimax.name, minimax.model, minimax.base_url) == (
        "minimax:MiniMax-M2.7",
        "MiniMax-M2.7",
        "https://api.minimax.io/v1",
    )
    assert minimax.api_key == "mm" and "mm" not in repr(minimax)
    assert minimax.sampling == Sampling(temperature=1.0, top_p=0.95, top_k=40)
    assert resolve("minimax-anthropic", env).base_url == "https://api.minimax.io/anthropic"
    assert resolve("anthropic:claude-x", env).base_url == "https://api.minimax.io/anthropic"
    assert resolve("openai:m", env).base_url == "http://127.0.0.1:8080/v1"
    ollama = resolve("ollama:llama3.2", env)
    assert (ollama.base_url, ollama.api_key, ollama.needs_key) == (
        "http://127.0.0.1:11434/v1",
        None,
        False,
    )
    expected = {
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "MINIMAX_API_KEY",
    }
    assert expected == PROVIDER_ENV_VARS


def test_overrides_apply() -> None:
    overrides = Overrides(
        base_url="https://api.minimaxi.com/v1", context_window=1000, sampling=Sampling(top_k=20)
    )
    config = resolve("minimax", {}, overrides)
    assert config.base_url == "https://api.minimaxi.com/v1"
    assert config.capabilities.context_window == 1000
    assert config.sampling.top_k == 20 and config.sampling.temperature == 1.0
    assert not config.needs_key  # a custom endpoint may not need one


def settings(tmp_path: Path, model: str, **fields: object) -> BrainSettings:
    return BrainSettings(model=model, data_dir=tmp_path, **fields)  # type: ignore[arg-type]


def test_a_missing_key_is_a_config_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="minimax needs an API key: set MINIMAX_API_KEY"):
        open_provider(settings(tmp_path, "minimax"))
    with pytest.raises(ConfigError, match=r"model\.fallback\[0\]: anthropic:c needs an API key"):
        open_provider(settings(tmp_path, "scripted:echo", model_fallback=("anthropic:c",)))


async def test_the_chain_is_built_from_the_settings(tmp_path: Path) -> None:
    provider = open_provider(
        settings(
            tmp_path,
            "minimax-anthropic",
            model_fallback=("ollama:qwen3", "scripted:echo"),
            model_env={"MINIMAX_API_KEY": "mm"},
        )
    )
    try:
        assert isinstance(provider, FallbackProvider)
        names = [p.name for p in provider.providers]
        assert names == ["minimax-anthropic:MiniMax-M2.7", "ollama:qwen3", "scripted"]
        assert isinstance(provider.providers[0], RetryingProvider)
        assert provider.capabilities.context_window == 204_800
    finally:
        await provider.aclose()


def test_one_variable_switches_provider_and_fallbacks_come_from_one_more(tmp_path: Path) -> None:
    env = {
        "SKILLYARD_HOME": str(tmp_path),
        "SKILLYARD_MODEL": "minimax-anthropic",
        "SKILLYARD_MODEL__FALLBACK": "minimax, ollama:qwen3",
        "MINIMAX_API_KEY": "mm",
        "UNRELATED_SECRET": "x",
    }
    brain = brain_settings(load_config(None, env))
    assert (brain.model, brain.model_fallback) == ("minimax-anthropic", ("minimax", "ollama:qwen3"))
    assert dict(brain.model_env) == {"MINIMAX_API_KEY": "mm"}


def test_the_config_file_takes_sampling_and_limits(tmp_path: Path) -> None:
    path = tmp_path / "skillyard.yaml"
    path.write_text(
        "model:\n  provider: minimax\n  fallback: [ollama:qwen3]\n  context_window: 100000\n"
        "  timeout_s: 30\n  max_retries: 4\n  sampling: {temperature: 0.7, top_k: 20}\n"
    )
    brain = brain_settings(load_config(path, {"SKILLYARD_HOME": str(tmp_path)}))
    assert brain.model_sampling == Sampling(temperature=0.7, top_k=20)
    assert (brain.openai_context_window, brain.openai_timeout_s, brain.openai_max_retries) == (
        100_000,
        30,
        4,
    )


def test_describe_shows_the_chain_without_keys(tmp_path: Path) -> None:
    reports = describe_chain(
        settings(
            tmp_path,
            "minimax",
            model_fallback=("anthropic:c", "scripted:echo"),
            model_env={"MINIMAX_API_KEY": "mm-secret"},
        )
    )
    assert [(r.role, r.spec, r.wire, r.model) for r in reports] == [
        ("primary", "minimax", "openai", "MiniMax-M2.7"),
        ("fallback 1", "anthropic:c", "anthropic", "c"),
        ("fallback 2", "scripted:echo", "scripted", "echo"),
    ]
    assert [r.api_key for r in reports] == [
        "MINIMAX_API_KEY (set)",
        "ANTHROPIC_API_KEY (missing)",
        "not needed",
    ]
    assert "mm-secret" not in json.dumps([r.to_json() for r in reports])
    capabilities = reports[0].capabilities or {}
    assert capabilities["temperature"] == "(0, 1]"
    assert capabilities["tool_choice"] == ["auto", "none"]
    assert capabilities["reasoning"] == "reasoning_details"


async def test_probe_reports_what_answers(tmp_path: Path) -> None:
    async with FakeOpenAI("MiniMax-M2.7", api_key="mm") as minimax, FakeAnthropic("c") as claude:
        reports = await probe_chain(
            settings(
                tmp_path,
                "minimax",
                openai_base_url=minimax.base_url,
                openai_api_key="wrong",
                model_fallback=("anthropic:c", "local", "scripted:/no/such/script.yaml"),
                model_env={"ANTHROPIC_API_KEY": "ak", "ANTHROPIC_BASE_URL": claude.base_url},
                local_model_path=tmp_path / "missing.gguf",
            ),
            timeout_s=2.0,
        )
    assert [r.reachable for r in reports] == [False, True, False, False]
    assert "HTTP 401" in reports[0].detail
    assert reports[1].detail == "1 models listed"
    assert "model file not found" in reports[2].detail
    assert "cannot read script" in reports[3].detail


async def test_models_list_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("SKILLYARD_") or name.endswith(("_API_KEY", "_BASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    async with FakeOpenAI("MiniMax-M2.7", api_key="mm-secret") as fake:
        url = fake.base_url
        env = {
            "SKILLYARD_HOME": str(tmp_path),
            "SKILLYARD_MODEL": "minimax",
            "SKILLYARD_MODEL__BASE_URL": url,
            "SKILLYARD_MODEL__FALLBACK": "scripted:echo,ollama:qwen3",
            "MINIMAX_API_KEY": "mm-secret",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # ollama's default URL is this machine; point it at a closed port instead.
        async with FakeOpenAI() as closed:
            closed_url = closed.base_url
        monkeypatch.setattr(
            "brain.models.presets.PRESETS",
            {**PRESETS, "ollama": replace(PRESETS["ollama"], base_url=closed_url)},
        )
        # The CLI runs its own event loop; the fake keeps serving on this one.
        code = await asyncio.to_thread(main, ["models", "list", "--json", "--timeout", "2"])
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [(r["role"], r["spec"], r["reachable"]) for r in rows] == [
        ("primary", "minimax", True),
        ("fallback 1", "scripted:echo", True),
        ("fallback 2", "ollama:qwen3", False),
    ]
    assert rows[0]["base_url"] == url and rows[0]["api_key"] == "MINIMAX_API_KEY (set)"
    assert rows[0]["capabilities"]["context_window"] == 204_800
    assert "cannot reach" in rows[2]["detail"]
    assert "mm-secret" not in out
    assert code == 1  # a configured provider is down


async def test_models_list_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKILLYARD_HOME", str(tmp_path))
    monkeypatch.setenv("SKILLYARD_MODEL", "scripted:echo")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal's width
    monkeypatch.delenv("SKILLYARD_MODEL__FALLBACK", raising=False)
    assert await asyncio.to_thread(main, ["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "scripted:echo" in out and "yes: always" in out
