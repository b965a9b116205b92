"""Signatures over canonical statements: the bytes, the keys, and the ways they must fail."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from registry.signing import (
    KeyFormatError,
    PublicKey,
    PublishStatement,
    RegistryStatement,
    SignatureError,
    SigningKey,
    load_or_create_key,
    verify_release,
)

HASH = "sha256:" + "ab" * 32


def test_the_publish_statement_is_canonical_json() -> None:
    statement = PublishStatement("alice/notes", "1.2.0", HASH)
    assert statement.encode() == (
        b'{"hash":"' + HASH.encode() + b'","skill":"alice/notes","v":1,"version":"1.2.0"}'
    )


def test_a_signature_verifies_only_with_its_key_and_its_statement() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    statement = PublishStatement("alice/notes", "1.2.0", HASH).encode()
    signature = key.sign(statement)
    key.public_key.verify(signature, statement, what="publisher")
    with pytest.raises(SignatureError, match="publisher signature: does not verify"):
        other.public_key.verify(signature, statement, what="publisher")


@pytest.mark.parametrize(
    "replayed",
    [
        PublishStatement("alice/notes", "1.2.1", HASH),  # another version
        PublishStatement("alice/notes", "1.2.0", "sha256:" + "cd" * 32),  # other content
        PublishStatement("mallory/notes", "1.2.0", HASH),  # another namespace
    ],
)
def test_a_signature_cannot_be_replayed_for_another_release(replayed: PublishStatement) -> None:
    key = SigningKey.generate()
    signature = key.sign(PublishStatement("alice/notes", "1.2.0", HASH).encode())
    with pytest.raises(SignatureError):
        key.public_key.verify(signature, replayed.encode(), what="publisher")


def release(publisher: SigningKey, registry: SigningKey) -> tuple[RegistryStatement, bytes]:
    publish = PublishStatement("alice/notes", "1.2.0", HASH)
    statement = RegistryStatement(publish, publisher.key_id, publisher.sign(publish.encode()), 7)
    return statement, registry.sign(statement.encode())


def test_an_install_checks_both_signatures() -> None:
    publisher, registry = SigningKey.generate(), SigningKey.generate()
    statement, countersignature = release(publisher, registry)
    verify_release(
        statement,
        publisher_key=publisher.public_key,
        registry_key=registry.public_key,
        registry_signature=countersignature,
    )
    impostor = SigningKey.generate()
    with pytest.raises(SignatureError) as caught:
        verify_release(
            statement,
            publisher_key=publisher.public_key,
            registry_key=impostor.public_key,
            registry_signature=countersignature,
        )
    assert caught.value.what == "registry"
    with pytest.raises(SignatureError, match="key id"):
        verify_release(
            statement,
            publisher_key=impostor.public_key,
            registry_key=registry.public_key,
            registry_signature=countersignature,
        )


def test_the_countersignature_covers_the_log_index() -> None:
    publisher, registry = SigningKey.generate(), SigningKey.generate()
    statement, countersignature = release(publisher, registry)
    moved = RegistryStatement(
        statement.publish, statement.publisher_key_id, statement.publisher_signature, 8
    )
    with pytest.raises(SignatureError):
        verify_release(
            moved,
            publisher_key=publisher.public_key,
            registry_key=registry.public_key,
            registry_signature=countersignature,
        )


def test_keys_round_trip_and_name_themselves() -> None:
    key = SigningKey.generate()
    again = SigningKey.from_private_bytes(key.private_bytes())
    assert again.public_key == key.public_key
    public = PublicKey.from_base64(key.public_key.to_base64())
    assert public.key_id == key.key_id and len(public.key_id) == 32
    assert public.fingerprint.startswith("SHA256:")
    assert key.key_id in repr(key) and key.private_bytes().hex() not in repr(key)


@pytest.mark.parametrize("text", ["", "not base64!", "AAAA", "A" * 43 + "=" + "A"])
def test_bad_public_keys_are_refused_clearly(text: str) -> None:
    with pytest.raises(KeyFormatError, match="public key"):
        PublicKey.from_base64(text)


def test_the_registry_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "registry.ed25519"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path).key_id == first.key_id
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "registry.ed25519"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFormatError, match="chmod 600"):
        load_or_create_key(path)


def test_a_key_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "registry.ed25519"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFormatError, match="32 bytes"):
        load_or_create_key(path)
