"""The registry's answers as checked, typed values.

Every JSON answer is first checked against the document
(:func:`registry.client_schema.checked`), so the reads below cannot fail on
a missing or mistyped field.  Then the parts the client acts on become
frozen dataclasses; each keeps the checked JSON as ``raw`` for ``--json``
output.  Nothing here *trusts* a value: signatures, hashes and proofs are
verified by :mod:`registry.install_verify` against statements the client
builds itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.client_errors import BadAnswer
from registry.model import Permissions
from registry.scan.model import Finding, Severity
from registry.signing import KeyFormatError, PublicKey, b64decode
from registry.translog import Checkpoint, SignedCheckpoint

__all__ = [
    "JSON",
    "KeyInfo",
    "LogProof",
    "Published",
    "PublisherSignature",
    "RegistryKeyInfo",
    "Release",
    "ScanResult",
    "SearchPage",
    "SkillHit",
    "SkillInfo",
    "ToolInfo",
    "VersionRow",
    "checkpoint_from",
    "hit_from",
    "key_from",
    "page_from",
    "proof_from",
    "registry_key_from",
    "release_from",
    "scan_from",
    "skill_from",
]

JSON = dict[str, Any]


def _bytes(text: str, what: str, length: int | None = None) -> bytes:
    try:
        return b64decode(text, what=what, length=length)
    except KeyFormatError as exc:
        raise BadAnswer(f"the registry sent a bad {what}: {exc}") from None


def _public_key(text: str, what: str) -> PublicKey:
    try:
        return PublicKey.from_base64(text)
    except KeyFormatError as exc:
        raise BadAnswer(f"the registry sent a bad {what}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ToolInfo:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class PublisherSignature:
    """Who the registry says signed a version; verified before any use."""

    key_id: str
    public_key: str  # base64; "" when the registry no longer knows the key
    fingerprint: str
    signature: bytes
    key_revoked_at: str | None


@dataclass(frozen=True, slots=True)
class Release:
    """One version as the registry describes it (``getVersion``/``resolveVersion``)."""

    skill: str
    owner: str
    name: str
    version: str
    description: str
    permissions: Permissions
    tools: tuple[ToolInfo, ...]
    command: str | None
    content_hash: str
    archive_sha256: str
    archive_size: int
    verdict: str
    findings: int
    yanked: bool
    yank_reason: str
    deleted: bool
    held: bool
    publisher: PublisherSignature
    registry_key_id: str
    registry_signature: bytes
    log_index: int
    published_at: str
    raw: JSON = field(repr=False, compare=False)


def _permissions(raw: Mapping[str, list[str]]) -> Permissions:
    return Permissions(
        network=tuple(raw["network"]),
        env=tuple(raw["env"]),
        binaries=tuple(raw["binaries"]),
        filesystem=tuple(raw["filesystem"]),
    )


def release_from(raw: JSON) -> Release:
    """A :class:`Release` from an answer already :func:`checked` as ``VersionDetail``."""
    signer, registry = raw["publisher_signature"], raw["registry_signature"]
    publisher = PublisherSignature(
        key_id=signer["key_id"],
        public_key=signer["public_key"],
        fingerprint=signer["fingerprint"],
        signature=_bytes(signer["signature"], "publisher signature", 64),
        key_revoked_at=signer["key_revoked_at"],
    )
    return Release(
        skill=raw["skill"],
        owner=raw["owner"],
        name=raw["name"],
        version=raw["version"],
        description=raw["description"],
        permissions=_permissions(raw["permissions"]),
        tools=tuple(ToolInfo(t["name"], t["description"]) for t in raw["tools"]),
        command=raw["command"],
        content_hash=raw["content_hash"],
        archive_sha256=raw["archive_sha256"],
        archive_size=raw["archive_size"],
        verdict=raw["verdict"],
        findings=raw["findings"],
        yanked=raw["yanked"],
        yank_reason=raw["yank_reason"],
        deleted=raw["deleted"],
        held=raw["held"],
        publisher=publisher,
        registry_key_id=registry["key_id"],
        registry_signature=_bytes(registry["signature"], "registry signature", 64),
        log_index=raw["log_index"],
        published_at=raw["published_at"],
        raw=raw,
    )


@dataclass(frozen=True, slots=True)
class SkillHit:
    """A search result (``SkillSummary``)."""

    skill: str
    description: str
    version: str | None
    verdict: str
    has_tools: bool
    downloads: int
    updated_at: str
    install: str
    raw: JSON = field(repr=False, compare=False)


def hit_from(raw: JSON) -> SkillHit:
    return SkillHit(
        raw["skill"],
        raw["description"],
        raw["version"],
        raw["verdict"],
        raw["has_tools"],
        raw["downloads"],
        raw["updated_at"],
        raw["install"],
        raw,
    )


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: str
    published_at: str
    yanked: bool
    yank_reason: str
    deleted: bool
    verdict: str


@dataclass(frozen=True, slots=True)
class SkillInfo:
    """A skill with all its versions, newest first (``SkillDetail``)."""

    hit: SkillHit
    held: bool
    hold_reason: str
    versions: tuple[VersionRow, ...]


def skill_from(raw: JSON) -> SkillInfo:
    versions = tuple(
        VersionRow(
            v["version"],
            v["published_at"],
            v["yanked"],
            v["yank_reason"],
            v["deleted"],
            v["verdict"],
        )
        for v in raw["versions"]
    )
    return SkillInfo(hit_from(raw), raw["held"], raw["hold_reason"], versions)


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: str
    ruleset: str
    findings: tuple[Finding, ...]


def scan_from(raw: JSON) -> ScanResult:
    findings = tuple(
        Finding(
            f["rule"], Severity(f["severity"]), f["file"], f["line"], f["excerpt"], f["message"]
        )
        for f in raw["findings"]
    )
    return ScanResult(raw["verdict"], raw["ruleset"], findings)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A publisher's registered signing key."""

    key: PublicKey
    key_id: str
    fingerprint: str
    created_at: str
    revoked_at: str | None


def key_from(raw: JSON) -> KeyInfo:
    key = _public_key(raw["public_key"], "publisher key")
    if key.key_id != raw["key_id"]:
        raise BadAnswer(f"the registry lists key {raw['key_id']} with the bytes of {key.key_id}")
    return KeyInfo(key, key.key_id, key.fingerprint, raw["created_at"], raw["revoked_at"])


@dataclass(frozen=True, slots=True)
class RegistryKeyInfo:
    key: PublicKey
    origin: str


def registry_key_from(raw: JSON) -> RegistryKeyInfo:
    key = _public_key(raw["public_key"], "registry key")
    if key.key_id != raw["key_id"]:
        raise BadAnswer(f"the registry names its key {raw['key_id']} but sent {key.key_id}")
    return RegistryKeyInfo(key, raw["origin"])


def checkpoint_from(raw: Mapping[str, Any]) -> SignedCheckpoint:
    """A signed checkpoint; its signature is *not* checked here (see ``LogMonitor``)."""
    checkpoint = Checkpoint(raw["origin"], raw["size"], _bytes(raw["root"], "log root", 32))
    if checkpoint.encode().decode("utf-8") != raw["signed"]:
        raise BadAnswer("the checkpoint's signed text does not match its fields")
    return SignedCheckpoint(checkpoint, raw["key_id"], _bytes(raw["signature"], "signature", 64))


@dataclass(frozen=True, slots=True)
class LogProof:
    """An inclusion or consistency proof with the checkpoint it leads to."""

    proof: tuple[bytes, ...]
    checkpoint: SignedCheckpoint


def proof_from(raw: JSON) -> LogProof:
    nodes = tuple(_bytes(node, "proof node", 32) for node in raw["proof"])
    return LogProof(nodes, checkpoint_from(raw["checkpoint"]))


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    hits: tuple[SkillHit, ...]
    raw: JSON = field(repr=False, compare=False)


def page_from(raw: JSON) -> SearchPage:
    return SearchPage(raw["total"], tuple(hit_from(r) for r in raw["results"]), raw)


@dataclass(frozen=True, slots=True)
class Published:
    """A publish's outcome: ``created`` is False for an idempotent retry of the same content."""

    created: bool
    release: Release
    warnings: tuple[str, ...]
