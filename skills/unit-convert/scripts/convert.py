"""Unit conversion for the unit-convert skill: JSON request on stdin, JSON reply on stdout.

Tools: ``convert`` ``{value, from, to}`` for models, and ``convert_query``
``{query}`` for the ``/unit-convert 10 km to mi`` command.  Factors are exact
Fractions (a mile is 1609.344 m by definition), so the only rounding is the
six significant digits of the reply.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction

SIGNIFICANT = 6
MAX_QUERY = 200
MAX_EXPONENT = 100  # |log10| of inputs: keeps every result a finite float
F = Fraction


def _table() -> dict[str, tuple[str, Fraction]]:
    """symbol -> (category, factor to the category's base unit)."""
    gallon, fl_oz, pound = F("3.785411784"), F("3.785411784") / 128, F("0.45359237")
    groups = {
        "length": {"m": 1, "km": 1000, "cm": F(1, 100), "mm": F(1, 1000), "um": F(1, 10**6),
                   "nm": F(1, 10**9), "mi": F("1609.344"), "yd": F("0.9144"), "ft": F("0.3048"),
                   "in": F("0.0254"), "nmi": 1852},
        "mass": {"kg": 1, "g": F(1, 1000), "mg": F(1, 10**6), "t": 1000, "lb": pound,
                 "oz": pound / 16, "st": pound * 14},
        "volume": {"l": 1, "ml": F(1, 1000), "cl": F(1, 100), "dl": F(1, 10), "m3": 1000,
                   "cm3": F(1, 1000), "gal": gallon, "qt": gallon / 4, "pt": gallon / 8,
                   "cup": gallon / 16, "floz": fl_oz, "tbsp": fl_oz / 2, "tsp": fl_oz / 6,
                   "impgal": F("4.54609"), "imppt": F("4.54609") / 8},
        "time": {"s": 1, "ms": F(1, 1000), "us": F(1, 10**6), "ns": F(1, 10**9), "min": 60,
                 "h": 3600, "d": 86400, "wk": 604800, "mo": 2629800, "yr": 31557600},
        "data": {"B": 1, "bit": F(1, 8), "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
                 "PB": 10**15, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
                 "PiB": 2**50, "kbit": 125, "Mbit": 125 * 10**3, "Gbit": 125 * 10**6},
        "speed": {"m/s": 1, "km/h": F(1000, 3600), "mph": F("1609.344") / 3600,
                  "kn": F(1852, 3600), "ft/s": F("0.3048")},
        "temperature": {"C": 1, "F": 1, "K": 1},
    }  # fmt: skip
    return {sym: (cat, F(f)) for cat, units in groups.items() for sym, f in units.items()}


UNITS = _table()

# Exact spellings first (so "Mb" is a megabit and "MB" a megabyte), then a
# case-insensitive table of names and plurals.
_EXACT = {"b": "bit", "Mb": "Mbit", "Gb": "Gbit", "kb": "kbit", "µm": "um", "°C": "C", "°F": "F"}
_NAMES = {
    "meter": "m", "metre": "m", "kilometer": "km", "kilometre": "km", "centimeter": "cm",
    "centimetre": "cm", "millimeter": "mm", "millimetre": "mm", "micrometer": "um",
    "nanometer": "nm", "mile": "mi", "yard": "yd", "foot": "ft", "feet": "ft", "inch": "in",
    "inches": "in", "nautical mile": "nmi", "gram": "g", "gramme": "g", "kilogram": "kg",
    "kilo": "kg", "milligram": "mg", "tonne": "t", "ton": "t", "metric ton": "t", "pound": "lb",
    "lbs": "lb", "ounce": "oz", "stone": "st", "liter": "l", "litre": "l", "milliliter": "ml",
    "millilitre": "ml", "centiliter": "cl", "deciliter": "dl", "cubic meter": "m3",
    "m^3": "m3", "cc": "cm3", "gallon": "gal", "us gallon": "gal", "quart": "qt", "pint": "pt",
    "fl oz": "floz", "fluid ounce": "floz", "tablespoon": "tbsp", "teaspoon": "tsp",
    "imperial gallon": "impgal", "uk gallon": "impgal", "imperial pint": "imppt",
    "second": "s", "sec": "s", "millisecond": "ms", "microsecond": "us", "nanosecond": "ns",
    "minute": "min", "hour": "h", "hr": "h", "day": "d", "week": "wk", "month": "mo",
    "year": "yr", "byte": "B", "bits": "bit", "kilobyte": "kB", "megabyte": "MB",
    "gigabyte": "GB", "terabyte": "TB", "petabyte": "PB", "kibibyte": "KiB",
    "mebibyte": "MiB", "gibibyte": "GiB", "tebibyte": "TiB", "pebibyte": "PiB",
    "kilobit": "kbit", "megabit": "Mbit", "gigabit": "Gbit", "kph": "km/h", "kmh": "km/h",
    "kmph": "km/h", "kilometers per hour": "km/h", "miles per hour": "mph", "knot": "kn",
    "kt": "kn", "meters per second": "m/s", "mps": "m/s", "fps": "ft/s", "c": "C",
    "celsius": "C", "centigrade": "C", "degc": "C", "f": "F", "fahrenheit": "F", "degf": "F",
    "k": "K", "kelvin": "K",
}  # fmt: skip
_LOWER = {sym.lower(): sym for sym in UNITS} | _NAMES
_QUERY = re.compile(
    r"^\s*(?P<value>[-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<source>.+?)"
    r"\s+(?:to|in|into|as|->|=>|=)\s+(?P<target>.+?)\s*$"
)
_EXAMPLES = "km, mi, ft, kg, lb, C, F, l, gal, h, min, GB, GiB, km/h, mph"


class ConvertError(Exception):
    """A problem with the request, worded for the user."""


def unit(name: str) -> str:
    """The canonical symbol for ``name``."""
    text = " ".join(name.strip().split())
    if text in UNITS:
        return text
    if text in _EXACT:
        return _EXACT[text]
    lowered = text.lower().removesuffix(".")
    for candidate in (lowered, lowered.removesuffix("s"), lowered.removesuffix("es")):
        if candidate in _LOWER:
            return _LOWER[candidate]
    raise ConvertError(f"unknown unit {name.strip()!r}; try one of {_EXAMPLES}")


def convert(value: Fraction, source: str, target: str) -> Fraction:
    (source_kind, source_factor), (target_kind, target_factor) = UNITS[source], UNITS[target]
    if source_kind != target_kind:
        raise ConvertError(f"cannot convert {source} ({source_kind}) to {target} ({target_kind})")
    if source_kind == "temperature":
        return _from_kelvin(_to_kelvin(value, source), target)
    return value * source_factor / target_factor


def _to_kelvin(value: Fraction, scale: str) -> Fraction:
    kelvin = {"K": value, "C": value + F("273.15"), "F": (value - 32) * 5 / 9 + F("273.15")}
    if kelvin[scale] < 0:
        raise ConvertError(f"{_number(value)} {_label(scale)} is below absolute zero")
    return kelvin[scale]


def _from_kelvin(kelvin: Fraction, scale: str) -> Fraction:
    return {"K": kelvin, "C": kelvin - F("273.15"), "F": (kelvin - F("273.15")) * 9 / 5 + 32}[scale]


def _label(symbol: str) -> str:
    return f"°{symbol}" if symbol in ("C", "F") else symbol


def _number(value: Fraction) -> str:
    """``value`` to SIGNIFICANT digits, without an exponent for everyday sizes."""
    if value == 0:
        return "0"
    with localcontext() as context:
        context.prec = SIGNIFICANT
        rounded = +(Decimal(value.numerator) / Decimal(value.denominator))
    if -7 <= rounded.adjusted() < 15:
        text = format(rounded, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format(rounded.normalize(), "e")


def _parse_value(text: str) -> Fraction:
    try:
        number = Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise ConvertError(f"cannot read the number {text!r}") from None
    if not number.is_finite() or abs(number.adjusted()) > MAX_EXPONENT:
        raise ConvertError(f"{text} is out of range (at most 10^{MAX_EXPONENT})")
    return Fraction(number)


def answer(value: Fraction, source_name: str, target_name: str) -> dict[str, object]:
    source, target = unit(source_name), unit(target_name)
    result = convert(value, source, target)
    text = f"{_number(value)} {_label(source)} = {_number(result)} {_label(target)}"
    return {"value": float(result), "unit": target, "text": text}


def from_query(query: str) -> dict[str, object]:
    if len(query) > MAX_QUERY:
        raise ConvertError(f"the request is over {MAX_QUERY} characters")
    match = _QUERY.match(query)
    if match is None:
        raise ConvertError("write it like '10 km to mi', '72 F to C' or '1.5 GiB in MB'")
    return answer(_parse_value(match["value"]), match["source"], match["target"])


def from_fields(fields: dict[str, object]) -> dict[str, object]:
    number = fields["value"]
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        raise ConvertError("value must be a number")
    value = _parse_value(repr(number))  # the decimal the caller wrote, not the binary float
    return answer(value, str(fields["from"]), str(fields["to"]))


def main() -> None:
    try:
        request = json.load(sys.stdin)
        tool, fields = request.get("tool"), request["input"]
        if tool == "convert_query":
            output = from_query(fields["query"])
        elif tool == "convert":
            output = from_fields(fields)
        else:
            raise ConvertError(f"unknown tool {tool!r}")
        reply: dict[str, object] = {"output": output}
    except ConvertError as exc:
        reply = {"error": {"message": str(exc)}}
    json.dump(reply, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
