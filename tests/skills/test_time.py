"""skills/time through the real sandbox: the time comes from the request, never the clock."""

from __future__ import annotations

import pytest

from brain.sandbox import ToolFailure
from tests.skills.conftest import NOW, call_tool, run_command, skill_named

TIME = skill_named("time")
JULY = 1782864000.0  # 2026-07-01T00:00:00Z


@pytest.mark.parametrize(
    ("zone", "now", "text"),
    [
        ("Europe/Paris", NOW, "01:00 on Thursday 1 January 2026 in Europe/Paris (CET, UTC+01:00)"),
        ("Europe/Paris", JULY, "02:00 on Wednesday 1 July 2026 in Europe/Paris (CEST, UTC+02:00)"),
        ("paris", NOW, "01:00 on Thursday 1 January 2026 in Europe/Paris (CET, UTC+01:00)"),
        ("Tokyo", NOW, "09:00 on Thursday 1 January 2026 in Asia/Tokyo (JST, UTC+09:00)"),
        (
            "new york",
            NOW,
            "19:00 on Wednesday 31 December 2025 in America/New_York (EST, UTC-05:00)",
        ),
        ("", NOW, "00:00 on Thursday 1 January 2026 in UTC (UTC+00:00)"),
        ("Asia/Kathmandu", NOW, "05:45 on Thursday 1 January 2026 in Asia/Kathmandu (UTC+05:45)"),
    ],
)
async def test_command_answers(zone: str, now: float, text: str) -> None:
    result = await run_command(TIME, zone, now=now)
    assert result.ok, result
    assert result.text == f"It is {text}."


@pytest.mark.parametrize(
    ("zone", "key"),
    [("europe/berlin", "Europe/Berlin"), ("Lisbon", "Europe/Lisbon"), ("buenos aires",
     "America/Argentina/Buenos_Aires"), ("UTC", "UTC"), ("  Mumbai ", "Asia/Kolkata")],
)  # fmt: skip
async def test_zone_names_are_forgiving(zone: str, key: str) -> None:
    result = await call_tool(TIME, "current_time", {"zone": zone})
    assert result.output is not None, result
    assert result.output["zone"] == key


async def test_structured_output() -> None:
    result = await call_tool(TIME, "current_time", {"zone": "Europe/Paris"}, now=JULY)
    assert result.output is not None
    assert result.output["iso"] == "2026-07-01T02:00:00+02:00"
    assert (result.output["utc_offset"], result.output["abbreviation"]) == ("+02:00", "CEST")


@pytest.mark.parametrize("zone", ["Mars", "../../etc/passwd", "/etc/localtime", "Europe", "x" * 64])
async def test_unknown_zones_explain_how_to_write_one(zone: str) -> None:
    result = await run_command(TIME, zone)
    assert result.failure is ToolFailure.TOOL_ERROR, result
    assert "IANA zone such as Europe/Paris" in (result.error or "")
