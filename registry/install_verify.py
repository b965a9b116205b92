"""Verify a downloaded release before any byte of it reaches the skills folder.

Theory of operation
-------------------
The registry's answers say *what* a version should be; nothing of them is
believed until it is checked against something the client holds itself:

1. the archive is unpacked in memory within the package caps, and the
   content hash is computed from the files (never read from the answer);
2. the signing key must be one the registry lists for the *owner*, and its
   bytes must hash to the key id that signed;
3. the publisher's signature is checked over the statement the client builds
   from ``owner/name``, the version and the hash it computed: a signature
   for another version or other content (a replay) cannot verify;
4. the registry's countersignature is checked with the registry's pinned key
   (:class:`~registry.install_trust.TrustStore`), over a statement that names
   the publisher's key, signature and log index;
5. the log is advanced with a consistency proof, and the entry the client
   builds for this release is proven to be in it at the countersigned index.

:func:`verify_locked` repeats 1, 3 and 4 offline for an installed skill.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry.archive import unpack
from registry.client import RegistryClient
from registry.client_errors import VerificationError
from registry.client_models import KeyInfo, Release
from registry.errors import PackageError
from registry.files import DEFAULT_LIMITS, ArchiveLimits, PackageFile, read_folder
from registry.hashing import content_hash
from registry.install_trust import KnownRegistry, TrustStore, prove_included
from registry.lockfile import LockedSkill
from registry.signing import (
    KeyFormatError,
    PublicKey,
    PublishStatement,
    RegistryStatement,
    SignatureError,
    b64decode,
    verify_release,
)
from registry.translog import LogEntry

__all__ = ["Verified", "verify_download", "verify_locked"]


@dataclass(frozen=True, slots=True)
class Verified:
    """A release whose files, signatures and log entry all checked out."""

    release: Release
    files: tuple[PackageFile, ...]
    content_hash: str
    signer: KeyInfo
    registry: KnownRegistry


def verify_download(
    client: RegistryClient,
    trust: TrustStore,
    release: Release,
    archive: bytes,
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> Verified:
    """``release``'s files, once everything checks; else :class:`VerificationError`."""
    label = f"{release.skill}@{release.version}"
    files = _unpacked(label, archive, limits)
    digest = content_hash(files)
    if digest != release.content_hash:
        raise VerificationError(
            label,
            "content hash",
            f"the files hash to {digest}, the registry says {release.content_hash}",
        )
    signer = _registered_key(client, release, label)
    known = trust.registry(client)
    _check_signatures(label, release, digest, signer.key, known.key)
    known = trust.advance(client, known)
    entry = LogEntry(
        "publish",
        release.skill,
        release.version,
        digest,
        signer.key_id,
        release.publisher.signature,
    )
    prove_included(client, known, label, entry, release.log_index)
    return Verified(release, files, digest, signer, known)


def _unpacked(label: str, archive: bytes, limits: ArchiveLimits) -> tuple[PackageFile, ...]:
    try:
        return tuple(unpack(archive, limits=limits))
    except PackageError as exc:
        raise VerificationError(label, "package", str(exc)) from exc


def _registered_key(client: RegistryClient, release: Release, label: str) -> KeyInfo:
    """The owner's registered key that signed ``release``."""
    wanted = release.publisher.key_id
    for key in client.keys(release.owner):
        if key.key_id == wanted:
            return key
    raise VerificationError(
        label, "publisher key", f"key {wanted} is not a signing key registered to {release.owner!r}"
    )


def _check_signatures(
    label: str, release: Release, digest: str, publisher: PublicKey, registry: PublicKey
) -> None:
    statement = RegistryStatement(
        PublishStatement(release.skill, release.version, digest),
        publisher.key_id,
        release.publisher.signature,
        release.log_index,
    )
    if release.registry_key_id != registry.key_id:
        raise VerificationError(
            label,
            "registry signature",
            f"countersigned by key "
            f"{release.registry_key_id}, not by the registry's key "
            f"{registry.key_id}",
        )
    try:
        verify_release(
            statement,
            publisher_key=publisher,
            registry_key=registry,
            registry_signature=release.registry_signature,
        )
    except SignatureError as exc:
        raise VerificationError(label, f"{exc.what} signature", exc.problem) from exc


def verify_locked(
    entry: LockedSkill,
    folder: Path,
    registry: PublicKey | None,
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> None:
    """Check ``folder`` and the signatures recorded for ``entry``, offline.

    ``registry`` is the pinned key of the registry it came from (``None`` if
    this client no longer knows it: then only the publisher's signature is
    checked).  Raises :class:`VerificationError`.
    """
    label = f"{entry.skill}@{entry.version}"
    try:
        digest = content_hash(read_folder(folder, limits=limits))
    except (PackageError, OSError) as exc:
        raise VerificationError(label, "content hash", f"the installed files: {exc}") from exc
    if digest != entry.content_hash:
        raise VerificationError(
            label,
            "content hash",
            f"the installed files hash to {digest}; the lockfile pins {entry.content_hash}",
        )
    try:
        publisher = PublicKey.from_base64(entry.signer_public_key)
        signature = b64decode(entry.publisher_signature, what="publisher signature", length=64)
        countersignature = b64decode(entry.registry_signature, what="registry signature", length=64)
    except KeyFormatError as exc:
        raise VerificationError(label, "lockfile", str(exc)) from exc
    if publisher.key_id != entry.signer_key_id:
        raise VerificationError(label, "lockfile", "the signer's key does not match its key id")
    statement = PublishStatement(entry.skill, entry.version, digest)
    try:
        publisher.verify(signature, statement.encode(), what="publisher")
        if registry is not None:
            counter = RegistryStatement(statement, publisher.key_id, signature, entry.log_index)
            registry.verify(countersignature, counter.encode(), what="registry")
    except SignatureError as exc:
        raise VerificationError(label, f"{exc.what} signature", exc.problem) from exc
