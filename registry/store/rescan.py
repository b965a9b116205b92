"""Re-run the scanner over stored versions when its ruleset changes.

Each version scanned by another :data:`~registry.scan.RULESET_VERSION` is
unpacked from its (verified) blob, loaded leniently in a private temporary
folder and scanned again; its verdict and findings are replaced and its
skill's search row refreshed, so a version the new rules block stops being
resolved and served at once.  A version whose blob is missing or corrupt
keeps its old report and is logged: the operator restores it, then reruns.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from registry.archive import unpack
from registry.errors import RegistryError
from registry.files import PackageFile, write_tree
from registry.package import load_skill
from registry.scan import ScanReport, scan
from registry.store.blobs import BlobStore
from registry.store.db import Database
from registry.store.errors import BlobError
from registry.store.index import SkillIndex

__all__ = ["rescan_all", "scan_files"]

log = logging.getLogger("skillyard.registry")


def scan_files(files: list[PackageFile], name: str) -> ScanReport:
    """Scan ``files`` with the skill loaded leniently from them (``None`` if it cannot be)."""
    with tempfile.TemporaryDirectory(prefix="skillyard-rescan-") as tmp:
        folder = Path(tmp) / name
        write_tree(files, folder)
        try:
            skill = load_skill(folder)
        except RegistryError:
            skill = None
        return scan(files, skill)


def rescan_all(
    db: Database, index: SkillIndex, blobs: BlobStore, ruleset: str, clock: Callable[[], float]
) -> int:
    """Rescan versions not scanned by ``ruleset``; return how many were rescanned."""
    with db.read() as conn:
        due = conn.execute(
            "SELECT v.id, v.skill_id, v.archive_sha256, s.name, s.owner, v.version"
            " FROM versions v JOIN skills s ON s.id = v.skill_id"
            " WHERE v.ruleset != ? AND v.deleted_at IS NULL ORDER BY v.id",
            (ruleset,),
        ).fetchall()
    done = 0
    for version_id, skill_id, digest, name, owner, version in due:
        try:
            report = scan_files(unpack(blobs.get(digest)), name)
        except (BlobError, RegistryError) as exc:
            log.error("cannot rescan %s/%s@%s: %s", owner, name, version, exc)
            continue
        with db.write() as conn:
            index.set_scan(conn, version_id, report)
            index.refresh(conn, skill_id, clock())
        done += 1
    return done
