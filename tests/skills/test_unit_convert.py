"""skills/unit-convert through the real sandbox: the command and the structured tool."""

from __future__ import annotations

import pytest

from brain.sandbox import ToolFailure
from tests.skills.conftest import call_tool, run_command, skill_named

CONVERT = skill_named("unit-convert")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("10 km to mi", "10 km = 6.21371 mi"),
        ("72 F to C", "72 °F = 22.2222 °C"),
        ("-40 C in F", "-40 °C = -40 °F"),
        ("0 K to C", "0 K = -273.15 °C"),
        ("1.5 GiB in MB", "1.5 GiB = 1610.61 MB"),
        ("8 Mb to MB", "8 Mbit = 1 MB"),
        ("100 km/h to mph", "100 km/h = 62.1371 mph"),
        ("5 feet in meters", "5 ft = 1.524 m"),
        ("10 in to cm", "10 in = 25.4 cm"),
        ("2 hours to minutes", "2 h = 120 min"),
        ("1 gallon -> liters", "1 gal = 3.78541 l"),
        ("1 lb to g", "1 lb = 453.592 g"),
        ("1,000 m into km", "1000 m = 1 km"),
        ("1e30 m to nm", "1e+30 m = 1e+39 nm"),
    ],
)
async def test_command_answers(query: str, text: str) -> None:
    result = await run_command(CONVERT, query)
    assert result.ok, result
    assert result.text == text


async def test_structured_tool() -> None:
    result = await call_tool(CONVERT, "convert", {"value": 10, "from": "km", "to": "mi"})
    assert result.output is not None
    assert result.output["unit"] == "mi"
    assert result.output["value"] == pytest.approx(6.2137119223733395)
    assert "6.21371 mi" in result.output["text"]


async def test_decimal_inputs_are_taken_as_written() -> None:
    result = await call_tool(CONVERT, "convert", {"value": 0.1, "from": "m", "to": "cm"})
    assert result.text == "0.1 m = 10 cm"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("10 kg to km", "cannot convert kg (mass) to km (length)"),
        ("3 parsec to m", "unknown unit 'parsec'; try one of km, mi"),
        ("-300 C to K", "below absolute zero"),
        ("ten km to mi", "write it like '10 km to mi'"),
        ("", "write it like"),
        ("1e999999 m to km", "out of range"),
    ],
)
async def test_clear_errors(query: str, fragment: str) -> None:
    result = await run_command(CONVERT, query)
    assert result.failure is ToolFailure.TOOL_ERROR, result
    assert fragment in (result.error or "")


async def test_bad_structured_arguments_name_the_field() -> None:
    result = await call_tool(CONVERT, "convert", {"value": "ten", "from": "km", "to": "mi"})
    assert result.failure is ToolFailure.INVALID_INPUT
    assert "input.value" in (result.error or "")
