"""Ed25519 signatures over canonical statements: who published what, and the registry's word.

Theory of operation
-------------------
A publisher signs the canonical JSON of a :class:`PublishStatement`::

    {"hash":"sha256:…","skill":"owner/name","v":1,"version":"1.2.0"}

(keys sorted, no spaces, UTF-8).  Because the skill, the version *and* the
content hash are inside the signed bytes, a signature cannot be replayed for
another version or other content.  The registry then countersigns a
:class:`RegistryStatement`, which repeats the publisher's statement and adds
the publisher's key id and signature and the version's index in the
transparency log: the registry vouches that it checked the publisher's
signature with a key registered for that namespace, and where the version
sits in the log.  An install verifies both with :func:`verify_release`.

Keys are raw 32-byte Ed25519 keys (RFC 8032).  A key's id is the first 16
bytes of the SHA-256 of its public bytes, in hex; its fingerprint, shown to
people, is ``SHA256:`` and the whole digest in unpadded base64 as OpenSSH
prints it.  Signatures and keys travel as standard base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import RegistryError

__all__ = [
    "STATEMENT_VERSION",
    "KeyFormatError",
    "PublicKey",
    "PublishStatement",
    "RegistryStatement",
    "SignatureError",
    "SigningKey",
    "b64decode",
    "b64encode",
    "canonical_json",
    "load_or_create_key",
    "verify_release",
]

STATEMENT_VERSION = 1
_RAW_KEY_BYTES = 32
_SIGNATURE_BYTES = 64


class SignatureError(RegistryError):
    """A signature that does not verify; ``what`` names whose (publisher, registry, checkpoint)."""

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what} signature: {problem}")
        self.what = what
        self.problem = problem


class KeyFormatError(RegistryError, ValueError):
    """Bytes or text that are not an Ed25519 key or signature in the expected encoding."""


def canonical_json(value: object) -> bytes:
    """``value`` as canonical JSON bytes: sorted keys, no spaces, UTF-8, no floats.

    The caller passes only dicts, lists, strings, integers, booleans and None.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, what: str, length: int | None = None) -> bytes:
    """Strict standard base64 of ``length`` bytes (if given); raises :class:`KeyFormatError`."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyFormatError(f"{what} is not standard base64") from None
    if length is not None and len(data) != length:
        raise KeyFormatError(f"{what} must be {length} bytes (has {len(data)})")
    return data


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key (its 32 raw bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != _RAW_KEY_BYTES:
            raise KeyFormatError(f"an Ed25519 public key is {_RAW_KEY_BYTES} bytes")

    @classmethod
    def from_base64(cls, text: str) -> PublicKey:
        return cls(b64decode(text, what="the public key", length=_RAW_KEY_BYTES))

    def to_base64(self) -> str:
        return b64encode(self.raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:32]

    @property
    def fingerprint(self) -> str:
        digest = base64.b64encode(hashlib.sha256(self.raw).digest()).decode().rstrip("=")
        return f"SHA256:{digest}"

    def verify(self, signature: bytes, message: bytes, *, what: str) -> None:
        """Return if ``signature`` is this key's over ``message``; else raise SignatureError.

        ``what`` names the signature in the error (publisher, registry, checkpoint).
        """
        if len(signature) != _SIGNATURE_BYTES:
            raise SignatureError(what, f"must be {_SIGNATURE_BYTES} bytes")
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            raise SignatureError(what, f"does not verify with key {self.key_id}") from None


class SigningKey:
    """An Ed25519 private key; keep it out of logs (``repr`` shows the key id only)."""

    __slots__ = ("_key", "public_key")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = PublicKey(raw)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> SigningKey:
        if len(raw) != _RAW_KEY_BYTES:
            raise KeyFormatError(f"an Ed25519 private key is {_RAW_KEY_BYTES} bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The 32-byte seed: the caller stores it with mode 0600 and never logs it."""
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class PublishStatement:
    """What a publisher signs: this content is ``skill@version``."""

    skill: str  # "owner/name"
    version: str
    content_hash: str  # "sha256:<hex>"

    def encode(self) -> bytes:
        return canonical_json(
            {
                "v": STATEMENT_VERSION,
                "skill": self.skill,
                "version": self.version,
                "hash": self.content_hash,
            }
        )


@dataclass(frozen=True, slots=True)
class RegistryStatement:
    """What the registry countersigns: the publisher's statement, signer and log position."""

    publish: PublishStatement
    publisher_key_id: str
    publisher_signature: bytes
    log_index: int

    def encode(self) -> bytes:
        return canonical_json(
            {
                "v": STATEMENT_VERSION,
                "kind": "registry-countersignature",
                "skill": self.publish.skill,
                "version": self.publish.version,
                "hash": self.publish.content_hash,
                "publisher_key": self.publisher_key_id,
                "publisher_signature": b64encode(self.publisher_signature),
                "log_index": self.log_index,
            }
        )


def verify_release(
    statement: RegistryStatement,
    *,
    publisher_key: PublicKey,
    registry_key: PublicKey,
    registry_signature: bytes,
) -> None:
    """Check both signatures on a release; raise :class:`SignatureError` naming the one that fails.

    The caller must have computed ``statement.publish.content_hash`` from the
    files it holds (never taken it from the registry's answer alone) and must
    trust ``registry_key`` from its own configuration.
    """
    if publisher_key.key_id != statement.publisher_key_id:
        raise SignatureError("publisher", "the key does not match the key id the registry named")
    publisher_key.verify(
        statement.publisher_signature, statement.publish.encode(), what="publisher"
    )
    registry_key.verify(registry_signature, statement.encode(), what="registry")


def load_or_create_key(path: Path) -> SigningKey:
    """The key stored at ``path`` (32 raw bytes, mode 0600), created on first use.

    Raises :class:`KeyFormatError` when the file exists but is not a key or is
    readable by others.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = SigningKey.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes())
        out.flush()
        os.fsync(out.fileno())
    try:
        # link() fails if another process created the key first: then theirs wins.
        os.link(tmp, path)
    except FileExistsError:
        return _read_key(path)
    finally:
        tmp.unlink()
    return key


def _read_key(path: Path) -> SigningKey:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as file:
        if os.fstat(file.fileno()).st_mode & 0o077:
            raise KeyFormatError(f"{path}: the key file must not be readable by others (chmod 600)")
        raw = file.read(_RAW_KEY_BYTES + 1)
    return SigningKey.from_private_bytes(raw)
