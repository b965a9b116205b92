"""Current time in a time zone, for the time skill: JSON request on stdin, JSON reply on stdout.

The time is the ``now`` the caller passes in the request's context, never the
clock, so replies are reproducible.  Zones are IANA names (``Europe/Paris``),
resolved case-insensitively, plus a small table of cities and abbreviations
and any city that names a zone (``Lisbon`` -> ``Europe/Lisbon``).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_ZONE = 64
HOW_TO = "write an IANA zone such as Europe/Paris or America/New_York, a city such as Tokyo, or UTC"
ALIASES = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "new york": "America/New_York", "nyc": "America/New_York", "ny": "America/New_York",
    "washington": "America/New_York", "boston": "America/New_York", "miami": "America/New_York",
    "est": "America/New_York", "edt": "America/New_York", "eastern": "America/New_York",
    "chicago": "America/Chicago", "cst": "America/Chicago", "central": "America/Chicago",
    "denver": "America/Denver", "mst": "America/Denver", "mountain": "America/Denver",
    "los angeles": "America/Los_Angeles", "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles", "pacific": "America/Los_Angeles",
    "london": "Europe/London", "uk": "Europe/London", "bst": "Europe/London",
    "paris": "Europe/Paris", "france": "Europe/Paris", "cet": "Europe/Paris",
    "cest": "Europe/Paris", "berlin": "Europe/Berlin", "germany": "Europe/Berlin",
    "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv",
    "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "india": "Asia/Kolkata",
    "ist": "Asia/Kolkata", "beijing": "Asia/Shanghai", "china": "Asia/Shanghai",
    "tokyo": "Asia/Tokyo", "japan": "Asia/Tokyo", "jst": "Asia/Tokyo",
    "sydney": "Australia/Sydney", "melbourne": "Australia/Melbourne",
    "sao paulo": "America/Sao_Paulo", "são paulo": "America/Sao_Paulo",
    "rio": "America/Sao_Paulo", "brazil": "America/Sao_Paulo",
    "mexico city": "America/Mexico_City", "hong kong": "Asia/Hong_Kong",
    "dubai": "Asia/Dubai", "uae": "Asia/Dubai",
}  # fmt: skip


class ClockError(Exception):
    """A problem with the request, worded for the user."""


def resolve(name: str) -> str:
    """The IANA key for ``name``: an alias, an exact key, or a case-insensitive match."""
    text = " ".join(name.strip().split())
    if not text:
        return "UTC"
    if len(text) > MAX_ZONE:
        raise ClockError(f"{text[:MAX_ZONE]!r}... is too long for a time zone; {HOW_TO}")
    if text.lower() in ALIASES:
        return ALIASES[text.lower()]
    key = _exact(text) or _search(text)
    if key is None:
        raise ClockError(f"unknown time zone {text!r}; {HOW_TO}")
    return key


def _exact(text: str) -> str | None:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return text


def _search(text: str) -> str | None:
    """Case-insensitive key, or a city as the zone's last part (``new york``)."""
    wanted = text.lower().replace(" ", "_")
    zones = sorted(available_timezones())
    for key in zones:
        if key.lower() == wanted:
            return key
    return next((key for key in zones if key.lower().rsplit("/", 1)[-1] == wanted), None)


def describe(now: float, key: str) -> dict[str, object]:
    moment = datetime.fromtimestamp(now, ZoneInfo(key))
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    when = f"{moment:%H:%M} on {moment:%A} {moment.day} {moment:%B %Y}"
    abbreviation = moment.tzname() or ""
    # Zones without a common abbreviation report "+0545" or "-03": skip those.
    named = abbreviation.isalpha() and abbreviation != "UTC"
    label = f"{abbreviation}, UTC{offset}" if named else f"UTC{offset}"
    return {
        "zone": key,
        "iso": moment.isoformat(timespec="seconds"),
        "utc_offset": offset,
        "abbreviation": abbreviation,
        "text": f"It is {when} in {key} ({label}).",
    }


def main() -> None:
    try:
        request = json.load(sys.stdin)
        if request.get("tool") != "current_time":
            raise ClockError(f"unknown tool {request.get('tool')!r}")
        now = request["context"]["now"]
        reply: dict[str, object] = {
            "output": describe(now, resolve(request["input"].get("zone", "")))
        }
    except ClockError as exc:
        reply = {"error": {"message": str(exc)}}
    json.dump(reply, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
