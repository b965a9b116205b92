"""Per-skill Python environments: what a requirement may say, and a real build used by the sandbox.

The build test makes a real virtual environment and installs a wheel made
here (pip with ``PIP_NO_INDEX`` and ``PIP_FIND_LINKS``: no network), then
runs a skill tool that imports it through the real sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from brain.sandbox import call_context, run_tool
from registry.client_errors import EnvError
from registry.envs import (
    Requirement,
    build_env,
    env_dir,
    parse_requirement,
    requirements_of,
    skill_python,
)
from registry.package import load_skill
from registry.store.testing import write_skill

GOOD = [
    ("requests", Requirement("requests")),
    ("requests==2.31.0", Requirement("requests==2.31.0")),
    ("Requests[socks, security] >=2.0, <3", Requirement("Requests[socks, security] >=2.0, <3")),
    ('tomli>=1; python_version < "3.11"', Requirement('tomli>=1; python_version < "3.11"')),
    (
        "uvloop; sys_platform != 'win32' and platform_python_implementation == 'CPython'",
        Requirement(
            "uvloop; sys_platform != 'win32' and platform_python_implementation == 'CPython'"
        ),
    ),
    ("a.b_c-d~=1.4.2", Requirement("a.b_c-d~=1.4.2")),
    ("x==1 --hash=sha256:" + "a" * 64, Requirement("x==1", ("a" * 64,))),
]
BAD = [
    "-e .",
    "--index-url http://evil.example/simple",
    "requests --extra-index-url=http://evil.example",
    "pkg @ https://evil.example/pkg.whl",
    "./local/path",
    "/abs/path.whl",
    "git+https://example.com/x.git",
    "-r other.txt",
    "requests; import os",
    "requests; python_version < '3' or __import__('os')",
    "requests; (python_version < '3')",
    "requests; os_name == '\n-e .'",
    "requests >=1,\n<2",
    "x==1 --hash=md5:abc",
    "x==1\n--index-url=http://evil",
    "",
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_named_requirements_are_accepted(text: str, expected: Requirement) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize("text", BAD)
def test_options_urls_and_paths_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="a requirement is a package name"):
        parse_requirement(text)


def test_hash_every_requirement_or_none(tmp_path: Path) -> None:
    folder = write_skill(tmp_path, "mixed", version="1.0.0")
    sidecar = folder / "skill.yaml"
    lines = ["requirements:", f"  - x==1 --hash=sha256:{'b' * 64}", "  - y==2"]
    sidecar.write_text(sidecar.read_text() + "\n".join(lines) + "\n")
    with pytest.raises(EnvError, match="every requirement or for none"):
        requirements_of("alice/mixed", folder)


def test_an_installed_skill_finds_its_environment(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "alice" / "weather"
    folder.mkdir(parents=True)
    assert skill_python(folder) is None
    python = env_dir(tmp_path, "alice/weather") / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert skill_python(folder) == python
    assert skill_python(tmp_path / "repo" / "skills" / "time") is None


def make_wheel(folder: Path, name: str = "tinydep", version: str = "1.0") -> Path:
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 42\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


TOOL = "import json, sys, tinydep\nprint(json.dumps({'output': {'text': str(tinydep.VALUE)}}))\n"


@pytest.mark.slow
async def test_requirements_go_into_the_skills_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    home = tmp_path / "home"
    folder = write_skill(
        home / "skills" / "alice",
        "needs-dep",
        version="1.0.0",
        tool=True,
        extra={"scripts/echo.py": TOOL},
    )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    requirement = Requirement("tinydep==1.0", (digest,))
    build_env(
        "alice/needs-dep",
        env_dir(home, "alice/needs-dep"),
        [requirement],
        python=Path(sys.executable),
    )

    assert importlib.util.find_spec("tinydep") is None  # the server's interpreter is untouched
    skill = load_skill(folder)
    tool = skill.tool("echo")
    assert tool is not None
    with call_context(skill, user="u", session="s", now=0.0, data_root=None) as context:
        result = await run_tool(skill, tool, {"text": "x"}, context=context, hidden=[home])
    assert result.ok, result.error
    assert result.output == {"text": "42"}


@pytest.mark.slow
def test_a_wrong_requirement_hash_fails_the_build_and_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    dest = env_dir(tmp_path, "alice/x")
    with pytest.raises(EnvError, match="pip install failed"):
        build_env(
            "alice/x", dest, [Requirement("tinydep==1.0", ("0" * 64,))], python=Path(sys.executable)
        )
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


def test_a_failing_command_names_itself(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str]) -> None:
        calls.append(list(argv))
        if "venv" in argv:
            Path(argv[-1]).mkdir(parents=True)
        if "pip" in argv:
            raise EnvError("alice/x", "pip install failed: no such package")

    with pytest.raises(EnvError, match="no such package"):
        build_env(
            "alice/x",
            tmp_path / "envs" / "alice__x",
            [Requirement("nope")],
            python=Path(sys.executable),
            run=run,
        )
    assert calls[0][1:3] == ["-m", "venv"]
    assert "--only-binary=:all:" in calls[1] and "--require-hashes" not in calls[1]
    assert not (tmp_path / "envs" / "alice__x").exists()


def test_the_environment_runs_with_an_isolated_interpreter(tmp_path: Path) -> None:
    """``-I`` ignores PYTHON* variables, yet a venv still finds its own site-packages."""
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    done = subprocess.run(
        [str(env / "bin" / "python"), "-I", "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "/nowhere"},
    )
    assert Path(done.stdout.strip()) == env
