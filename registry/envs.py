"""Per-skill Python environments: a skill's requirements never reach the server's interpreter.

Theory of operation
-------------------
A registry skill ``owner/name`` is installed at
``<home>/skills/<owner>/<name>/``; when its ``skill.yaml`` lists Python
``requirements``, they go into a virtual environment of its own at
``<home>/envs/<owner>__<name>/`` (:func:`env_dir`), and the sandbox runs the
skill's ``.py`` entrypoints with that environment's interpreter
(:func:`skill_python` finds it from the skill's folder alone).

Building (:func:`build_env`) runs ``python -m venv`` into a temporary
folder, then ``pip`` for that environment (our own pip with ``--python``
when we have one, else the environment's from ``ensurepip``): ``--only-binary=:all:`` so that
installing never runs a package's build code outside the sandbox,
``--require-hashes`` when the requirements carry ``--hash=sha256:…``, and
nothing else a skill could slip in: a requirement is a name, extras,
version specifiers and a marker (:func:`parse_requirement`); options, URLs
and paths are refused.  pip's own settings (``PIP_INDEX_URL``,
``PIP_FIND_LINKS``…) come from the user's environment as usual.  Only a
complete environment is renamed into place.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from registry.client_errors import EnvError
from registry.errors import YamlError
from registry.sidecar import SIDECAR_FILE
from registry.yamlsafe import safe_load

__all__ = [
    "ENVS_DIR",
    "Requirement",
    "build_env",
    "env_dir",
    "parse_requirement",
    "remove_env",
    "requirements_of",
    "skill_python",
]

ENVS_DIR = "envs"
_SKILLS_DIR = "skills"
_TIMEOUT_S = 900.0
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"(?:===|==|!=|~=|<=|>=|<|>)[ ]*[A-Za-z0-9.*+!_-]+"
# PEP 508 environment markers, without parentheses: VAR OP 'value' [and|or ...].
_MARKER_VAR = (
    r"(?:python_version|python_full_version|os_name|sys_platform|platform_release"
    r"|platform_system|platform_version|platform_machine|platform_python_implementation"
    r"|implementation_name|implementation_version|extra)"
)
# A quoted value holds no quote, backslash or control character (a newline would start
# another line of pip's requirements file).
_QUOTED = r"""(?:'[^'"\\\x00-\x1f\x7f]*'|"[^'"\\\x00-\x1f\x7f]*")"""
_MARKER_ONE = rf"{_MARKER_VAR}[ ]*(?:===|==|!=|~=|<=|>=|<|>|not[ ]+in|in)[ ]*{_QUOTED}"
_MARKER = rf"{_MARKER_ONE}(?:[ ]+(?:and|or)[ ]+{_MARKER_ONE})*"
_SPEC = re.compile(
    rf"{_NAME}(?:[ ]*\[[ ]*{_NAME}(?:[ ]*,[ ]*{_NAME})*[ ]*\])?"
    rf"[ ]*(?:{_VERSION}(?:[ ]*,[ ]*{_VERSION})*)?(?:[ ]*;[ ]*{_MARKER})?"
)
_HASH = re.compile(r"\s+--hash=sha256:([0-9a-f]{64})")
Runner = Callable[[Sequence[str]], None]


def env_dir(home: Path, skill: str) -> Path:
    """The environment of ``owner/name`` under the data dir ``home``."""
    return home / ENVS_DIR / skill.replace("/", "__")


def skill_python(skill_folder: Path) -> Path | None:
    """The interpreter of the environment of the skill installed at ``skill_folder``, if any.

    Only a folder laid out as ``<home>/skills/<owner>/<name>`` has one.
    """
    owner = skill_folder.parent
    if owner.parent.name != _SKILLS_DIR:
        return None
    python = env_dir(owner.parent.parent, f"{owner.name}/{skill_folder.name}") / "bin" / "python"
    return python if python.exists() else None


@dataclass(frozen=True, slots=True)
class Requirement:
    spec: str
    hashes: tuple[str, ...] = ()

    def line(self) -> str:
        return self.spec + "".join(f" --hash=sha256:{digest}" for digest in self.hashes)


def parse_requirement(text: str) -> Requirement:
    """``text`` as a requirement; raises ``ValueError`` naming what is refused."""
    hashes = tuple(_HASH.findall(" " + text))
    spec = _HASH.sub("", " " + text).strip()
    if not _SPEC.fullmatch(spec):
        raise ValueError(
            f"{text!r}: a requirement is a package name with optional extras, version "
            "specifiers and a marker, then optional --hash=sha256:… (no options, URLs or paths)"
        )
    return Requirement(spec, hashes)


def requirements_of(skill: str, folder: Path) -> tuple[Requirement, ...]:
    """The requirements ``folder``'s ``skill.yaml`` lists (the file was already validated)."""
    path = folder / SIDECAR_FILE
    if not path.is_file():
        return ()
    try:
        data = safe_load(path.read_text("utf-8"))
    except (YamlError, OSError, UnicodeDecodeError) as exc:
        raise EnvError(skill, f"{SIDECAR_FILE}: {exc}") from None
    raw = data.get("requirements", []) if isinstance(data, dict) else []
    try:
        requirements = tuple(parse_requirement(str(item)) for item in raw)
    except ValueError as exc:
        raise EnvError(skill, str(exc)) from None
    hashed = sum(1 for r in requirements if r.hashes)
    if 0 < hashed < len(requirements):
        raise EnvError(skill, "give --hash=sha256:… for every requirement or for none")
    return requirements


def build_env(
    skill: str,
    dest: Path,
    requirements: Sequence[Requirement],
    *,
    python: Path,
    run: Runner | None = None,
) -> None:
    """Make ``dest`` a fresh environment with ``requirements`` (replacing any old one).

    ``python`` is the interpreter to base it on; ``run`` executes one command
    (the default raises :class:`EnvError` with the command's last output).
    """
    runner = run or _runner(skill)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    host_pip = _host_pip(python)
    try:
        runner([str(python), "-m", "venv", *(["--without-pip"] if host_pip else []), str(tmp)])
        listing = tmp / "requirements.txt"
        listing.write_text("".join(f"{r.line()}\n" for r in requirements), encoding="utf-8")
        target = str(tmp / "bin" / "python")
        own = [str(python), "-m", "pip", "--python", target]
        pip = [
            *(own if host_pip else [target, "-m", "pip"]),
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "-r",
            str(listing),
        ]
        if any(r.hashes for r in requirements):
            pip.append("--require-hashes")
        runner(pip)
        _swap_in(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _host_pip(python: Path) -> bool:
    """Can our own pip install into the new environment (``pip --python``, pip 22.3+)?

    That skips ``ensurepip``, which takes some 15 s on a small machine.
    """
    if Path(python) != Path(sys.executable) or importlib.util.find_spec("pip") is None:
        return False
    major, minor, *_ = (int(p) if p.isdigit() else 0 for p in version("pip").split("."))
    return (major, minor) >= (22, 3)


def _swap_in(tmp: Path, dest: Path) -> None:
    old = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    if dest.exists():
        os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def remove_env(home: Path, skill: str) -> None:
    shutil.rmtree(env_dir(home, skill), ignore_errors=True)


def _what(argv: Sequence[str]) -> str:
    return "pip install" if "pip" in argv else "python -m venv"


def _runner(skill: str) -> Runner:
    def run(argv: Sequence[str]) -> None:
        try:
            done = subprocess.run(
                list(argv), capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnvError(skill, f"{_what(argv)}: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise EnvError(skill, f"{_what(argv)} failed: " + " / ".join(tail))

    return run
