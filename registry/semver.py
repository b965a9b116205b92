"""Semantic versions (semver.org 2.0.0) and the ranges installs resolve.

Theory of operation
-------------------
A :class:`Version` is ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` with the
spec's precedence: numbers compare numerically, a pre-release sorts before
its release, pre-release identifiers compare numerically when both are
digits and as ASCII otherwise, and build metadata is ignored.  A published
version is the strict form only: no ``v`` prefix, no leading zeros, no
ranges (a publish of ``^1.2`` or ``latest`` is refused, as in the MCP
registry).

A :class:`Range` is a set of comparator sets joined by ``||``; a set is
comparators joined by ``,`` or spaces, all of which must hold:

====================  ===================================
``1.2.3``, ``=1.2.3``  exactly that version (a *pin*)
``^1.2``               ``>=1.2.0, <2.0.0`` (``^0.2`` stops at ``0.3.0``,
                       ``^0.0.3`` at ``0.0.4``: npm's caret)
``~1.2.3``, ``~1.2``   ``>=1.2.3, <1.3.0``; ``~1`` is ``>=1.0.0, <2.0.0``
``>=1, <2``            comparators ``<``, ``<=``, ``>``, ``>=``
``1.x``, ``1.2.*``     wildcards; ``*`` or ``latest`` is any version
====================  ===================================

:func:`resolve` picks the highest version a range allows among those
offered, following PEP 592 for yanked versions: they are skipped unless the
range is an exact pin.  Pre-releases are skipped unless the range names a
pre-release of the same ``MAJOR.MINOR.PATCH`` (npm's rule) or is a pin;
``latest`` is the highest release, or the highest pre-release when there is
no release at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

from registry.errors import RegistryError

__all__ = [
    "MAX_RANGE_CHARS",
    "MAX_VERSION_CHARS",
    "Candidate",
    "Comparator",
    "Range",
    "Version",
    "VersionSyntaxError",
    "parse_range",
    "parse_version",
    "resolve",
]

# Long enough for any real version; short enough to index and show.
MAX_VERSION_CHARS = 64
MAX_RANGE_CHARS = 256

_NUM = r"0|[1-9]\d*"
_ID = r"[0-9A-Za-z-]+"
_VERSION = re.compile(
    rf"^(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_ID}(?:\.{_ID})*))?(?:\+(?P<build>{_ID}(?:\.{_ID})*))?$"
)
# A partial version in a range: "1", "1.2", "1.x", "1.2.*", "1.2.3-rc.1".
_PARTIAL = re.compile(
    rf"^(?P<major>{_NUM}|[xX*])(?:\.(?P<minor>{_NUM}|[xX*])(?:\.(?P<patch>{_NUM}|[xX*])"
    rf"(?:-(?P<pre>{_ID}(?:\.{_ID})*))?(?:\+{_ID}(?:\.{_ID})*)?)?)?$"
)
_COMPARATOR = re.compile(r"^(?P<op><=|>=|<|>|=|\^|~)?\s*(?P<version>\S+)$")
_MAX_COMPONENT = 2**63 - 1  # fits SQLite's INTEGER, so the index can sort by it


class VersionSyntaxError(RegistryError, ValueError):
    """A version or range that does not parse; the message says what was expected."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A semantic version; ``build`` is kept for display but never compared."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: str = ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(part) for part in self.prerelease)
        return text + (f"+{self.build}" if self.build else "")

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def _key(self) -> tuple[tuple[int, int, int], int, tuple[tuple[int, int | str], ...]]:
        # A release sorts after every pre-release of the same core (spec item 11.3).
        parts = tuple((1, p) if isinstance(p, str) else (0, p) for p in self.prerelease)
        return (self.core, 0 if self.prerelease else 1, parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()


def parse_version(text: str) -> Version:
    """The strict semver ``text`` (``1.2.3``, ``1.0.0-rc.1+build.5``).

    Raises :class:`VersionSyntaxError` for anything else, ranges and tags included.
    """
    if len(text) > MAX_VERSION_CHARS:
        raise VersionSyntaxError(f"a version has at most {MAX_VERSION_CHARS} characters")
    match = _VERSION.match(text)
    if match is None:
        raise VersionSyntaxError(
            f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)"
        )
    pre = _checked_prerelease(match["pre"], text)
    return Version(
        _component(match["major"], text),
        _component(match["minor"], text),
        _component(match["patch"], text),
        _prerelease(pre),
        match["build"] or "",
    )


def _component(digits: str, text: str) -> int:
    value = int(digits)
    if value > _MAX_COMPONENT:
        raise VersionSyntaxError(f"{text!r}: a version number is at most {_MAX_COMPONENT}")
    return value


def _checked_prerelease(pre: str | None, text: str) -> str | None:
    if pre and any(part.isdigit() and len(part) > 1 and part[0] == "0" for part in pre.split(".")):
        raise VersionSyntaxError(f"{text!r}: numeric pre-release parts have no leading zeros")
    return pre


def _prerelease(text: str | None) -> tuple[int | str, ...]:
    if not text:
        return ()
    return tuple(int(part) if part.isdigit() else part for part in text.split("."))


Op = Literal["<", "<=", ">", ">=", "="]
_TESTS = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
    "=": lambda c: c == 0,
}


@dataclass(frozen=True, slots=True)
class Comparator:
    op: Op
    version: Version

    def allows(self, version: Version) -> bool:
        difference = (version > self.version) - (version < self.version)
        return bool(_TESTS[self.op](difference))

    def __str__(self) -> str:
        return f"{'' if self.op == '=' else self.op}{self.version}"


@dataclass(frozen=True, slots=True)
class Range:
    """``alternatives`` are ORed; the comparators of one alternative are ANDed."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    @property
    def pin(self) -> Version | None:
        """The one version an exact pin names (``1.2.3`` or ``=1.2.3``), else ``None``."""
        if len(self.alternatives) == 1 and len(self.alternatives[0]) == 1:
            (only,) = self.alternatives[0]
            return only.version if only.op == "=" else None
        return None

    @property
    def is_latest(self) -> bool:
        return self.alternatives == ((),)

    def allows(self, version: Version) -> bool:
        """Does ``version`` satisfy the range, pre-release rule included?"""
        return any(self._allows_in(alt, version) for alt in self.alternatives)

    @staticmethod
    def _allows_in(alternative: tuple[Comparator, ...], version: Version) -> bool:
        if not all(comparator.allows(version) for comparator in alternative):
            return False
        if not version.is_prerelease:
            return True
        # npm: a pre-release matches only a range naming a pre-release of its core.
        return any(c.version.is_prerelease and c.version.core == version.core for c in alternative)


_LOWEST = Version(0, 0, 0, (0,))


def parse_range(text: str) -> Range:
    """The range ``text`` (see the module docstring); raises :class:`VersionSyntaxError`."""
    if len(text) > MAX_RANGE_CHARS:
        raise VersionSyntaxError(f"a version range has at most {MAX_RANGE_CHARS} characters")
    stripped = text.strip()
    if stripped in {"", "*", "latest", "x", "X"}:
        if stripped == "":
            raise VersionSyntaxError("the version range is empty (use 'latest' or '*')")
        return Range(stripped, ((),))
    alternatives = tuple(_comparator_set(part, text) for part in stripped.split("||"))
    return Range(stripped, alternatives)


def _comparator_set(text: str, whole: str) -> tuple[Comparator, ...]:
    # ">= 1.2" is one comparator: glue an operator to the version after it.
    tokens = re.sub(r"(<=|>=|<|>|=|\^|~)\s+", r"\1", text.replace(",", " ")).split()
    if not tokens:
        raise VersionSyntaxError(f"{whole!r}: an empty alternative between '||'")
    return tuple(c for token in tokens for c in _expand(token, whole))


def _expand(token: str, whole: str) -> tuple[Comparator, ...]:
    match = _COMPARATOR.match(token)
    partial = _PARTIAL.match(match["version"]) if match else None
    if match is None or partial is None:
        raise VersionSyntaxError(
            f"{whole!r}: {token!r} is not a version comparator "
            "(examples: 1.2.3, ^1.2, ~1.2.3, >=1,<2, 1.x, latest)"
        )
    op = match["op"] or "="
    numbers = [partial[k] for k in ("major", "minor", "patch")]
    known = _known_prefix(numbers, whole)
    # As in npm, what follows a wildcard is ignored: "1.x.3" is "1.x".
    pre = _prerelease(_checked_prerelease(partial["pre"], whole)) if len(known) == 3 else ()
    return _comparators(op, known, pre)


def _known_prefix(numbers: list[str | None], whole: str) -> list[int]:
    known: list[int] = []
    for number in numbers:
        if number is None or number in {"x", "X", "*"}:
            break
        known.append(_component(number, whole))
    return known


def _comparators(op: str, known: list[int], pre: tuple[int | str, ...]) -> tuple[Comparator, ...]:
    if not known:
        # "<*" and ">*" match nothing (below the lowest version there is none);
        # "^*", "~*", "=*", ">=*", "<=*" match anything, as in npm.
        return (Comparator("<", _LOWEST),) if op in {"<", ">"} else ()
    major, minor, patch = [*known, 0, 0, 0][:3]
    low = Version(major, minor, patch, pre)
    if op in {"^", "~"}:
        return (Comparator(">=", low), Comparator("<", _upper(op, known)))
    if len(known) == 3:
        return (Comparator(_op(op), low),)
    upper = _bump(known, len(known) - 1)
    return _partial_comparators(op, low, upper)


def _partial_comparators(op: str, low: Version, upper: Version) -> tuple[Comparator, ...]:
    """``1.2`` as ``=`` means all of 1.2.x; ``<=1.2`` means below 1.3.0, ``>1.2`` from it."""
    table: dict[str, tuple[Comparator, ...]] = {
        "=": (Comparator(">=", low), Comparator("<", upper)),
        ">=": (Comparator(">=", low),),
        "<": (Comparator("<", low),),
        ">": (Comparator(">=", upper),),
        "<=": (Comparator("<", upper),),
    }
    return table[op]


def _upper(op: str, known: list[int]) -> Version:
    if op == "~":
        return _bump(known, min(len(known) - 1, 1))
    # Caret: the left-most non-zero number may not change (npm's rule).
    first_nonzero = next((i for i, n in enumerate(known) if n != 0), len(known) - 1)
    return _bump(known, min(first_nonzero, len(known) - 1))


def _bump(known: list[int], index: int) -> Version:
    numbers = [*known, 0, 0, 0][:3]
    numbers[index] += 1
    for later in range(index + 1, 3):
        numbers[later] = 0
    # A plain release as the bound: the pre-release rule already keeps out
    # 2.0.0-rc.1 from "^1.2", since the range names no pre-release of 2.0.0.
    return Version(numbers[0], numbers[1], numbers[2])


def _op(op: str) -> Op:
    if op in _TESTS:
        return op  # type: ignore[return-value]
    raise VersionSyntaxError(f"unknown operator {op!r}")  # pragma: no cover - regex-guarded


@dataclass(frozen=True, slots=True)
class Candidate:
    """A published version as resolution sees it."""

    version: Version
    yanked: bool = False


def resolve(candidates: Iterable[Candidate], wanted: Range) -> Version | None:
    """The highest candidate ``wanted`` allows, or ``None``.

    Yanked candidates count only for an exact pin (PEP 592).
    """
    pin = wanted.pin
    offered = list(candidates)
    if pin is not None:
        return next((c.version for c in offered if c.version == pin), None)
    live = [c.version for c in offered if not c.yanked]
    if wanted.is_latest:
        releases = [v for v in live if not v.is_prerelease]
        return max(releases or live, default=None)
    return max((v for v in live if wanted.allows(v)), default=None)
