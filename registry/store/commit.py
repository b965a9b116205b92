"""The publish steps that need the index: the name check, immutability, the commit.

:func:`commit` stores a checked version in one transaction: the skill row
(if new, held when the name check said so), the transparency-log entry, the
registry's countersignature over the publisher's statement and the log
index, the version and its files, and the refreshed search row.  If another
publish of the same version won a race, it raises :class:`Conflict` and
nothing of this one is kept (its blob may stay: it is content-addressed and
harmless).
"""

from __future__ import annotations

from registry.names import NameVerdict, check_new_name, skeleton
from registry.signing import PublishStatement, RegistryStatement, SigningKey
from registry.store.db import Database
from registry.store.errors import Conflict, NameRejected
from registry.store.index import NewVersion, SkillIndex
from registry.store.log import LogStore
from registry.store.publish import PublishRequest
from registry.store.records import VersionRecord
from registry.translog import LogEntry

__all__ = ["commit", "existing_version", "name_hold"]


def name_hold(db: Database, index: SkillIndex, request: PublishRequest, top: int) -> str:
    """``""`` for a free name (or an existing skill), else why it is held; refusals raise."""
    with db.read() as conn:
        if index.skill_id(conn, request.owner, request.name) is not None:
            return ""
        existing = index.names(conn, skeleton(request.name), top)
    decision = check_new_name(request.name, request.owner, existing)
    if decision.verdict is NameVerdict.REJECT:
        raise NameRejected("; ".join(decision.reasons))
    return "; ".join(decision.reasons)


def existing_version(
    db: Database, index: SkillIndex, request: PublishRequest, content_hash: str
) -> VersionRecord | None:
    """The same content published before (a retry), or ``None``; other content raises."""
    with db.read() as conn:
        found = index.version_row(conn, request.owner, request.name, request.version)
    if found is None:
        return None
    record, where = found[1], f"{request.skill}@{request.version}"
    if record.deleted_at is not None:
        raise Conflict(f"{where} was deleted; version numbers are never reused")
    if record.content_hash != content_hash:
        raise Conflict(
            f"{where} exists with other content ({record.content_hash}); versions are immutable"
        )
    return record


def commit(
    db: Database,
    index: SkillIndex,
    log: LogStore,
    key: SigningKey,
    request: PublishRequest,
    new: NewVersion,
    *,
    hold_reason: str,
    now: float,
) -> None:
    """Store ``new`` for ``request``, logged and countersigned, in one transaction."""
    entry = LogEntry(
        "publish", request.skill, request.version, new.content_hash, request.key_id,
        request.signature,
    )  # fmt: skip
    with db.write() as conn:
        if index.version_row(conn, request.owner, request.name, request.version):
            raise Conflict(f"{request.skill}@{request.version} was published meanwhile")
        skill_id = index.skill_id(conn, request.owner, request.name)
        if skill_id is None:
            shape = skeleton(request.name)
            skill_id = index.add_skill(conn, request.owner, request.name, shape, now, hold_reason)
        position = log.append(conn, entry, now)
        publish = PublishStatement(request.skill, request.version, new.content_hash)
        statement = RegistryStatement(publish, request.key_id, request.signature, position)
        index.add_version(
            conn, skill_id, new, now, (key.key_id, key.sign(statement.encode()), position)
        )
        index.refresh(conn, skill_id, now)
