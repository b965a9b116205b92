"""What this client trusts about each registry: its key and the last log checkpoint it saw.

Theory of operation
-------------------
``$SKILLYARD_HOME/known_registries.json`` works like SSH's ``known_hosts``:

* **the registry's key** is pinned on first use (or given in the
  configuration as ``registry.public_key``: base64, key id or ``SHA256:``
  fingerprint).  A registry that later presents another key is refused
  until a person removes the entry: every signature of the old key would
  otherwise be silently replaced;
* **the log checkpoint**: every install asks for a consistency proof from
  the size of the last checkpoint this client verified to today's, and
  :class:`~registry.translog.LogMonitor` accepts the new checkpoint only if
  it extends the old one.  A registry that rewrote history, or shows this
  client another tree than it showed before (a fork, a split view), fails
  here.  Then the entry of the version being installed is proven to be in
  the verified tree (:func:`prove_included`), with a leaf the client built
  from the statement it verified itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from registry.client import RegistryClient
from registry.client_errors import LockfileError, RemoteError, VerificationError
from registry.lockfile import write_json_atomic
from registry.signing import KeyFormatError, PublicKey, SignatureError, b64decode, b64encode
from registry.translog import (
    Checkpoint,
    LogEntry,
    LogMonitor,
    ProofError,
    leaf_hash,
    verify_inclusion,
)

__all__ = ["KNOWN_REGISTRIES", "KnownRegistry", "TrustStore", "prove_included"]

KNOWN_REGISTRIES = "known_registries.json"


@dataclass(frozen=True, slots=True)
class KnownRegistry:
    url: str
    key: PublicKey
    origin: str
    checkpoint: Checkpoint | None = None


class TrustStore:
    """The known registries in the file at ``path``; every change is written at once."""

    def __init__(self, path: Path, *, pinned_key: str | None = None) -> None:
        self.path = path
        self._pinned = pinned_key

    def _read(self) -> dict[str, KnownRegistry]:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return {url: _known_from(url, item) for url, item in raw["registries"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, KeyFormatError) as exc:
            raise LockfileError(self.path, f"is not a known-registries file ({exc})") from None

    def get(self, url: str) -> KnownRegistry | None:
        return self._read().get(url)

    def save(self, known: KnownRegistry) -> None:
        registries = {**self._read(), known.url: known}
        body = {"registries": {url: _known_json(k) for url, k in sorted(registries.items())}}
        write_json_atomic(self.path, body)

    def registry(self, client: RegistryClient) -> KnownRegistry:
        """The registry behind ``client`` with its key checked against the pin (or pinned now)."""
        served = client.registry_key()
        if self._pinned is not None and not _matches(served.key, self._pinned):
            raise VerificationError(
                client.url,
                "registry key",
                f"the registry presents key "
                f"{served.key.fingerprint}, not the configured "
                f"registry.public_key {self._pinned}",
            )
        known = self.get(client.url)
        if known is None:
            known = KnownRegistry(client.url, served.key, served.origin)
            self.save(known)
        elif known.key != served.key or known.origin != served.origin:
            raise VerificationError(
                client.url,
                "registry key",
                f"the registry now presents "
                f"key {served.key.fingerprint}; it presented "
                f"{known.key.fingerprint} before. If its operator really "
                f"changed keys, remove its entry from {self.path}",
            )
        return known

    def advance(self, client: RegistryClient, known: KnownRegistry) -> KnownRegistry:
        """``known`` with today's checkpoint, proven to extend the last one this client saw."""
        old = known.checkpoint
        try:
            proof = client.consistency(0 if old is None else old.size)
        except RemoteError as exc:
            if exc.status != 404:
                raise
            raise VerificationError(
                client.url,
                "log consistency",
                f"the registry's log is "
                f"shorter than the {old.size if old else 0} entries this "
                "client saw: it was rolled back or replaced",
            ) from None
        monitor = LogMonitor(known.key, old)
        try:
            trusted = monitor.observe(proof.checkpoint, proof.proof)
        except (ProofError, SignatureError) as exc:
            raise VerificationError(client.url, "log consistency", str(exc)) from exc
        if old is not None and trusted == old and proof.checkpoint.checkpoint != old:
            raise VerificationError(
                client.url,
                "log consistency",
                "the registry served an older checkpoint than this client saw",
            )
        updated = replace(known, checkpoint=trusted)
        self.save(updated)
        return updated


def prove_included(
    client: RegistryClient, known: KnownRegistry, skill: str, entry: LogEntry, index: int
) -> None:
    """Return if ``entry`` is leaf ``index`` of the tree ``known.checkpoint`` names."""
    checkpoint = known.checkpoint
    if checkpoint is None or index >= checkpoint.size:
        size = 0 if checkpoint is None else checkpoint.size
        raise VerificationError(
            skill,
            "log inclusion",
            f"log index {index} is not in the verified log of {size} entries",
        )
    proof = client.inclusion(index, checkpoint.size)
    if proof.checkpoint.checkpoint != checkpoint:
        raise VerificationError(
            skill, "log inclusion", "the proof is for another tree than the verified checkpoint"
        )
    try:
        verify_inclusion(
            leaf_hash(entry.encode()), index, checkpoint.size, proof.proof, checkpoint.root
        )
    except ProofError as exc:
        raise VerificationError(skill, "log inclusion", str(exc)) from exc


def _matches(key: PublicKey, pinned: str) -> bool:
    return pinned in (key.to_base64(), key.key_id, key.fingerprint)


def _known_json(known: KnownRegistry) -> dict[str, object]:
    checkpoint = known.checkpoint
    body: dict[str, object] = {"key": known.key.to_base64(), "origin": known.origin}
    if checkpoint is not None:
        body["checkpoint"] = {"size": checkpoint.size, "root": b64encode(checkpoint.root)}
    return body


def _known_from(url: str, raw: dict[str, object]) -> KnownRegistry:
    origin, seen = str(raw["origin"]), raw.get("checkpoint")
    checkpoint = None
    if isinstance(seen, dict):
        root = b64decode(str(seen["root"]), what="checkpoint root", length=32)
        checkpoint = Checkpoint(origin, int(seen["size"]), root)
    return KnownRegistry(url, PublicKey.from_base64(str(raw["key"])), origin, checkpoint)
