"""The brain loads registry installs only while they match the lockfile.

Installs are laid out by hand here (files + lockfile entry), exactly as the
installer leaves them, so each case is one small change: a tampered file, a
``block`` verdict, a folder the lockfile does not know, a broken lockfile.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain.skills import SkillSet
from registry.client_errors import LockfileError
from registry.hashing import hash_folder
from registry.install_check import check_installed
from registry.lockfile import LockedSkill, Lockfile, read_lockfile, write_lockfile
from registry.model import Permissions
from registry.store.testing import write_skill


def entry_for(skill: str, folder: Path, *, verdict: str = "pass") -> LockedSkill:
    return LockedSkill(
        skill=skill,
        version="1.0.0",
        content_hash=hash_folder(folder),
        signer_key_id="0" * 32,
        signer_public_key="",
        signer_fingerprint="SHA256:x",
        publisher_signature="",
        registry_url="http://127.0.0.1:1/api/v1",
        registry_key_id="1" * 32,
        registry_signature="",
        log_index=0,
        verdict=verdict,
        permissions=Permissions(),
    )


def installed(root: Path, *names: str, verdict: str = "pass") -> dict[str, Path]:
    lock, folders = Lockfile(), {}
    for name in names:
        folder = write_skill(root / "alice", name, version="1.0.0", tool=True)
        lock = lock.with_skill(entry_for(f"alice/{name}", folder, verdict=verdict))
        folders[name] = folder
    write_lockfile(root / "skillyard.lock", lock)
    return folders


def test_verified_installs_load(tmp_path: Path) -> None:
    installed(tmp_path, "weather", "news")
    skills = SkillSet.load([tmp_path])
    assert sorted(skills.skills) == ["news", "weather"]
    assert skills.refused == {}


def test_a_tampered_file_makes_the_brain_refuse_the_skill(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folders = installed(tmp_path, "weather", "news")
    script = folders["weather"] / "scripts" / "echo.py"
    script.write_text(script.read_text() + "import os  # added later\n")
    skills = SkillSet.load([tmp_path])
    assert sorted(skills.skills) == ["news"]
    assert "files changed since it was installed" in skills.refused["alice/weather"]
    assert "refusing skill alice/weather" in caplog.text


def test_an_added_file_or_a_flipped_exec_bit_is_tampering_too(tmp_path: Path) -> None:
    folders = installed(tmp_path, "weather", "news")
    (folders["weather"] / "scripts" / "helper.py").write_text("print('hi')\n")
    (folders["news"] / "scripts" / "echo.py").chmod(0o755)
    assert SkillSet.load([tmp_path]).skills == {}


def test_bytecode_left_by_running_a_script_is_not_tampering(tmp_path: Path) -> None:
    folders = installed(tmp_path, "weather")
    cache = folders["weather"] / "scripts" / "__pycache__"
    cache.mkdir()
    (cache / "echo.cpython-311.pyc").write_bytes(b"\0" * 16)
    assert list(SkillSet.load([tmp_path]).skills) == ["weather"]


def test_a_blocked_install_never_loads(tmp_path: Path) -> None:
    installed(tmp_path, "weather", verdict="block")
    skills = SkillSet.load([tmp_path])
    assert skills.skills == {}
    assert "blocks" in skills.refused["alice/weather"]


def test_a_folder_the_lockfile_does_not_know_is_refused(tmp_path: Path) -> None:
    installed(tmp_path, "weather")
    write_skill(tmp_path / "mallory", "sneaky", version="1.0.0", tool=True)
    skills = SkillSet.load([tmp_path])
    assert list(skills.skills) == ["weather"]
    assert "not in the lockfile" in skills.refused["mallory/sneaky"]


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    folders = installed(tmp_path, "weather")
    for path in sorted(folders["weather"].rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folders["weather"].rmdir()
    states = check_installed(tmp_path)
    assert [s.skill for s in states] == ["alice/weather"]
    assert states[0].problem is not None and "missing" in states[0].problem


def test_hand_copied_skills_still_load_beside_registry_installs(tmp_path: Path) -> None:
    installed(tmp_path, "weather")
    write_skill(tmp_path, "mine", tool=True)  # skills/<name>: copied by hand, not pinned
    assert sorted(SkillSet.load([tmp_path]).skills) == ["mine", "weather"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"lockfile": 2, "skills": {}}',
        '{"lockfile": 1, "skills": {"alice/weather": {"version": "1.0.0"}}}',
        '{"lockfile": 1, "skills": {"../../etc": {}}}',
        '{"lockfile": 1, "skills": {}, "extra": true}',
    ],
)
def test_a_broken_lockfile_refuses_every_install_and_says_why(tmp_path: Path, text: str) -> None:
    installed(tmp_path, "weather")
    (tmp_path / "skillyard.lock").write_text(text)
    with pytest.raises(LockfileError):
        read_lockfile(tmp_path / "skillyard.lock")
    skills = SkillSet.load([tmp_path])
    assert skills.skills == {}
    assert "cannot be verified" in skills.refused["alice/weather"]


def test_a_huge_lockfile_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "skillyard.lock").write_bytes(b" " * (5 * 1024 * 1024))
    with pytest.raises(LockfileError, match="over"):
        read_lockfile(tmp_path / "skillyard.lock")


def test_lockfile_round_trip(tmp_path: Path) -> None:
    folders = installed(tmp_path, "weather")
    lock = read_lockfile(tmp_path / "skillyard.lock")
    entry = lock.get("alice/weather")
    assert entry is not None and entry.folder(tmp_path) == folders["weather"]
    write_lockfile(tmp_path / "again.lock", lock)
    assert json.loads((tmp_path / "again.lock").read_text()) == lock.to_json()
    assert read_lockfile(tmp_path / "absent.lock") == Lockfile()
