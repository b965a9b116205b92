"""Configuration: one YAML file, overridden by ``SKILLYARD_*`` variables, built once.

The file (``skillyard.yaml``) is validated against ``config_schema.json``; every
error names the key and where the value came from.  Environment variables
override the file: the shortcuts in :data:`ENV_SHORTCUTS`, and the general form
``SKILLYARD_<SECTION>__<KEY>`` (``SKILLYARD_SESSIONS__QUEUE_MODE=collect``).
Secrets are never read from the file: the access token comes from
``SKILLYARD_TOKEN`` or ``auth.token_file``, a model API key from the variable
that ``model.api_key_env`` names.

The result is a tree of frozen dataclasses passed down from the composition
root; nothing else reads the environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from gateway.errors import ConfigError
from registry.errors import YamlError
from registry.yamlsafe import safe_load

__all__ = [
    "ENV_SHORTCUTS",
    "Config",
    "LimitSettings",
    "ModelSettings",
    "ServerSettings",
    "SessionSettings",
    "SkillSettings",
    "find_config_file",
    "load_config",
]

ENV_SHORTCUTS: Mapping[str, tuple[str, str | None]] = {
    "SKILLYARD_HOME": ("data_dir", None),
    "SKILLYARD_HOST": ("server", "host"),
    "SKILLYARD_PORT": ("server", "port"),
    "SKILLYARD_MODEL": ("model", "provider"),
    "SKILLYARD_LOG_LEVEL": ("logging", "level"),
}
# Variables that are read elsewhere (secrets) or only locate the file.
_ENV_NOT_SETTINGS = frozenset({"SKILLYARD_TOKEN", "SKILLYARD_CONFIG"})
_MAX_CONFIG_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8700
    shutdown_grace_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ModelSettings:
    provider: str = "local"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    max_steps: int = 8
    local_model_path: Path | None = None


@dataclass(frozen=True, slots=True)
class SessionSettings:
    queue_mode: str = "followup"
    max_concurrent_turns: int = 4
    max_queued_per_session: int = 20
    turn_timeout_s: float = 300.0


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_frame_bytes: int = 1 << 20
    rate_per_sec: int = 20
    burst: int = 40
    max_pending_events: int = 1024
    tick_interval_ms: int = 15_000
    connect_timeout_ms: int = 10_000
    max_connections: int = 1000


@dataclass(frozen=True, slots=True)
class SkillSettings:
    dirs: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    approval_required: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    server: ServerSettings = ServerSettings()
    model: ModelSettings = ModelSettings()
    sessions: SessionSettings = SessionSettings()
    limits: LimitSettings = LimitSettings()
    skills: SkillSettings = SkillSettings()
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    log_level: str = "info"
    source: Path | None = None


def find_config_file(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, else ``$SKILLYARD_CONFIG``, else ``./skillyard.yaml``, else
    ``$SKILLYARD_HOME/skillyard.yaml``; None when there is no file (defaults apply)."""
    if explicit is not None:
        return explicit
    if "SKILLYARD_CONFIG" in env:
        return Path(env["SKILLYARD_CONFIG"])
    for candidate in (Path("skillyard.yaml"), _default_home(env) / "skillyard.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """Read, merge and validate; raise :class:`ConfigError` naming the key."""
    document = _read_file(path) if path is not None else {}
    sources: dict[tuple[str, ...], str] = {}
    _apply_env(document, env, sources)
    _validate(document, path, sources)
    return _build(document, env, path)


def _default_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("SKILLYARD_HOME", str(Path.home() / ".skillyard"))).expanduser()


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: config file is larger than {_MAX_CONFIG_BYTES} bytes")
    try:
        loaded = safe_load(data.decode("utf-8"), max_bytes=_MAX_CONFIG_BYTES)
    except (YamlError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return loaded


def _schema() -> dict[str, Any]:
    text = resources.files("gateway").joinpath("config_schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _apply_env(
    document: dict[str, Any], env: Mapping[str, str], sources: dict[tuple[str, ...], str]
) -> None:
    properties = _schema()["properties"]
    for name, raw in sorted(env.items()):
        if not name.startswith("SKILLYARD_") or name in _ENV_NOT_SETTINGS:
            continue
        section, key = _env_target(name)
        spec = properties.get(section, {})
        if key is not None:
            spec = spec.get("properties", {}).get(key, {})
            document.setdefault(section, {})
            if not isinstance(document[section], dict):
                raise ConfigError(f"{section}: must be a mapping (set by the config file)")
            document[section][key] = _coerce(raw, spec)
            sources[(section, key)] = name
        else:
            document[section] = _coerce(raw, spec)
            sources[(section,)] = name


def _env_target(name: str) -> tuple[str, str | None]:
    if name in ENV_SHORTCUTS:
        return ENV_SHORTCUTS[name]
    rest = name.removeprefix("SKILLYARD_").lower()
    section, sep, key = rest.partition("__")
    if not sep or not key:
        raise ConfigError(
            f"{name}: unknown setting; use one of {sorted(ENV_SHORTCUTS)} "
            "or SKILLYARD_<SECTION>__<KEY>"
        )
    return section, key


def _coerce(raw: str, spec: Mapping[str, Any]) -> object:
    """Turn an environment string into the type the schema expects, if it can."""
    kind = spec.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw  # the schema check reports it with the variable's name
    if kind == "array":
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _validate(
    document: dict[str, Any], path: Path | None, sources: Mapping[tuple[str, ...], str]
) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    lines = [_describe(error, path, sources) for error in errors]
    raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


def _describe(
    error: jsonschema.ValidationError, path: Path | None, sources: Mapping[tuple[str, ...], str]
) -> str:
    keys = tuple(str(p) for p in error.path)
    where = ".".join(keys) or "(top level)"
    if error.validator == "additionalProperties":
        where = where if keys else "top level"
        return f"{where}: {error.message}"
    origin = next((sources[k] for k in (keys[:2], keys[:1]) if k in sources), None)
    origin_text = f" (from ${origin})" if origin else (f" (in {path})" if path else "")
    return f"{where}: {error.message}{origin_text}"


def _build(doc: Mapping[str, Any], env: Mapping[str, str], path: Path | None) -> Config:
    base = path.parent if path is not None else Path.cwd()
    data_dir = Path(doc.get("data_dir", str(_default_home({})))).expanduser()
    model = dict(doc.get("model", {}))
    key_env = model.pop("api_key_env", "OPENAI_API_KEY")
    local_path = model.pop("local_model_path", None)
    model.setdefault("base_url", env.get("OPENAI_BASE_URL") or None)
    skills = doc.get("skills", {})
    token_file = doc.get("auth", {}).get("token_file")
    return Config(
        data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
        server=ServerSettings(**doc.get("server", {})),
        model=ModelSettings(
            **model,
            api_key=env.get(key_env),
            local_model_path=_resolve(base, local_path),
        ),
        sessions=SessionSettings(**doc.get("sessions", {})),
        limits=LimitSettings(**doc.get("limits", {})),
        skills=SkillSettings(
            dirs=tuple(_resolve(base, d) or base for d in skills.get("dirs", ())),
            env={name: env[name] for name in skills.get("env", ()) if name in env},
            approval_required=frozenset(skills.get("approval_required", ())),
        ),
        token=env.get("SKILLYARD_TOKEN") or None,
        token_file=_resolve(base, token_file),
        log_level=doc.get("logging", {}).get("level", "info"),
        source=path,
    )


def _resolve(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate
