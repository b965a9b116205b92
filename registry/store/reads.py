"""Read-side assembly: a skill with all its versions, as its page and the API show it."""

from __future__ import annotations

from registry.store.db import Database
from registry.store.errors import NotFound
from registry.store.index import SkillIndex
from registry.store.records import Principal, SkillRecord, SkillSummary

__all__ = ["skill_record"]

_SELECT_SKILL = (
    "SELECT owner, name, description, current_version, verdict, has_tools, downloads,"
    " updated_at, tags, held, created_at, hold_reason FROM skills"
)


def skill_record(
    db: Database, index: SkillIndex, owner: str, name: str, viewer: Principal
) -> SkillRecord:
    """The skill and its versions, newest first; a held one only for its owner and the admin."""
    with db.read() as conn:
        row = conn.execute(
            _SELECT_SKILL + " WHERE owner = ? AND name = ?",
            (owner, name),
        ).fetchone()
    if row is None or (row[9] and not viewer.may_act_for(owner)):
        raise NotFound(f"no skill {owner}/{name}")
    summary = SkillSummary(
        owner=row[0],
        name=row[1],
        description=row[2],
        current_version=row[3],
        verdict=row[4],
        has_tools=bool(row[5]),
        downloads=row[6],
        updated_at=row[7],
        tags=tuple(row[8].split()),
        held=bool(row[9]),
    )
    return SkillRecord(summary, row[10], row[11], tuple(index.versions(owner, name)))
