"""Configuration: file, environment overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app import sent_files, tool_settings
from gateway.config import find_config_file, load_config
from gateway.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skillyard.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(None, {"SKILLYARD_HOME": str(tmp_path)})
    assert config.data_dir == tmp_path
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8700)
    assert config.model.provider == "local"
    assert config.sessions.queue_mode == "followup"


def test_the_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 9000\nsessions:\n  queue_mode: collect\n")
    env = {"SKILLYARD_PORT": "9100", "SKILLYARD_SESSIONS__MAX_CONCURRENT_TURNS": "7"}
    config = load_config(path, env)
    assert config.server.port == 9100
    assert config.sessions.queue_mode == "collect"
    assert config.sessions.max_concurrent_turns == 7


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  prot: 9000\n")
    with pytest.raises(ConfigError, match=r"server: .*'prot'"):
        load_config(path, {})


def test_a_bad_value_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "sessions:\n  queue_mode: fast\n")
    with pytest.raises(ConfigError, match=r"sessions\.queue_mode: 'fast' is not one of") as info:
        load_config(path, {})
    assert str(path) in str(info.value)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.port: .*\$SKILLYARD_PORT"):
        load_config(None, {"SKILLYARD_PORT": "eighty"})


def test_an_unknown_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SKILLYARD_COLOUR"):
        load_config(None, {"SKILLYARD_COLOUR": "blue"})


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1]\nb: *x\n",  # aliases
        "server:\n  port: 1\nserver:\n  port: 2\n",  # duplicate keys
        "- just\n- a list\n",
        "server: [unclosed\n",
    ],
)
def test_hostile_or_broken_yaml_is_a_clear_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"skillyard\.yaml"):
        load_config(write(tmp_path, text), {})


def test_secrets_come_from_the_environment_only(tmp_path: Path) -> None:
    path = write(tmp_path, "model:\n  provider: openai:gpt-4.1-mini\n  api_key_env: MY_KEY\n")
    config = load_config(path, {"MY_KEY": "sk-test", "SKILLYARD_TOKEN": "t" * 20})
    assert config.model.api_key == "sk-test"
    assert config.token == "t" * 20
    assert "sk-test" not in repr(config)
    assert "t" * 20 not in repr(config)
    with pytest.raises(ConfigError, match="api_key"):
        load_config(write(tmp_path, "model:\n  api_key: sk-oops\n"), {})


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: state\nskills:\n  dirs: [my-skills]\n")
    config = load_config(path, {})
    assert config.data_dir == tmp_path / "state"
    assert config.skills.dirs == (tmp_path / "my-skills",)


def test_finding_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_file(None, {"SKILLYARD_HOME": str(tmp_path / "home")}) is None
    home = tmp_path / "home"
    home.mkdir()
    (home / "skillyard.yaml").write_text("{}\n")
    assert find_config_file(None, {"SKILLYARD_HOME": str(home)}) == home / "skillyard.yaml"
    write(tmp_path, "{}\n")
    assert find_config_file(None, {"SKILLYARD_HOME": str(home)}) == Path("skillyard.yaml")


def test_sent_files_lifetime_and_size_limit(tmp_path: Path) -> None:
    defaults = load_config(None, {"SKILLYARD_HOME": str(tmp_path)})
    assert defaults.files.keep_days == 7
    assert tool_settings(defaults).send_file_max_bytes == 50 * 1024 * 1024
    assert sent_files(defaults).keep_s == 7 * 86400

    path = write(tmp_path, "tools:\n  send_file_max_bytes: 4096\nfiles:\n  keep_days: 0.5\n")
    config = load_config(path, {"SKILLYARD_FILES__KEEP_DAYS": "30"})
    assert tool_settings(config).send_file_max_bytes == 4096
    assert config.files.keep_days == 30  # the variable wins
    assert load_config(path, {}).files.keep_days == 0.5


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("files:\n  keep_days: 0\n", r"files\.keep_days: 0 is less than or equal to"),
        ("files:\n  keep_days: -1\n", r"files\.keep_days: -1 is less than or equal to"),
        ("files:\n  keep_days: forever\n", r"files\.keep_days: 'forever' is not of type"),
        ("files:\n  keep_hours: 3\n", r"files: .*'keep_hours'"),
        ("tools:\n  send_file_max_bytes: 0\n", r"tools\.send_file_max_bytes: 0 is less than"),
        ("tools:\n  send_file_max_bytes: 2147483648\n", r"tools\.send_file_max_bytes: .* greater"),
        ("tools:\n  send_file_max_bytes: 1.5\n", r"tools\.send_file_max_bytes: 1\.5 is not of"),
    ],
)
def test_bad_file_settings_name_the_key(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        load_config(write(tmp_path, text), {})


def test_the_documented_example_is_a_valid_config(tmp_path: Path) -> None:
    """docs/reference/config.md's "Keys" block: every key it shows exists and validates."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "config.md").read_text()
    example = doc.split("## Keys", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load_config(write(tmp_path, example), {})
    assert config.tools.send_file_max_bytes == 50 * 1024 * 1024
    assert config.files.keep_days == 7
