"""The name policy for new skills: slug rules, reserved names, look-alikes (pure functions).

Theory of operation
-------------------
ClawHavoc's typosquats (``clawwhub``, ``cllawhub``, ``clawhubcli`` next to
``clawhub``) worked because a registry accepted any free name.  Here
:func:`check_new_name` decides, for ``owner/name``:

* **reject** — the name breaks the slug rule (the Agent Skills name rule:
  1-64 of ``a-z0-9-``, no edge or double hyphen), or it is reserved: a word
  of the platform (``admin``, ``official``, ...) or a first-party skill's
  name, for anyone but the first-party owner;
* **hold for review** — it looks like a name another owner already has:
  the same :func:`skeleton` (TR39-style: look-alike characters folded,
  ``rn``→``m``, separators removed), a Damerau-Levenshtein distance within
  :meth:`NamePolicy.max_distance`, or the other name plus a short affix
  (``clawhub`` + ``cli``);
* **accept** — otherwise.  An owner's own names never hold its new ones.

The server passes the names to compare with (all of them, or the popular
ones); nothing here stores anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from registry.skillmd import name_problems

__all__ = [
    "DEFAULT_POLICY",
    "NameDecision",
    "NamePolicy",
    "NameVerdict",
    "check_new_name",
    "damerau_levenshtein",
    "skeleton",
]

RESERVED_WORDS = frozenset(
    {
        "skillyard", "admin", "administrator", "api", "official", "system", "root", "support",
        "security", "help", "registry", "verified", "staff", "moderator", "www", "login",
        "settings", "anthropic", "openai", "claude", "openclaw", "clawhub", "agentskills",
    }
)  # fmt: skip
FIRST_PARTY_OWNER = "skillyard"
FIRST_PARTY_SKILLS = frozenset({"calculator", "unit-convert", "time", "notes"})
# Short additions that make an impersonation read as "the real thing, plus".
_AFFIXES = frozenset(
    {
        "cli", "app", "apps", "official", "pro", "plus", "tool", "tools", "bot", "ai", "api",
        "sdk", "helper", "update", "updater", "new", "real", "v2", "v3", "latest", "x", "hq",
    }
)  # fmt: skip
_SEPARATORS = str.maketrans("", "", "-_. ")
# Look-alikes, after TR39's confusables.txt, folded onto ASCII (escaped: the point of
# the table is that the keys look like the values).
_CONFUSABLE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "I": "l",
        "|": "l",
        "\u0131": "i",  # LATIN SMALL LETTER DOTLESS I
        "\u0430": "a",  # CYRILLIC SMALL LETTER A
        "\u0432": "b",  # CYRILLIC SMALL LETTER VE
        "\u0435": "e",  # CYRILLIC SMALL LETTER IE
        "\u043a": "k",  # CYRILLIC SMALL LETTER KA
        "\u043c": "m",  # CYRILLIC SMALL LETTER EM
        "\u043d": "h",  # CYRILLIC SMALL LETTER EN
        "\u043e": "o",  # CYRILLIC SMALL LETTER O
        "\u0440": "p",  # CYRILLIC SMALL LETTER ER
        "\u0441": "c",  # CYRILLIC SMALL LETTER ES
        "\u0442": "t",  # CYRILLIC SMALL LETTER TE
        "\u0443": "y",  # CYRILLIC SMALL LETTER U
        "\u0445": "x",  # CYRILLIC SMALL LETTER HA
        "\u0456": "i",  # CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
        "\u0458": "j",  # CYRILLIC SMALL LETTER JE
        "\u0455": "s",  # CYRILLIC SMALL LETTER DZE
        "\u0501": "d",  # CYRILLIC SMALL LETTER KOMI DE
        "\u051b": "q",  # CYRILLIC SMALL LETTER QA
        "\u051d": "w",  # CYRILLIC SMALL LETTER WE
        "\u0261": "g",  # LATIN SMALL LETTER SCRIPT G
        "\u03bf": "o",  # GREEK SMALL LETTER OMICRON
        "\u03b1": "a",  # GREEK SMALL LETTER ALPHA
        "\u03bd": "v",  # GREEK SMALL LETTER NU
        "\u03b9": "i",  # GREEK SMALL LETTER IOTA
        "\u03ba": "k",  # GREEK SMALL LETTER KAPPA
        "\u03c1": "p",  # GREEK SMALL LETTER RHO
        "\u03c4": "t",  # GREEK SMALL LETTER TAU
        "\u03c5": "u",  # GREEK SMALL LETTER UPSILON
        "\u03c7": "x",  # GREEK SMALL LETTER CHI
        "\u03b5": "e",  # GREEK SMALL LETTER EPSILON
        "\u03b2": "b",  # GREEK SMALL LETTER BETA
    }
)
_CLUSTERS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


class NameVerdict(StrEnum):
    ACCEPT = "accept"
    HOLD = "hold_for_review"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class NamePolicy:
    """Reserved names and similarity thresholds, built once by the server."""

    reserved: frozenset[str] = RESERVED_WORDS
    first_party_owner: str = FIRST_PARTY_OWNER
    first_party: frozenset[str] = FIRST_PARTY_SKILLS
    tiny: int = 4  # up to this length only skeletons count: every 4-letter word is 1 edit from many
    short: int = 9  # up to this length one edit counts, beyond it two
    min_affix_base: int = 5

    def max_distance(self, length: int) -> int:
        if length <= self.tiny:
            return 0
        return 1 if length <= self.short else 2


DEFAULT_POLICY = NamePolicy()


@dataclass(frozen=True, slots=True)
class NameDecision:
    """The verdict on a new name, the reasons, and the ``(owner, name)`` pairs it resembles."""

    verdict: NameVerdict
    reasons: tuple[str, ...] = ()
    similar_to: tuple[tuple[str, str], ...] = field(default=())

    @property
    def accepted(self) -> bool:
        return self.verdict is NameVerdict.ACCEPT


@lru_cache(maxsize=1 << 16)
def skeleton(name: str) -> str:
    """``name`` with look-alike characters folded together and separators removed.

    Cached: the server compares each new name with every existing one.
    """
    text = unicodedata.normalize("NFKC", name).translate(_CONFUSABLE).casefold()
    text = unicodedata.normalize("NFKC", text).translate(_CONFUSABLE)
    for cluster, letter in _CLUSTERS:
        text = text.replace(cluster, letter)
    return text.translate(_SEPARATORS)


def damerau_levenshtein(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance of ``a`` and ``b``, or ``limit + 1`` if over it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            cost = char != other
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


def check_new_name(
    name: str,
    owner: str,
    existing: Iterable[tuple[str, str]],
    *,
    policy: NamePolicy = DEFAULT_POLICY,
) -> NameDecision:
    """May ``owner`` publish a skill called ``name``?  ``existing``: ``(owner, name)`` pairs."""
    problems = name_problems(name)
    if problems:
        return NameDecision(NameVerdict.REJECT, tuple(f"name {name!r} {p}" for p in problems))
    reserved = _reserved_reason(name, owner, policy)
    if reserved is not None:
        return NameDecision(NameVerdict.REJECT, (reserved,))
    reasons, similar = [], []
    mine = _Name(name, skeleton(name), name.translate(_SEPARATORS))
    for other_owner, other, label in _compared(existing, policy):
        why = None if other_owner == owner else _resemblance(mine, other, policy)
        if why is not None:
            reasons.append(f"{name!r} {why} {label}")
            similar.append((other_owner, other))
    if reasons:
        return NameDecision(NameVerdict.HOLD, tuple(reasons), tuple(similar))
    return NameDecision(NameVerdict.ACCEPT)


def _compared(
    existing: Iterable[tuple[str, str]], policy: NamePolicy
) -> Iterable[tuple[str, str, str]]:
    """``(owner, name, how to call it)`` for every name a new one must not resemble."""
    for word in sorted(policy.reserved):
        yield policy.first_party_owner, word, f"the reserved name {word!r}"
    for word in sorted(policy.first_party):
        yield policy.first_party_owner, word, f"{policy.first_party_owner}/{word}"
    for other_owner, other in existing:
        yield other_owner, other, f"{other_owner}/{other}"


def _reserved_reason(name: str, owner: str, policy: NamePolicy) -> str | None:
    if owner == policy.first_party_owner:
        return None
    if name in policy.reserved:
        return f"{name!r} is a reserved name"
    if name in policy.first_party:
        return f"{name!r} is the name of a first-party skill ({policy.first_party_owner}/{name})"
    return None


@dataclass(frozen=True, slots=True)
class _Name:
    text: str
    skeleton: str
    plain: str  # separators removed


def _resemblance(mine: _Name, other: str, policy: NamePolicy) -> str | None:
    """How the new name resembles ``other`` (a phrase), or ``None``."""
    if mine.text == other:
        return "is the same name as"
    theirs = skeleton(other)
    if mine.skeleton == theirs:
        return "looks the same as"
    limit = policy.max_distance(min(len(mine.skeleton), len(theirs)))
    if limit and damerau_levenshtein(mine.skeleton, theirs, limit) <= limit:
        return "is a small edit away from"
    base = other.translate(_SEPARATORS)
    if len(base) >= policy.min_affix_base and _affixed(mine.plain, base):
        return "adds an affix to"
    return None


def _affixed(mine: str, base: str) -> bool:
    if mine.startswith(base):
        return mine[len(base) :] in _AFFIXES or mine[len(base) :].isdigit()
    if mine.endswith(base):
        return mine[: -len(base)] in _AFFIXES
    return False
