"""The registry as one object: publishers, the publish pipeline, versions' lifecycle, the log.

Theory of operation
-------------------
:class:`Registry` owns a database (:mod:`registry.store.db`), a blob store
(:mod:`registry.store.blobs`) and the registry's signing key, all under one
root folder (``<data_dir>/registry``)::

    registry.db            SQLite (WAL): publishers, tokens, keys, skills, versions, log
    blobs/sha256/ab/cd…    package archives, addressed by their SHA-256
    keys/registry.ed25519  the registry's Ed25519 key, mode 0600, made on first start

A publish runs :mod:`registry.store.publish`'s checks and the name check
against the index, then stores the blob and, in one transaction
(:mod:`registry.store.commit`), the version, its transparency-log entry and
the registry's countersignature (which names the log index).  Versions are
immutable: the same number with other content is refused forever, deleted or
not (the row stays as a tombstone).  A yank hides a version from resolution unless pinned exactly
and is logged too.

Every method that changes something takes the caller's :class:`Principal`
and checks it here, so no front end can forget to.  Methods are blocking;
an async caller runs :meth:`publish` and :meth:`rescan` in a worker thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.archive import unpack
from registry.scan import RULESET_VERSION
from registry.semver import Candidate, parse_range, parse_version, resolve
from registry.signing import (
    PublicKey,
    PublishStatement,
    RegistryStatement,
    SigningKey,
    load_or_create_key,
)
from registry.store.access import installable, require, servable, visible
from registry.store.blobs import BlobStore
from registry.store.codec import info_from_skill
from registry.store.commit import commit, existing_version, name_hold
from registry.store.db import Database
from registry.store.errors import (
    Forbidden,
    Gone,
    NotFound,
)
from registry.store.index import NewVersion, SkillIndex
from registry.store.log import LogStore
from registry.store.publish import (
    PublishRequest,
    check_scan,
    check_signature,
    inspect_upload,
)
from registry.store.publishers import PublisherStore
from registry.store.reads import skill_record
from registry.store.records import (
    FileEntry,
    KeyRecord,
    Principal,
    SearchPage,
    SearchQuery,
    SkillRecord,
    VersionRecord,
)
from registry.store.rescan import rescan_all
from registry.store.search import search
from registry.store.settings import RegistrySettings
from registry.translog import LogEntry

__all__ = ["PublishResult", "Registry"]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """``created`` is False when the same content was published before (an idempotent retry)."""

    record: VersionRecord
    created: bool
    warnings: tuple[str, ...]


class Registry:
    """Open with :meth:`open`; close with :meth:`close`."""

    def __init__(
        self, root: Path, db: Database, key: SigningKey, settings: RegistrySettings,
        clock: Callable[[], float],
    ) -> None:  # fmt: skip
        self.root = root
        self.settings = settings
        self._db = db
        self._key = key
        self._clock = clock
        self.blobs = BlobStore(root / "blobs")
        self.publishers = PublisherStore(db, clock)
        self.index = SkillIndex(db)
        self.log = LogStore(db, key, settings.origin or f"skillyard-registry/{key.key_id}")

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        settings: RegistrySettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Registry:
        """The registry stored under ``root`` (created if new; the caller owns ``root``)."""
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = load_or_create_key(root / "keys" / "registry.ed25519")
        return cls(
            root, Database.open(root / "registry.db"), key, settings or RegistrySettings(), clock
        )

    def close(self) -> None:
        self._db.close()

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key

    # -- publishing ---------------------------------------------------------------

    def publish(self, request: PublishRequest, principal: Principal) -> PublishResult:
        """Publish ``request``; raises a :class:`~registry.store.errors.StoreError` on refusal."""
        require(principal, request.owner)
        self.publishers.get(request.owner)
        parse_version(request.version)
        upload = inspect_upload(
            request, limits=self.settings.limits, max_bytes=self.settings.max_archive_bytes
        )
        hold = name_hold(self._db, self.index, request, self.settings.name_compare_top)
        report = check_scan(upload, request)
        check_signature(upload, request, self.publisher_key(request.key_id))
        existing = existing_version(self._db, self.index, request, upload.content_hash)
        if existing is not None:
            return PublishResult(existing, False, upload.warnings)
        archive_sha256 = self.blobs.put(request.archive)
        new = NewVersion(
            request.version, upload.content_hash, archive_sha256, len(request.archive),
            request.key_id, request.signature, report, info_from_skill(upload.skill),
            upload.skill_md, upload.warnings, upload.files,
        )  # fmt: skip
        commit(self._db, self.index, self.log, self._key, request, new,
               hold_reason=hold, now=self._clock())  # fmt: skip
        return PublishResult(self.version(request.owner, request.name, request.version,
                                          principal), True, upload.warnings)  # fmt: skip

    def publisher_key(self, key_id: str) -> KeyRecord | None:
        """The publisher key ``key_id`` (revoked ones too), or ``None`` if there is none."""
        try:
            return self.publishers.key(key_id)
        except NotFound:
            return None

    # -- reading ------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchPage:
        return search(self._db, query)

    def skill(self, owner: str, name: str, viewer: Principal) -> SkillRecord:
        return skill_record(self._db, self.index, owner, name, viewer)

    def version(self, owner: str, name: str, version: str, viewer: Principal) -> VersionRecord:
        """The version (deleted ones too: their record says so); held ones for their owner only."""
        record = self.index.version(owner, name, version)[1]
        visible(record, viewer)
        return record

    def resolve(self, owner: str, name: str, wanted: str, viewer: Principal) -> VersionRecord:
        """The version ``wanted`` (a range, a pin or ``latest``) installs."""
        target = parse_range(wanted)
        records = [r for r in self.index.versions(owner, name) if installable(r)]
        if not records:
            raise NotFound(f"{owner}/{name} has no installable version")
        visible(records[0], viewer)
        by_version = {parse_version(r.version): r for r in records}
        chosen = resolve((Candidate(v, r.yanked) for v, r in by_version.items()), target)
        if chosen is None:
            raise NotFound(f"no version of {owner}/{name} matches {wanted!r}")
        return by_version[chosen]

    def files(
        self, owner: str, name: str, version: str, viewer: Principal
    ) -> tuple[VersionRecord, list[FileEntry]]:
        """The version's record and its file list."""
        version_id, record = self.index.version(owner, name, version)
        visible(record, viewer)
        servable(record)
        return record, self.index.files(version_id)

    def archive(self, owner: str, name: str, version: str, viewer: Principal,
                *, count: bool = True) -> tuple[VersionRecord, bytes]:  # fmt: skip
        """The version's record and verified archive bytes; counts a download."""
        record = self.version(owner, name, version, viewer)
        servable(record)
        data = self.blobs.get(record.archive_sha256)
        if count:
            with self._db.write() as conn:
                self.index.count_download(conn, owner, name)
        return record, data

    def read_file(self, owner: str, name: str, version: str, path: str, viewer: Principal) -> bytes:
        """One file of the version, from its verified archive."""
        _, data = self.archive(owner, name, version, viewer, count=False)
        found = next((f for f in unpack(data, limits=self.settings.limits) if f.path == path), None)
        if found is None:
            raise NotFound(f"{owner}/{name}@{version} has no file {path!r}")
        return found.data

    def statement(self, record: VersionRecord) -> RegistryStatement:
        """The statement the registry countersigned for ``record`` (for clients to verify)."""
        publish = PublishStatement(record.skill, record.version, record.content_hash)
        return RegistryStatement(publish, record.publisher_key_id, record.publisher_signature,
                                 record.log_index)  # fmt: skip

    # -- lifecycle ----------------------------------------------------------------

    def yank(self, owner: str, name: str, version: str, reason: str,
             principal: Principal, *, yanked: bool = True) -> VersionRecord:  # fmt: skip
        """Yank (or with ``yanked=False`` unyank) a version; logged either way."""
        require(principal, owner)
        now = self._clock()
        with self._db.write() as conn:
            version_id, record = self._live_row(conn, owner, name, version)
            if record.yanked != yanked:
                self.index.set_yanked(conn, version_id, now if yanked else None,
                                      reason if yanked else "")  # fmt: skip
                entry = LogEntry(
                    "yank" if yanked else "unyank", record.skill, version, record.content_hash
                )
                self.log.append(conn, entry, now)
                self._refresh(conn, owner, name, now)
        return self.version(owner, name, version, principal)

    def delete(self, owner: str, name: str, version: str, principal: Principal) -> VersionRecord:
        """Admin only: remove the files, keep a tombstone so the number is never reused."""
        if not principal.admin:
            raise Forbidden("only the registry's admin deletes versions (publishers yank)")
        now = self._clock()
        with self._db.write() as conn:
            version_id, record = self._live_row(conn, owner, name, version)
            self.index.set_deleted(conn, version_id, now)
            self._refresh(conn, owner, name, now)
            shared = conn.execute(
                "SELECT count(*) FROM versions WHERE archive_sha256 = ? AND deleted_at IS NULL",
                (record.archive_sha256,),
            ).fetchone()[0]
        if not shared:
            self.blobs.delete(record.archive_sha256)
        return self.version(owner, name, version, principal)

    def release(self, owner: str, name: str, principal: Principal) -> SkillRecord:
        """Admin only: let a name held for review be resolved and found."""
        if not principal.admin:
            raise Forbidden("only the registry's admin releases held names")
        now = self._clock()
        with self._db.write() as conn:
            skill_id = self.index.skill_id(conn, owner, name)
            if skill_id is None:
                raise NotFound(f"no skill {owner}/{name}")
            self.index.release(conn, skill_id)
            self.index.refresh(conn, skill_id, now)
        return self.skill(owner, name, principal)

    def _live_row(self, conn: sqlite3.Connection, owner: str, name: str,
                  version: str) -> tuple[int, VersionRecord]:  # fmt: skip
        found = self.index.version_row(conn, owner, name, version)
        if found is None:
            raise NotFound(f"{owner}/{name} has no version {version}")
        if found[1].deleted_at is not None:
            raise Gone(f"{owner}/{name}@{version} was deleted")
        return found

    def _refresh(self, conn: sqlite3.Connection, owner: str, name: str, now: float) -> None:
        skill_id = self.index.skill_id(conn, owner, name)
        assert skill_id is not None  # the caller found one of its versions
        self.index.refresh(conn, skill_id, now)

    def rescan(self, ruleset: str = RULESET_VERSION) -> int:
        """Re-scan every stored version scanned by another ruleset; return how many."""
        return rescan_all(self._db, self.index, self.blobs, ruleset, self._clock)
