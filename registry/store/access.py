"""Who may see and do what with a version: the rules every front end gets from the store."""

from __future__ import annotations

from registry.scan.model import Verdict
from registry.store.errors import Forbidden, Gone, NotFound, Unauthenticated, Unavailable
from registry.store.records import Principal, VersionRecord

__all__ = ["installable", "require", "servable", "visible"]


def require(principal: Principal, owner: str) -> None:
    """Raise unless ``principal`` may act for namespace ``owner``."""
    if not principal.authenticated:
        raise Unauthenticated("this needs a registry token (Authorization: Bearer …)")
    if not principal.may_act_for(owner):
        raise Forbidden(f"your token acts for {principal.publisher!r}, not for {owner!r}")


def installable(record: VersionRecord) -> bool:
    """May resolution pick it?  (Yanks are the resolver's business: pins may.)"""
    return record.deleted_at is None and record.scan.verdict != Verdict.BLOCK


def visible(record: VersionRecord, viewer: Principal) -> None:
    """A held name is seen by its owner and the admin only; others get "not found"."""
    if record.held and not viewer.may_act_for(record.owner):
        raise NotFound(f"no skill {record.owner}/{record.name}")


def servable(record: VersionRecord) -> None:
    """Raise unless its files may be served: not deleted, not blocked."""
    if record.deleted_at is not None:
        raise Gone(f"{record.skill}@{record.version} was deleted")
    if record.scan.verdict == Verdict.BLOCK:
        raise Unavailable(f"{record.skill}@{record.version} is blocked by the scanner")
