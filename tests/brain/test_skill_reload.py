"""Skills installed while the server runs are used from the next turn on."""

from __future__ import annotations

from pathlib import Path

from brain import Brain, BrainSettings
from tests.registry.test_install_check import installed


async def test_a_skill_installed_after_start_is_picked_up_at_the_next_turn(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    settings = BrainSettings(model="scripted:echo", data_dir=home, skill_dirs=(home / "skills",))
    brain = await Brain.open(settings)
    try:
        assert brain.list_skills() == ()
        assert not await brain.reload_skills_if_changed()  # nothing changed: no reload
        installed(home / "skills", "weather")  # what `skillyard skill install` leaves behind
        assert await brain.reload_skills_if_changed()
        assert [s.name for s in brain.list_skills()] == ["weather"]
        assert not await brain.reload_skills_if_changed()
        installed(home / "skills")  # everything removed again
        assert await brain.reload_skills_if_changed()
        assert brain.list_skills() == ()
    finally:
        await brain.aclose()
