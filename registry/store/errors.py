"""What the registry's store refuses, classed by what the caller should do.

Tree (all under :class:`registry.errors.RegistryError`)::

    StoreError                 ``code`` is a stable machine-readable word (the API's error code)
    ├── NotFound               no such publisher, skill, version, token, key or log entry
    ├── Gone                   the version was deleted; its number is never reused
    ├── Conflict               exists already (a version with other content, a publisher, a key)
    ├── Unauthenticated        no credentials, or credentials that are unknown, expired or revoked
    ├── Forbidden              valid credentials without the right (another namespace, admin only)
    ├── Unavailable            the version exists but may not be served (blocked by the scanner,
    │                          name held for review)
    ├── PublishRefused         the upload is refused as it is; ``details`` says why, item by item
    │   ├── InvalidPackage     not a safe package archive (format, paths, caps)
    │   ├── ValidationFailed   the skill breaks the publish rules (``details``: the issues)
    │   ├── NameRejected       the name is reserved or not a valid slug
    │   ├── ScanBlocked        the scanner's verdict is ``block`` (``details``: the findings)
    │   └── BadSignature       the publisher's signature or key does not check out
    └── BlobError              stored bytes are missing or no longer match their hash: an
        ├── BlobMissing        operator must restore them from a backup; nothing is served
        └── BlobCorrupt

Retrying helps none of them except :class:`BlobError` after a restore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from registry.errors import RegistryError

__all__ = [
    "BadSignature",
    "BlobCorrupt",
    "BlobError",
    "BlobMissing",
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidPackage",
    "NameRejected",
    "NotFound",
    "PublishRefused",
    "ScanBlocked",
    "StoreError",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
]

Details = Sequence[Mapping[str, object]]


class StoreError(RegistryError):
    """Root of the store's refusals; ``code`` names the kind, ``details`` lists specifics."""

    code = "store_error"

    def __init__(self, message: str, *, details: Details = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)


class NotFound(StoreError):
    code = "not_found"


class Gone(StoreError):
    code = "gone"


class Conflict(StoreError):
    code = "conflict"


class Unauthenticated(StoreError):
    code = "unauthenticated"


class Forbidden(StoreError):
    code = "forbidden"


class Unavailable(StoreError):
    code = "unavailable"


class PublishRefused(StoreError):
    code = "publish_refused"


class InvalidPackage(PublishRefused):
    code = "invalid_package"


class ValidationFailed(PublishRefused):
    code = "validation_failed"


class NameRejected(PublishRefused):
    code = "name_rejected"


class ScanBlocked(PublishRefused):
    code = "scan_blocked"


class BadSignature(PublishRefused):
    code = "bad_signature"


class BlobError(StoreError):
    code = "blob_error"

    def __init__(self, digest: str, problem: str) -> None:
        super().__init__(f"blob sha256:{digest}: {problem}")
        self.digest = digest


class BlobMissing(BlobError):
    code = "blob_missing"

    def __init__(self, digest: str) -> None:
        super().__init__(digest, "is missing from the blob store")


class BlobCorrupt(BlobError):
    code = "blob_corrupt"

    def __init__(self, digest: str) -> None:
        super().__init__(digest, "no longer matches its hash (corrupt or tampered with)")
