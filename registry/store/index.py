"""The skill index: skills, versions and their files, and the search row of each skill.

Each skill row carries its *current* version's description, tags, verdict
and tool flag, so search never joins versions.  The current version is what
``latest`` resolves to among versions that are neither deleted nor blocked
(:meth:`SkillIndex.refresh`, called after every change to a skill's
versions).  A skill has a row in ``skills_fts`` only while it has a current
version and its name is not held for review: search shows nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from registry.files import PackageFile
from registry.scan.model import ScanReport, Verdict
from registry.semver import Candidate, parse_range, parse_version, resolve
from registry.store.codec import VERSION_SELECT, info_json, version_from_row
from registry.store.db import Database
from registry.store.errors import NotFound
from registry.store.records import FileEntry, VersionInfo, VersionRecord

__all__ = ["NewVersion", "SkillIndex"]

_LATEST = parse_range("latest")


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version ready to be stored: everything the publish pipeline established."""

    version: str
    content_hash: str
    archive_sha256: str
    archive_size: int
    publisher_key_id: str
    publisher_signature: bytes
    scan: ScanReport
    info: VersionInfo
    skill_md: str
    warnings: tuple[str, ...]
    files: tuple[PackageFile, ...]


class SkillIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writes: each takes the caller's transaction ------------------------------

    def skill_id(self, conn: sqlite3.Connection, owner: str, name: str) -> int | None:
        row = conn.execute(
            "SELECT id FROM skills WHERE owner = ? AND name = ?", (owner, name)
        ).fetchone()
        return None if row is None else int(row[0])

    def add_skill(
        self, conn: sqlite3.Connection, owner: str, name: str, skeleton: str, now: float,
        hold_reason: str,
    ) -> int:  # fmt: skip
        cursor = conn.execute(
            "INSERT INTO skills (owner, name, skeleton, created_at, updated_at, held, hold_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (owner, name, skeleton, now, now, int(bool(hold_reason)), hold_reason),
        )
        return int(cursor.lastrowid or 0)

    def add_version(
        self, conn: sqlite3.Connection, skill_id: int, new: NewVersion, now: float,
        signed: tuple[str, bytes, int],
    ) -> int:  # fmt: skip
        """Insert ``new``; ``signed`` is (registry key id, countersignature, log index)."""
        registry_key_id, registry_signature, log_index = signed
        cursor = conn.execute(
            "INSERT INTO versions (skill_id, version, content_hash, archive_sha256, archive_size,"
            " published_at, publisher_key_id, publisher_signature, registry_key_id,"
            " registry_signature, log_index, verdict, scan, ruleset, manifest, skill_md, warnings)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                skill_id, new.version, new.content_hash, new.archive_sha256, new.archive_size,
                now, new.publisher_key_id, new.publisher_signature, registry_key_id,
                registry_signature, log_index, str(new.scan.verdict), _scan_json(new.scan),
                new.scan.ruleset, info_json(new.info), new.skill_md, json.dumps(new.warnings),
            ),
        )  # fmt: skip
        version_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO files (version_id, path, size, executable, sha256) VALUES (?, ?, ?, ?, ?)",
            [(version_id, *_file_row(f)) for f in new.files],
        )
        return version_id

    def set_yanked(
        self, conn: sqlite3.Connection, version_id: int, at: float | None, reason: str
    ) -> None:
        conn.execute(
            "UPDATE versions SET yanked_at = ?, yank_reason = ? WHERE id = ?",
            (at, reason, version_id),
        )

    def set_deleted(self, conn: sqlite3.Connection, version_id: int, at: float) -> None:
        conn.execute("UPDATE versions SET deleted_at = ? WHERE id = ?", (at, version_id))
        conn.execute("DELETE FROM files WHERE version_id = ?", (version_id,))

    def set_scan(self, conn: sqlite3.Connection, version_id: int, report: ScanReport) -> None:
        conn.execute(
            "UPDATE versions SET verdict = ?, scan = ?, ruleset = ? WHERE id = ?",
            (str(report.verdict), _scan_json(report), report.ruleset, version_id),
        )

    def release(self, conn: sqlite3.Connection, skill_id: int) -> None:
        conn.execute("UPDATE skills SET held = 0, hold_reason = '' WHERE id = ?", (skill_id,))

    def count_download(self, conn: sqlite3.Connection, owner: str, name: str) -> None:
        conn.execute(
            "UPDATE skills SET downloads = downloads + 1 WHERE owner = ? AND name = ?",
            (owner, name),
        )

    def refresh(self, conn: sqlite3.Connection, skill_id: int, now: float) -> None:
        """Recompute the skill's current version and its search row."""
        rows = conn.execute(
            "SELECT version, yanked_at IS NOT NULL, manifest, skill_md, verdict FROM versions"
            " WHERE skill_id = ? AND deleted_at IS NULL AND verdict != ?",
            (skill_id, str(Verdict.BLOCK)),
        ).fetchall()
        by_version = {parse_version(row[0]): row for row in rows}
        current = resolve((Candidate(v, bool(r[1])) for v, r in by_version.items()), _LATEST)
        conn.execute("DELETE FROM skills_fts WHERE rowid = ?", (skill_id,))
        if current is None:
            conn.execute(
                "UPDATE skills SET current_version = NULL, updated_at = ? WHERE id = ?",
                (now, skill_id),
            )
            return
        self._set_current(conn, skill_id, by_version[current], now)

    def _set_current(
        self, conn: sqlite3.Connection, skill_id: int, row: Sequence[object], now: float
    ) -> None:
        version, _, manifest, skill_md, verdict = row
        info = json.loads(str(manifest))
        has_tools = bool(info["tools"])
        tags = " ".join(info["tags"])
        conn.execute(
            "UPDATE skills SET current_version = ?, description = ?, tags = ?, verdict = ?,"
            " has_tools = ?, updated_at = ? WHERE id = ?",
            (version, info["description"], tags, verdict, int(has_tools), now, skill_id),
        )
        name, held = conn.execute(
            "SELECT name, held FROM skills WHERE id = ?", (skill_id,)
        ).fetchone()
        if not held:
            conn.execute(
                "INSERT INTO skills_fts (rowid, name, description, tags, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (skill_id, name, info["description"], tags, skill_md),
            )

    # -- reads --------------------------------------------------------------------

    def version_row(
        self, conn: sqlite3.Connection, owner: str, name: str, version: str
    ) -> tuple[int, VersionRecord] | None:
        row = conn.execute(
            VERSION_SELECT + " WHERE s.owner = ? AND s.name = ? AND v.version = ?",
            (owner, name, version),
        ).fetchone()
        return None if row is None else (int(row[-1]), version_from_row(row))

    def version(self, owner: str, name: str, version: str) -> tuple[int, VersionRecord]:
        with self._db.read() as conn:
            found = self.version_row(conn, owner, name, version)
        if found is None:
            raise NotFound(f"{owner}/{name} has no version {version}")
        return found

    def versions(self, owner: str, name: str) -> list[VersionRecord]:
        """Every version of the skill, newest first (deleted ones included)."""
        with self._db.read() as conn:
            rows = conn.execute(
                VERSION_SELECT + " WHERE s.owner = ? AND s.name = ?", (owner, name)
            ).fetchall()
        records = [version_from_row(row) for row in rows]
        return sorted(records, key=lambda r: parse_version(r.version), reverse=True)

    def files(self, version_id: int) -> list[FileEntry]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT path, size, executable, sha256 FROM files WHERE version_id = ?"
                " ORDER BY path",
                (version_id,),
            ).fetchall()
        return [
            FileEntry(path, size, bool(executable), sha) for path, size, executable, sha in rows
        ]

    def names(self, conn: sqlite3.Connection, skeleton: str, top: int) -> list[tuple[str, str]]:
        """``(owner, name)`` pairs a new name must not resemble: same skeleton, or popular."""
        rows = conn.execute(
            "SELECT owner, name FROM skills WHERE skeleton = ?"
            " UNION SELECT owner, name FROM (SELECT owner, name FROM skills"
            " ORDER BY downloads DESC, id LIMIT ?)",
            (skeleton, top),
        ).fetchall()
        return [(owner, name) for owner, name in rows]


def _scan_json(report: ScanReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True)


def _file_row(file: PackageFile) -> tuple[str, int, int, str]:
    return (file.path, len(file.data), int(file.executable), hashlib.sha256(file.data).hexdigest())
