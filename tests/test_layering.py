"""The dependency rules of DESIGN.md §2, checked on the source (imports, by AST)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("gateway", "channels", "brain", "registry")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def allowed(importer: Path, imported: str) -> bool:
    package = importer.relative_to(ROOT).parts[0]
    relative = importer.relative_to(ROOT).as_posix()
    if imported.split(".")[0] == package and package != "gateway":
        return True
    if relative == "gateway/events.py" or relative.startswith("gateway/protocol/"):
        return imported.startswith("gateway.protocol") and relative.startswith("gateway/protocol/")
    rules = {
        "registry": lambda name: False,
        "channels": lambda name: name == "gateway.events",
        # the brain implements the bus seam; it never sees the server or the channels
        "brain": lambda name: (
            name in {"gateway.events", "gateway.bus"} or name.startswith("registry")
        ),
        # the channel host drives adapters through the shared channel interface only
        "gateway": lambda name: name.startswith(("gateway", "registry")) or name in CHANNEL_API,
    }
    return rules[package](imported)


CHANNEL_API = frozenset({"channels.base", "channels.errors", "channels.replies"})

# Only the composition root (start-up) and the CLI wire the packages together.
COMPOSITION_ROOTS = {"gateway/app.py", "gateway/cli.py"}


@pytest.mark.parametrize("package", OURS)
def test_dependency_rules(package: str) -> None:
    broken = []
    for path in modules(package):
        if path.relative_to(ROOT).as_posix() in COMPOSITION_ROOTS:
            continue
        broken += [
            f"{path.relative_to(ROOT)} imports {name}"
            for name in sorted(imports_of(path))
            if not allowed(path, name)
        ]
    assert broken == []


def test_the_contract_and_the_protocol_core_import_nothing_of_ours() -> None:
    assert imports_of(ROOT / "gateway" / "events.py") == set()
    for path in modules("gateway/protocol"):
        assert all(name.startswith("gateway.protocol") for name in imports_of(path)), path


def test_the_protocol_core_does_no_io() -> None:
    forbidden = {"asyncio", "socket", "starlette", "uvicorn", "websockets", "sqlite3"}
    for path in modules("gateway/protocol"):
        tree = ast.parse(path.read_text())
        names = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        names |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not names & forbidden, f"{path} imports {names & forbidden}"
