"""What an install or update would change, for a person to agree to before it happens.

Pure values and functions, no I/O: the permission difference between two
versions, the worse of two verdicts, and the reasons an update must ask
again (wider permissions, a worse verdict, another signer).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from registry.client_errors import BadAnswer
from registry.client_models import Release
from registry.model import Permissions
from registry.semver import VersionSyntaxError, parse_range, parse_version

__all__ = [
    "PermissionDiff",
    "check_resolved",
    "consent_reasons",
    "permission_diff",
    "worse_verdict",
]

_VERDICT_RANK = {"pass": 0, "review": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class PermissionDiff:
    """``added``: what the new version may reach that the old one may not; ``removed``: the rest."""

    added: Permissions
    removed: Permissions

    @property
    def widened(self) -> bool:
        return any(getattr(self.added, f.name) for f in fields(Permissions))


def _minus(left: Permissions, right: Permissions) -> Permissions:
    values = {
        f.name: tuple(x for x in getattr(left, f.name) if x not in getattr(right, f.name))
        for f in fields(Permissions)
    }
    return Permissions(**values)


def permission_diff(old: Permissions, new: Permissions) -> PermissionDiff:
    # Compared as declared strings: "*.example.com" then "api.example.com" counts as
    # a change, erring towards asking.
    return PermissionDiff(_minus(new, old), _minus(old, new))


def worse_verdict(*verdicts: str) -> str:
    """The most severe of ``verdicts`` (an unknown word counts as ``block``)."""
    return max(verdicts, key=lambda v: _VERDICT_RANK.get(v, 2))


def consent_reasons(
    diff: PermissionDiff, old_verdict: str, new_verdict: str, old_signer: str, new_signer: str
) -> tuple[str, ...]:
    """Why an update may not be applied without asking again (empty: it may)."""
    reasons = []
    if diff.widened:
        reasons.append("it asks for more permissions")
    if _VERDICT_RANK.get(new_verdict, 2) > _VERDICT_RANK.get(old_verdict, 2):
        reasons.append(f"its scan verdict went from {old_verdict} to {new_verdict}")
    if new_signer != old_signer:
        reasons.append(f"it is signed by another key ({new_signer}, was {old_signer})")
    return tuple(reasons)


def check_resolved(release: Release, owner: str, name: str, wanted: str) -> None:
    """Raise :class:`BadAnswer` unless ``release`` is ``owner/name`` in the range ``wanted``."""
    if (release.owner, release.name) != (owner, name):
        raise BadAnswer(f"asked for {owner}/{name}, the registry answered {release.skill}")
    try:
        # "latest" is the registry's tag (it may name a pre-release when nothing else exists).
        wanted_range = parse_range(wanted)
        version = parse_version(release.version)
        allowed = wanted_range.is_latest or wanted_range.allows(version)
    except VersionSyntaxError as exc:
        raise BadAnswer(f"the registry resolved {wanted!r} to {release.version!r}: {exc}") from None
    if not allowed:
        raise BadAnswer(
            f"the registry resolved {owner}/{name}@{wanted} to {release.version}, "
            "which is outside that range"
        )
    if release.deleted:
        raise BadAnswer(f"the registry resolved {wanted!r} to deleted version {release.version}")
