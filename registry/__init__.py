"""The skill registry's core: package format, validation, hashing, scanning, names.

This package imports nothing else of ours.  Modules:

* :mod:`registry.package` — the lenient loader (``load_skill``); :mod:`registry.sidecar`
  (``skill.yaml``); :mod:`registry.openclaw` (``metadata.openclaw`` mapped on import);
* :mod:`registry.validate` — the strict publish validator (``validate_for_publish``);
* :mod:`registry.archive`, :mod:`registry.files`, :mod:`registry.paths` — the package
  format (``pack``, ``unpack``, ``write_tree``) and its name rules;
* :mod:`registry.hashing` — the canonical content hash;
* :mod:`registry.diskio` — atomic file replace and SQLite connections (WAL), shared by
  every package (the brain and the gateway use them too);
* :mod:`registry.budget` — catalog-entry and body token budgets;
* :mod:`registry.scan` — the static scanner;
* :mod:`registry.names` — slug, reserved-name and look-alike policy;
* :mod:`registry.semver` — versions and ranges; :mod:`registry.signing` — Ed25519
  statements (publisher signature, registry countersignature);
  :mod:`registry.translog` — the transparency log's Merkle proofs and fork checks;
* the server side, imported on demand: :mod:`registry.store` (SQLite index with FTS5,
  blobs, publishers, the log), :mod:`registry.server` (the ``/api/v1`` API and its
  OpenAPI document) and :mod:`registry.web` (the marketplace pages);
* the client side, imported on demand (it needs ``httpx`` and ``rich``):
  :mod:`registry.client` (the HTTP API), :mod:`registry.install` (verified installs,
  :mod:`registry.install_verify`, :mod:`registry.install_trust`), :mod:`registry.lockfile`,
  :mod:`registry.install_check` (what the brain checks at load), :mod:`registry.envs`
  (per-skill Python environments) and :mod:`registry.cli` (``skillyard skill``).
"""

from registry.archive import ArchiveLimits, pack, unpack
from registry.errors import (
    ArchiveFormatError,
    ArchiveLimitError,
    ManifestError,
    PackageError,
    RegistryError,
    SkillError,
    UnsafePathError,
    UnsafeYamlError,
    YamlError,
)
from registry.files import PackageFile, read_folder, write_tree
from registry.hashing import content_hash, hash_folder
from registry.model import (
    CommandSpec,
    LoadedSkill,
    Permissions,
    SkillManifest,
    SkillWarning,
    ToolSpec,
    WarningCode,
)
from registry.names import NameDecision, NamePolicy, NameVerdict, check_new_name
from registry.package import find_skill_file, load_skill
from registry.report import Issue, IssueCode, IssueSeverity, Scope, ValidationReport
from registry.skillmd import name_problems
from registry.validate import validate_for_publish
from registry.yamlsafe import safe_load

__all__ = [
    "ArchiveFormatError",
    "ArchiveLimitError",
    "ArchiveLimits",
    "CommandSpec",
    "Issue",
    "IssueCode",
    "IssueSeverity",
    "LoadedSkill",
    "ManifestError",
    "NameDecision",
    "NamePolicy",
    "NameVerdict",
    "PackageError",
    "PackageFile",
    "Permissions",
    "RegistryError",
    "Scope",
    "SkillError",
    "SkillManifest",
    "SkillWarning",
    "ToolSpec",
    "UnsafePathError",
    "UnsafeYamlError",
    "ValidationReport",
    "WarningCode",
    "YamlError",
    "check_new_name",
    "content_hash",
    "find_skill_file",
    "hash_folder",
    "load_skill",
    "name_problems",
    "pack",
    "read_folder",
    "safe_load",
    "unpack",
    "validate_for_publish",
    "write_tree",
]
