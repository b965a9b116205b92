"""skills/calculator: exact arithmetic through the real sandbox, and the parser in-process."""

from __future__ import annotations

import importlib.util
import sys
from fractions import Fraction
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brain.sandbox import ToolFailure
from tests.skills.conftest import SKILLS, call_tool, run_command, skill_named

CALCULATOR = skill_named("calculator")


def load_script() -> ModuleType:
    """Our own first-party script, imported to test its functions directly."""
    spec = importlib.util.spec_from_file_location("calc", SKILLS / "calculator/scripts/calc.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # No __pycache__ inside a skill folder: it is part of the skill's content.
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


calc = load_script()


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("2*(3+4)", "14"),
        ("0.1+0.2", "0.3"),
        ("1/4", "0.25"),
        ("2**100", "1267650600228229401496703205376"),
        ("2^10", "1024"),
        ("-7 // 2", "-4"),
        ("7 % 3", "1"),
        ("1/3", "0.33333333333333333333"),
        ("2**-2", "0.25"),
        ("10 \u00f7 4 \u00d7 2", "5"),  # division and multiplication signs
        ("1_000 * 3", "3000"),
        ("3.14159265358979323846264338327950288 * 1", "3.14159265358979323846264338327950288"),
        ("2**0.5", "1.4142135623730950488"),
        ("6*7=", "42"),
    ],
)
async def test_command_answers(expression: str, text: str) -> None:
    result = await run_command(CALCULATOR, expression)
    assert result.ok, result
    assert result.text == text


async def test_structured_tool_returns_numbers_and_exact_fractions() -> None:
    third = await call_tool(CALCULATOR, "evaluate", {"expression": "1/3"})
    assert third.output == {
        "result": "0.33333333333333333333",
        "text": "0.33333333333333333333",
        "exact": "1/3",
    }
    tenth = await call_tool(CALCULATOR, "evaluate", {"expression": "0.1+0.2"})
    assert tenth.output == {"result": 0.3, "text": "0.3"}
    big = await call_tool(CALCULATOR, "evaluate", {"expression": "2**64"})
    assert big.output == {"result": "18446744073709551616", "text": "18446744073709551616"}


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("1/0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("2**10000000", "exponent 10000000 is too large"),
        ("9**9**9", "is too large"),
        ("10**2000", "more than 1000 digits"),
        ("1e5000", "too large"),
        ("(-8)**(1/3)", "not a real number"),
        ("2*(3+", "cannot read"),
        ("", "empty"),
        ("x + 1", "unknown name 'x'"),
        ("__import__('os').system('id')", "functions are not supported"),
        ("(1).__class__", "Attribute is not supported"),
        ("[1, 2]", "List is not supported"),
        ("'a' * 3", "is not a number"),
        ("True + 1", "is not a number"),
        ("1j", "is not a number"),
    ],
)
async def test_clear_errors(expression: str, fragment: str) -> None:
    result = await run_command(CALCULATOR, expression)
    assert result.failure is ToolFailure.TOOL_ERROR, result
    assert fragment in (result.error or "")
    assert result.duration_s < 3  # refused up front, not computed


async def test_overlong_expressions_are_refused_by_the_schema() -> None:
    result = await run_command(CALCULATOR, "1+" * 300 + "1")
    assert result.failure is ToolFailure.INVALID_INPUT
    assert "input.expression" in (result.error or "")


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**30), 10**30), st.integers(-(10**30), 10**30))
def test_integer_arithmetic_is_exact(a: int, b: int) -> None:
    assert calc.evaluate(f"({a}) * ({b}) - ({a})") == a * b - a
    if b:
        assert calc.evaluate(f"({a}) / ({b})") == Fraction(a, b)


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-1e9, max_value=1e9))
def test_decimals_round_trip_exactly(value: object) -> None:
    text = calc.describe(calc.evaluate(f"{value} + 0"))["text"]
    assert Fraction(str(text)) == Fraction(str(value))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.+-*/%()^e_ ", max_size=40))
def test_any_expression_gives_a_value_or_a_calc_error(expression: str) -> None:
    try:
        value = calc.evaluate(expression)
    except calc.CalcError:
        return
    assert isinstance(calc.describe(value)["text"], str)
