"""Records as the API's JSON (the shapes ``openapi.json`` names), and nothing else.

Times are RFC 3339 in UTC; bytes (keys, signatures, hashes of the log) are
standard base64.  The statements a client verifies are included verbatim as
strings, so a client can check signatures over exactly these bytes and then
compare them with the canonical JSON it builds itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.scan.model import ScanReport
from registry.server.spec import API_PREFIX
from registry.signing import PublishStatement, RegistryStatement, b64encode
from registry.store.publish import finding_dict
from registry.store.records import (
    FileEntry,
    KeyRecord,
    Publisher,
    SkillRecord,
    SkillSummary,
    TokenRecord,
    VersionRecord,
)
from registry.translog import SignedCheckpoint

__all__ = [
    "checkpoint_view",
    "files_view",
    "install_command",
    "key_view",
    "publisher_view",
    "scan_view",
    "skill_view",
    "summary_view",
    "time_view",
    "token_view",
    "version_view",
]

JSON = dict[str, Any]


def time_view(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def install_command(skill: str, version: str | None = None) -> str:
    return f"skillyard skill install {skill}" + (f"@{version}" if version else "")


def summary_view(summary: SkillSummary) -> JSON:
    return {
        "skill": summary.skill,
        "owner": summary.owner,
        "name": summary.name,
        "description": summary.description,
        "version": summary.current_version,
        "verdict": summary.verdict,
        "has_tools": summary.has_tools,
        "downloads": summary.downloads,
        "updated_at": time_view(summary.updated_at),
        "tags": list(summary.tags),
        "install": install_command(summary.skill),
    }


def skill_view(record: SkillRecord) -> JSON:
    view = summary_view(record.summary)
    view.update(
        created_at=time_view(record.created_at),
        held=record.summary.held,
        hold_reason=record.hold_reason,
        versions=[
            {
                "version": v.version,
                "published_at": time_view(v.published_at),
                "yanked": v.yanked,
                "yank_reason": v.yank_reason,
                "deleted": v.deleted_at is not None,
                "verdict": str(v.scan.verdict),
                "content_hash": v.content_hash,
            }
            for v in record.versions
        ],
    )
    return view


def version_view(record: VersionRecord, key: KeyRecord | None) -> JSON:
    """``key`` is the publisher's signing key as registered (``None`` if it is unknown)."""
    info = record.info
    base = f"{API_PREFIX}/skills/{record.owner}/{record.name}/versions/{record.version}"
    return {
        "skill": record.skill,
        "owner": record.owner,
        "name": record.name,
        "version": record.version,
        "description": info.description,
        "license": info.license,
        "compatibility": info.compatibility,
        "allowed_tools": list(info.allowed_tools),
        "permissions": {
            "network": list(info.network),
            "env": list(info.env),
            "binaries": list(info.binaries),
            "filesystem": list(info.filesystem),
        },
        "tools": [{"name": t.name, "description": t.description} for t in info.tools],
        "command": info.command,
        "tags": list(info.tags),
        "content_hash": record.content_hash,
        "archive_sha256": record.archive_sha256,
        "archive_size": record.archive_size,
        "published_at": time_view(record.published_at),
        "yanked": record.yanked,
        "yanked_at": time_view(record.yanked_at),
        "yank_reason": record.yank_reason,
        "deleted": record.deleted_at is not None,
        "deleted_at": time_view(record.deleted_at),
        "held": record.held,
        "verdict": str(record.scan.verdict),
        "ruleset": record.scan.ruleset,
        "findings": len(record.scan.findings),
        "warnings": list(record.warnings),
        "publisher_signature": _publisher_signature(record, key),
        "registry_signature": _registry_signature(record),
        "log_index": record.log_index,
        "install": install_command(record.skill, record.version),
        "download_url": f"{base}/download",
    }


def _publisher_signature(record: VersionRecord, key: KeyRecord | None) -> JSON:
    statement = PublishStatement(record.skill, record.version, record.content_hash)
    return {
        "key_id": record.publisher_key_id,
        "public_key": key.public_key.to_base64() if key else "",
        "fingerprint": key.public_key.fingerprint if key else "",
        "signature": b64encode(record.publisher_signature),
        "key_revoked_at": time_view(key.revoked_at) if key else None,
        "statement": statement.encode().decode("utf-8"),
    }


def _registry_signature(record: VersionRecord) -> JSON:
    statement = RegistryStatement(
        PublishStatement(record.skill, record.version, record.content_hash),
        record.publisher_key_id,
        record.publisher_signature,
        record.log_index,
    )
    return {
        "key_id": record.registry_key_id,
        "signature": b64encode(record.registry_signature),
        "statement": statement.encode().decode("utf-8"),
    }


def files_view(record: VersionRecord, files: list[FileEntry]) -> JSON:
    return {
        "skill": record.skill,
        "version": record.version,
        "files": [
            {"path": f.path, "size": f.size, "executable": f.executable, "sha256": f.sha256}
            for f in files
        ],
    }


def scan_view(record: VersionRecord, report: ScanReport) -> JSON:
    return {
        "skill": record.skill,
        "version": record.version,
        "verdict": str(report.verdict),
        "ruleset": report.ruleset,
        "findings": [finding_dict(finding) for finding in report.findings],
    }


def publisher_view(publisher: Publisher) -> JSON:
    return {
        "name": publisher.name,
        "display_name": publisher.display_name,
        "created_at": time_view(publisher.created_at),
    }


def key_view(key: KeyRecord) -> JSON:
    return {
        "key_id": key.key_id,
        "public_key": key.public_key.to_base64(),
        "fingerprint": key.public_key.fingerprint,
        "algorithm": "ed25519",
        "created_at": time_view(key.created_at),
        "revoked_at": time_view(key.revoked_at),
    }


def token_view(token: TokenRecord) -> JSON:
    return {
        "token_id": token.token_id,
        "publisher": token.publisher,
        "label": token.label,
        "created_at": time_view(token.created_at),
        "expires_at": time_view(token.expires_at),
        "revoked_at": time_view(token.revoked_at),
        "last_used_at": time_view(token.last_used_at),
    }


def checkpoint_view(signed: SignedCheckpoint) -> JSON:
    checkpoint = signed.checkpoint
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": b64encode(checkpoint.root),
        "key_id": signed.key_id,
        "signature": b64encode(signed.signature),
        "signed": checkpoint.encode().decode("utf-8"),
    }
