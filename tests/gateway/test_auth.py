"""The access token and the bind policy."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gateway.auth import OWNER, check_bind_allowed, is_loopback, resolve_token
from gateway.errors import AuthError


def test_a_generated_token_is_stored_once_with_mode_600(tmp_path: Path) -> None:
    first = resolve_token(env_token=None, token_file=None, data_dir=tmp_path)
    second = resolve_token(env_token=None, token_file=None, data_dir=tmp_path)
    assert first.value == second.value
    assert first.source == "generated"
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600


def test_the_environment_token_wins(tmp_path: Path) -> None:
    token = resolve_token(env_token="x" * 24, token_file=None, data_dir=tmp_path)
    assert token.value == "x" * 24 and token.explicit
    assert not (tmp_path / "token").exists()


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="at least 16"):
        resolve_token(env_token="short", token_file=None, data_dir=tmp_path)


def test_a_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token.txt"
    path.write_text("y" * 24)
    path.chmod(0o644)
    with pytest.raises(AuthError, match="chmod 600"):
        resolve_token(env_token=None, token_file=path, data_dir=tmp_path)
    path.chmod(0o600)
    assert resolve_token(env_token=None, token_file=path, data_dir=tmp_path).value == "y" * 24


def test_only_the_right_token_authenticates(tmp_path: Path) -> None:
    token = resolve_token(env_token="z" * 24, token_file=None, data_dir=tmp_path)
    assert token.principal_for("z" * 24) == OWNER
    assert token.principal_for("z" * 23) is None
    assert token.principal_for(None) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.internal", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_bind_needs_an_explicit_token(tmp_path: Path) -> None:
    generated = resolve_token(env_token=None, token_file=None, data_dir=tmp_path)
    with pytest.raises(AuthError, match="explicit token"):
        check_bind_allowed("0.0.0.0", generated)
    check_bind_allowed("127.0.0.1", generated)
    explicit = resolve_token(env_token="k" * 24, token_file=None, data_dir=tmp_path)
    check_bind_allowed("0.0.0.0", explicit)
