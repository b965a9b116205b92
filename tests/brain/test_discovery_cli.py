"""``skillyard skills suggest``: what the catalog would show for a message, with scores."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gateway.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("SKILLYARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SKILLYARD_HOME", str(tmp_path))
    folder = tmp_path / "skills" / "horoscope"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: horoscope\ndescription: Daily horoscope for each zodiac sign.\n---\n",
        encoding="utf-8",
    )
    return tmp_path


def suggest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["skills", "suggest", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_ranked_skills_with_scores(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = suggest(capsys, "what is my horoscope today, leo?", "--top", "3", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["name"] == "horoscope"
    assert rows[0]["rank"] == 1 and rows[0]["score"] > 0 and rows[0]["lexical"] > 0
    assert rows[0]["similarity"] is None  # words only unless embeddings are configured
    assert rows[0]["description"] == "Daily horoscope for each zodiac sign."
    assert len(rows) <= 3


def test_first_party_skills_are_suggested_too(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = suggest(capsys, "please convert 5 km to miles", "--json")
    assert code == 0
    assert json.loads(out)[0]["name"] == "unit-convert"


def test_top_limits_and_orders(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = suggest(capsys, "save a note and convert units, then calculate", "--json")
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    _, out, _ = suggest(capsys, "save a note and convert units, then calculate", "--top", "1")
    assert out.count("│ 1 │") == 1 and "│ 2 │" not in out


def test_nothing_matches_small_talk(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert suggest(capsys, "hello", "--json")[:2] == (0, "[]\n")
    code, out, _ = suggest(capsys, "hello")
    assert (code, out) == (0, "no installed skill matches that message\n")


@pytest.mark.parametrize("text", ["", "?!?!", "🙂" * 10_000, "x" * 100_000])
def test_hostile_text_is_answered(
    home: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, _ = suggest(capsys, text, "--json")
    assert code == 0 and isinstance(json.loads(out), list)


def test_a_bad_top_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = suggest(capsys, "horoscope", "--top", "0")
    assert code == 2 and "--top must be at least 1" in err
    with pytest.raises(SystemExit) as exited:
        main(["skills", "suggest", "horoscope", "--top", "many"])
    assert exited.value.code == 2
