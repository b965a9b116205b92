"""Read-side assembly: a skill with all its versions, as its page and the API show it."""

from __future__ import annotations

from registry.store.codec import SUMMARY_COLUMNS, summary_from_row
from registry.store.db import Database
from registry.store.errors import NotFound
from registry.store.index import SkillIndex
from registry.store.records import Principal, SkillRecord

__all__ = ["skill_record"]

_SELECT_SKILL = f"SELECT {SUMMARY_COLUMNS}, s.created_at, s.hold_reason FROM skills s"  # noqa: S608


def skill_record(
    db: Database, index: SkillIndex, owner: str, name: str, viewer: Principal
) -> SkillRecord:
    """The skill and its versions, newest first; a held one only for its owner and the admin."""
    with db.read() as conn:
        row = conn.execute(
            _SELECT_SKILL + " WHERE s.owner = ? AND s.name = ?",
            (owner, name),
        ).fetchone()
    if row is None or (row[10] and not viewer.may_act_for(owner)):
        raise NotFound(f"no skill {owner}/{name}")
    versions = tuple(index.versions(owner, name))
    return SkillRecord(summary_from_row(row), row[11], row[12], versions)
