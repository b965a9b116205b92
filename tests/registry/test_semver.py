"""Versions and ranges: semver 2.0.0 precedence, npm-style ranges, PEP 592 yanks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.semver import (
    Candidate,
    VersionSyntaxError,
    parse_range,
    parse_version,
    resolve,
)
from registry.server.spec import openapi_document


def test_precedence_follows_the_spec_example() -> None:
    # semver.org §11.4, in order.
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    parsed = [parse_version(v) for v in ordered]
    shuffled = parsed[1::2] + parsed[::2]
    assert sorted(shuffled) == parsed


def test_build_metadata_is_kept_but_not_compared() -> None:
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")
    assert str(parse_version("1.0.0-rc.1+build.5")) == "1.0.0-rc.1+build.5"


@pytest.mark.parametrize(
    "text",
    ["1.2", "v1.2.3", "01.2.3", "1.2.3-01", "^1.2.3", "latest", "1.2.3 ", "", "1.2.3-", "1." * 40],
)
def test_only_strict_versions_are_versions(text: str) -> None:
    with pytest.raises(VersionSyntaxError):
        parse_version(text)


CASES = {
    "^1.2": (["1.2.0", "1.9.9"], ["1.1.9", "2.0.0", "2.0.0-rc.1", "1.5.0-beta"]),
    "^0.2.3": (["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    "^0.0.3": (["0.0.3"], ["0.0.4"]),
    "~1.2.3": (["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
    "~1.2": (["1.2.0", "1.2.7"], ["1.3.0"]),
    "~1": (["1.0.0", "1.9.0"], ["2.0.0"]),
    ">=1,<2": (["1.0.0", "1.99.0"], ["2.0.0", "0.9.0"]),
    ">= 1.2 < 1.4": (["1.2.0", "1.3.5"], ["1.4.0"]),
    "1.2.3": (["1.2.3"], ["1.2.4"]),
    "=1.2.3": (["1.2.3"], ["1.2.4"]),
    "1.x": (["1.0.0", "1.4.2"], ["2.0.0"]),
    "1.2.*": (["1.2.0", "1.2.8"], ["1.3.0"]),
    "<=1.2": (["1.2.9", "0.1.0"], ["1.3.0"]),
    ">1.2": (["1.3.0"], ["1.2.9"]),
    "^1.2.3-beta.1": (["1.2.3-beta.2", "1.2.3", "1.4.0"], ["1.2.4-beta.1", "1.2.3-alpha"]),
    "1.0.0 || ^3": (["1.0.0", "3.1.0"], ["2.0.0"]),
    "*": (["0.0.1", "9.0.0"], ["1.0.0-rc.1"]),
    # npm's leniency: what follows a wildcard is ignored; "<*" allows nothing.
    "1.x.2": (["1.0.0", "1.9.9"], ["2.0.0"]),
    "~x": (["0.1.0", "5.0.0"], []),
    "<*": ([], ["0.0.0", "1.0.0"]),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_ranges(text: str) -> None:
    wanted = parse_range(text)
    allowed, refused = CASES[text]
    assert [v for v in allowed if not wanted.allows(parse_version(v))] == []
    assert [v for v in refused if wanted.allows(parse_version(v))] == []


@pytest.mark.parametrize(
    "text",
    ["", "^", ">>1", "1.2.3 ||", "^1.2-rc", "1.2.3.4", "1.2.3-01", "a" * 300, "9" * 20],
)
def test_bad_ranges_say_what_is_expected(text: str) -> None:
    with pytest.raises(VersionSyntaxError):
        parse_range(text)


def offered(*versions: str, yanked: tuple[str, ...] = ()) -> list[Candidate]:
    return [Candidate(parse_version(v), v in yanked) for v in versions]


def test_yanked_versions_resolve_only_when_pinned() -> None:
    pool = offered("1.0.0", "1.1.0", "1.2.0", yanked=("1.2.0",))
    assert str(resolve(pool, parse_range("^1"))) == "1.1.0"
    assert str(resolve(pool, parse_range("latest"))) == "1.1.0"
    assert str(resolve(pool, parse_range("1.2.0"))) == "1.2.0"
    assert resolve(pool, parse_range("^2")) is None


def test_latest_prefers_releases_but_falls_back_to_prereleases() -> None:
    assert str(resolve(offered("1.0.0", "2.0.0-rc.1"), parse_range("latest"))) == "1.0.0"
    assert str(resolve(offered("2.0.0-rc.1", "2.0.0-rc.2"), parse_range("latest"))) == "2.0.0-rc.2"
    assert resolve([], parse_range("latest")) is None


versions = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-rc.{pre}" if pre is not None else ""),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.none() | st.integers(0, 3),
)


@given(st.lists(versions, min_size=1, max_size=12, unique=True), versions)
def test_resolution_picks_the_highest_allowed(pool: list[str], anchor: str) -> None:
    for text in (f"^{anchor}", f"~{anchor}", f">={anchor}", anchor):
        wanted = parse_range(text)
        got = resolve(offered(*pool), wanted)
        allowed = [parse_version(v) for v in pool if wanted.allows(parse_version(v))]
        if wanted.pin is None:
            assert got == max(allowed, default=None)
        else:
            assert got == (wanted.pin if anchor in pool else None)


def _pattern(name: str) -> str:
    document = openapi_document()
    if name == "Version":
        pattern: str = document["components"]["schemas"]["Version"]["pattern"]
        return pattern
    resolve = document["paths"]["/skills/{owner}/{name}/resolve"]["get"]
    (param,) = [p for p in resolve["parameters"] if p["name"] == "range"]
    return str(param["schema"]["pattern"])


@settings(max_examples=60)
@given(st.from_regex(_pattern("Version"), fullmatch=True).filter(lambda v: len(v) <= 64))
def test_every_version_the_document_allows_parses(text: str) -> None:
    assert str(parse_version(text)) == text


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(_pattern("range"), fullmatch=True).filter(lambda r: len(r) <= 256))
def test_every_range_the_document_allows_parses(text: str) -> None:
    parse_range(text)
