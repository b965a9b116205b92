"""Exact arithmetic for the calculator skill: JSON request on stdin, JSON reply on stdout.

The expression is parsed with ``ast`` and walked over a whitelist of node
types; nothing is ever evaluated by Python itself.  Numbers are Fractions
built from the literal's source text, so ``0.1 + 0.2`` is exactly ``3/10`` and
integers never lose digits.  Every operation is checked against size caps
*before* it runs, so ``2**10000000`` is refused at once rather than computed.
"""

from __future__ import annotations

import ast
import json
import math
import sys
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction

MAX_LENGTH = 500
MAX_NODES = 300
MAX_EXPONENT = 10_000
MAX_DIGITS = 1_000
SHOWN_DIGITS = 20  # significant digits for a decimal that does not terminate
MAX_EXACT_PLACES = 40  # a terminating decimal longer than this is rounded instead
_LOG10_2 = 0.30102999566398120
_SAFE_INT = 2**53  # JSON numbers beyond this lose precision in many clients

ALLOWED = "numbers, + - * / // % ** ( ) and ^ for power"
# What people type for power, times, divide and minus (U+00D7, U+00F7, U+2212).
_SYMBOLS = {"^": "**", "\u00d7": "*", "\u00f7": "/", "\u2212": "-"}


class CalcError(Exception):
    """A problem with the expression, worded for the user."""


# ----------------------------------------------------------------------------- parse


def evaluate(expression: str) -> Fraction:
    text = _normalise(expression)
    if not text:
        raise CalcError(f"the expression is empty; write something like 2*(3+4) using {ALLOWED}")
    if len(text) > MAX_LENGTH:
        raise CalcError(f"the expression is {len(text)} characters; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        raise CalcError(
            f"cannot read {text!r}: check the numbers, operators and brackets"
        ) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError("the expression is too long")
    return _value(tree.body, text)


def _normalise(expression: str) -> str:
    text = expression.strip().rstrip("=").strip()
    for symbol, python in _SYMBOLS.items():
        text = text.replace(symbol, python)
    return text


def _value(node: ast.AST, source: str) -> Fraction:
    if isinstance(node, ast.Constant):
        return _literal(node, source)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        operand = _value(node.operand, source)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATIONS:
        left, right = _value(node.left, source), _value(node.right, source)
        return _checked(_OPERATIONS[type(node.op)](left, right))
    raise CalcError(_refusal(node))


def _literal(node: ast.Constant, source: str) -> Fraction:
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise CalcError(f"{node.value!r} is not a number; only {ALLOWED} are allowed")
    # The source text, not the float: 0.1 must mean one tenth exactly.
    literal = (ast.get_source_segment(source, node) or repr(node.value)).replace("_", "")
    try:
        decimal = Decimal(literal)
    except InvalidOperation:
        raise CalcError(f"cannot read the number {literal!r}") from None
    if decimal.is_finite() and abs(decimal.adjusted()) > MAX_DIGITS:
        raise CalcError(f"the number {literal} is too large (the limit is {MAX_DIGITS} digits)")
    return Fraction(decimal)


def _refusal(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"unknown name {node.id!r}: only {ALLOWED} are allowed"
    if isinstance(node, ast.Call):
        return f"functions are not supported: only {ALLOWED} are allowed"
    return f"{type(node).__name__} is not supported: only {ALLOWED} are allowed"


# ----------------------------------------------------------------------------- operations


def _divide(left: Fraction, right: Fraction) -> Fraction:
    if right == 0:
        raise CalcError("division by zero")
    return left / right


def _floor_divide(left: Fraction, right: Fraction) -> Fraction:
    if right == 0:
        raise CalcError("division by zero")
    return Fraction(left // right)


def _remainder(left: Fraction, right: Fraction) -> Fraction:
    if right == 0:
        raise CalcError("remainder after division by zero")
    return left % right


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        return _root(base, exponent)
    power = exponent.numerator
    if base == 0 and power < 0:
        raise CalcError("division by zero (0 to a negative power)")
    if base in (0, 1, -1):
        return base**power
    if abs(power) > MAX_EXPONENT:
        raise CalcError(f"the exponent {power} is too large (the limit is {MAX_EXPONENT})")
    size = max(math.log10(abs(base.numerator)), math.log10(base.denominator))
    if size * abs(power) > MAX_DIGITS:
        raise CalcError(f"the result would have more than {MAX_DIGITS} digits")
    return base**power


def _root(base: Fraction, exponent: Fraction) -> Fraction:
    """A fractional power: irrational in general, so rounded to SHOWN_DIGITS digits."""
    if base < 0:
        raise CalcError("a negative number to a fractional power is not a real number")
    if base == 0:
        return Fraction(0)
    with localcontext() as context:
        context.prec = SHOWN_DIGITS + 5
        magnitude = abs(_to_decimal(base).ln() * _to_decimal(exponent))
        if magnitude > MAX_DIGITS * Decimal(10).ln():
            raise CalcError(f"the result would have more than {MAX_DIGITS} digits")
        result = _to_decimal(base) ** _to_decimal(exponent)
        context.prec = SHOWN_DIGITS
        return Fraction(+result)


def _to_decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


_OPERATIONS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: _divide,
    ast.FloorDiv: _floor_divide,
    ast.Mod: _remainder,
    ast.Pow: _power,
}


def _checked(value: Fraction) -> Fraction:
    if max(_digits(value.numerator), _digits(value.denominator)) > MAX_DIGITS:
        raise CalcError(f"the result has more than {MAX_DIGITS} digits")
    return value


def _digits(number: int) -> int:
    """Decimal digits of ``number``, possibly one too few (cheap for huge numbers)."""
    return int((abs(number).bit_length() - 1) * _LOG10_2) + 1


# ----------------------------------------------------------------------------- output


def describe(value: Fraction) -> dict[str, object]:
    """``{"result", "text"}`` plus ``exact`` when the text is rounded."""
    if value.denominator == 1:
        number = value.numerator
        return {"result": number if abs(number) < _SAFE_INT else str(number), "text": str(number)}
    text, exact = _decimal_text(value)
    as_float = float(value)
    result: float | str = as_float if repr(as_float) == text else text
    reply: dict[str, object] = {"result": result, "text": text}
    if not exact:
        reply["exact"] = f"{value.numerator}/{value.denominator}"
    return reply


def _decimal_text(value: Fraction) -> tuple[str, bool]:
    """The decimal form of ``value`` and whether it is exact (a terminating decimal)."""
    places = _terminating_places(value.denominator)
    if places is not None and places <= MAX_EXACT_PLACES:
        scaled = value.numerator * 10**places // value.denominator
        return _with_point(scaled, places), True
    with localcontext() as context:
        context.prec = SHOWN_DIGITS
        rounded = _to_decimal(value)
    text = format(rounded, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text), False


def _terminating_places(denominator: int) -> int | None:
    """Decimal places of n/denominator if it terminates (only 2s and 5s), else None."""
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    return max(twos, fives) if denominator == 1 else None


def _with_point(scaled: int, places: int) -> str:
    digits = str(abs(scaled)).rjust(places + 1, "0")
    whole, fraction = digits[:-places], digits[-places:].rstrip("0")
    return ("-" if scaled < 0 else "") + whole + (f".{fraction}" if fraction else "")


# ----------------------------------------------------------------------------- main


def main() -> None:
    try:
        request = json.load(sys.stdin)
        if request.get("tool") != "evaluate":
            raise CalcError(f"unknown tool {request.get('tool')!r}")
        reply: dict[str, object] = {"output": describe(evaluate(request["input"]["expression"]))}
    except CalcError as exc:
        reply = {"error": {"message": str(exc)}}
    json.dump(reply, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
