"""The store's values: publishers, credentials, skills, versions, files, search pages.

All are frozen, slotted dataclasses; times are Unix seconds (``float``).
They carry what the API and the marketplace page show, nothing more: a token's
secret appears only once, in :class:`IssuedToken`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry.scan.model import ScanReport
from registry.signing import PublicKey

__all__ = [
    "ANONYMOUS",
    "FileEntry",
    "IssuedToken",
    "KeyRecord",
    "Principal",
    "Publisher",
    "SearchPage",
    "SearchQuery",
    "SkillRecord",
    "SkillSummary",
    "Sort",
    "TokenRecord",
    "ToolInfo",
    "VersionInfo",
    "VersionRecord",
]


@dataclass(frozen=True, slots=True)
class Publisher:
    """An account and its namespace: its skills are ``<name>/<skill>``."""

    name: str
    display_name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: str
    publisher: str
    label: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``secret`` is shown to its owner once and stored only as a hash."""

    record: TokenRecord
    secret: str


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    publisher: str
    public_key: PublicKey
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the registry's admin, a publisher (by token), or nobody."""

    admin: bool = False
    publisher: str | None = None
    token_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.admin or self.publisher is not None

    def may_act_for(self, namespace: str) -> bool:
        return self.admin or self.publisher == namespace


ANONYMOUS = Principal()


@dataclass(frozen=True, slots=True)
class ToolInfo:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """What a version's ``SKILL.md`` and ``skill.yaml`` declare, as stored at publish."""

    description: str
    license: str | None = None
    compatibility: str | None = None
    allowed_tools: tuple[str, ...] = ()
    network: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()
    filesystem: tuple[str, ...] = ()
    tools: tuple[ToolInfo, ...] = ()
    command: str | None = None
    tags: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class VersionRecord:
    owner: str
    name: str
    version: str
    content_hash: str
    archive_sha256: str
    archive_size: int
    published_at: float
    publisher_key_id: str
    publisher_signature: bytes
    registry_key_id: str
    registry_signature: bytes
    log_index: int
    scan: ScanReport
    info: VersionInfo
    skill_md: str
    warnings: tuple[str, ...]
    yanked_at: float | None
    yank_reason: str
    deleted_at: float | None
    held: bool

    @property
    def skill(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def yanked(self) -> bool:
        return self.yanked_at is not None


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    size: int
    executable: bool
    sha256: str


@dataclass(frozen=True, slots=True)
class SkillSummary:
    """A skill as search shows it: its current version's description and verdict."""

    owner: str
    name: str
    description: str
    current_version: str | None
    verdict: str
    has_tools: bool
    downloads: int
    updated_at: float
    tags: tuple[str, ...]
    held: bool

    @property
    def skill(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class SkillRecord:
    summary: SkillSummary
    created_at: float
    hold_reason: str
    versions: tuple[VersionRecord, ...]  # newest first, deleted ones included


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DOWNLOADS = "downloads"
    RECENT = "recent"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """``text`` is free words (empty lists everything); the filters are ANDed."""

    text: str = ""
    owner: str | None = None
    verdict: str | None = None
    has_tools: bool | None = None
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    hits: tuple[SkillSummary, ...]
