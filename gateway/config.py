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
import re
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
    "CHANNEL_SECRETS",
    "ENV_SHORTCUTS",
    "ChannelSettings",
    "Config",
    "ContextSettings",
    "FileSettings",
    "GuardSettings",
    "LimitSettings",
    "MemorySettings",
    "ModelSettings",
    "PermissionSettings",
    "RegistrySettings",
    "ServerSettings",
    "SessionSettings",
    "SkillSettings",
    "ToolSettings",
    "find_config_file",
    "load_config",
]

ENV_SHORTCUTS: Mapping[str, tuple[str, ...]] = {
    "SKILLYARD_HOME": ("data_dir",),
    "SKILLYARD_HOST": ("server", "host"),
    "SKILLYARD_PORT": ("server", "port"),
    "SKILLYARD_MODEL": ("model", "provider"),
    "SKILLYARD_LOG_LEVEL": ("logging", "level"),
}
# Variables that are read elsewhere (secrets) or only locate the file.
_ENV_NOT_SETTINGS = frozenset({"SKILLYARD_TOKEN", "SKILLYARD_CONFIG"})
_MAX_CONFIG_BYTES = 256 * 1024
# Provider keys and endpoints (OPENAI_API_KEY, ANTHROPIC_BASE_URL, MINIMAX_API_KEY…).
_MODEL_ENV = re.compile(r"[A-Z][A-Z0-9_]*_(?:API_KEY|BASE_URL)")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8700
    shutdown_grace_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """``provider`` and ``fallback`` are model specs; ``base_url``, ``api_key`` (from the
    variable ``api_key_env`` names), ``context_window`` and ``sampling`` override the
    primary's preset.  ``env`` is every ``*_API_KEY``/``*_BASE_URL`` variable, for the
    presets to pick theirs from (the composition root keeps only the ones they read)."""

    provider: str = "local"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    max_steps: int = 8
    local_model_path: Path | None = None
    fallback: tuple[str, ...] = ()
    context_window: int | None = None
    timeout_s: float = 120.0
    max_retries: int = 2
    sampling: Mapping[str, float] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)


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
class ToolSettings:
    """``tools``: limits of the built-in tools (hosts are kept lower-cased)."""

    http_allowlist: tuple[str, ...] = ()
    output_cap_chars: int = 6_000
    http_timeout_s: float = 10.0
    python_timeout_s: float = 30.0
    python_memory_mb: int = 512
    python_require_isolation: bool = True
    sql_timeout_s: float = 10.0
    send_file_max_bytes: int = 50 * 1024 * 1024  # Telegram Bot API: bots send at most 50 MB


@dataclass(frozen=True, slots=True)
class FileSettings:
    """``files``: how long the files the assistant sent stay downloadable
    (``gateway.files``); then they are deleted."""

    keep_days: float = 7.0


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """``context``: budgets and compaction (``brain.context``); ``max_messages`` is how many
    recent messages stay verbatim before older turns are summarised."""

    compact_at: float = 0.75
    keep_fraction: float = 0.5
    max_messages: int = 40
    reserve_tokens: int = 1_024
    summary_tokens: int = 2_000
    summariser: str = "extractive"
    knowledge_top_k: int = 5
    catalog_entries: int = 20
    catalog_tokens: int = 2_000


@dataclass(frozen=True, slots=True)
class MemorySettings:
    """``memory``: the pinned blocks' character limits (``brain.memory``)."""

    persona_chars: int = 2_000
    user_chars: int = 2_000
    task_chars: int = 5_000


@dataclass(frozen=True, slots=True)
class PermissionSettings:
    """``permissions``: which tool calls run, ask a person, or are refused
    (``brain.guard.permissions``); ``allow`` None keeps the brain's default rules."""

    mode: str = "default"
    allow: tuple[str, ...] | None = None
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GuardSettings:
    """``guard``: budgets per run, format re-asks, loop-detector thresholds
    (``brain.guard``); None, or a threshold left out, keeps the brain's default."""

    max_tokens: int | None = None
    max_seconds: float | None = None
    max_requeries: int | None = None
    stuck: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """``registry``: the local skill registry served at ``/api/v1`` and ``/marketplace``.

    Rates are per token (or per client address without one); a read costs 1,
    a write 5.  The package caps bound what one publish may unpack.  ``url`` is
    the registry ``skillyard skill`` talks to (None: this machine's server);
    ``public_key`` pins its key (base64, key id or ``SHA256:`` fingerprint).
    """

    enabled: bool = True
    url: str | None = None
    public_key: str | None = None
    rate_per_sec: float = 20.0
    burst: int = 120
    max_archive_bytes: int = 8 * 1024 * 1024
    max_files: int = 256
    max_file_bytes: int = 1024 * 1024
    max_total_bytes: int = 8 * 1024 * 1024


# Secrets of each channel, read from the environment only (never from the file).
CHANNEL_SECRETS: Mapping[str, tuple[str, ...]] = {
    "telegram": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
    "discord": ("DISCORD_BOT_TOKEN",),
}


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """``channels.<name>``; ``secrets`` holds the channel's variables that are set."""

    name: str
    enabled: bool = False
    mode: str | None = None
    api_base_url: str | None = None
    file_base_url: str | None = None
    gateway_url: str | None = None
    public_url: str | None = None
    dm_policy: str = "pairing"
    allow_from: frozenset[str] = frozenset()
    group_policy: str = "members"
    require_mention: bool = True
    stream: bool = True
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    server: ServerSettings = ServerSettings()
    model: ModelSettings = ModelSettings()
    sessions: SessionSettings = SessionSettings()
    limits: LimitSettings = LimitSettings()
    skills: SkillSettings = SkillSettings()
    tools: ToolSettings = ToolSettings()
    files: FileSettings = FileSettings()
    channels: tuple[ChannelSettings, ...] = ()
    context: ContextSettings = ContextSettings()
    memory: MemorySettings = MemorySettings()
    permissions: PermissionSettings = PermissionSettings()
    guard: GuardSettings = GuardSettings()
    registry: RegistrySettings = RegistrySettings()
    # Passed as is to the brain's DiscoverySettings (the schema checked the keys).
    discovery: Mapping[str, Any] = field(default_factory=dict)
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
    schema = _schema()
    for name, raw in sorted(env.items()):
        if not name.startswith("SKILLYARD_") or name in _ENV_NOT_SETTINGS:
            continue
        path = _env_target(name)
        parent = document
        for depth, key in enumerate(path[:-1]):
            child = parent.setdefault(key, {})
            if not isinstance(child, dict):
                where = ".".join(path[: depth + 1])
                raise ConfigError(f"{where}: must be a mapping to set ${name}")
            parent = child
        parent[path[-1]] = _coerce(raw, _spec_at(schema, path))
        sources[path] = name


def _spec_at(schema: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    """The schema of the value at ``path`` (``$ref`` into ``$defs`` followed)."""
    spec: Mapping[str, Any] = schema
    for key in path:
        spec = spec.get("properties", {}).get(key, {})
        ref = spec.get("$ref", "")
        if ref.startswith("#/$defs/"):
            spec = schema["$defs"][ref.removeprefix("#/$defs/")]
    return spec


def _env_target(name: str) -> tuple[str, ...]:
    if name in ENV_SHORTCUTS:
        return ENV_SHORTCUTS[name]
    path = tuple(name.removeprefix("SKILLYARD_").lower().split("__"))
    if len(path) < 2 or not all(path):
        raise ConfigError(
            f"{name}: unknown setting; use one of {sorted(ENV_SHORTCUTS)} "
            "or SKILLYARD_<SECTION>__<KEY> (SKILLYARD_CHANNELS__TELEGRAM__ENABLED=true)"
        )
    return path


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


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
    if kind == "boolean" and raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
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
    origin = next((sources[keys[:n]] for n in range(len(keys), 0, -1) if keys[:n] in sources), None)
    origin_text = f" (from ${origin})" if origin else (f" (in {path})" if path else "")
    return f"{where}: {error.message}{origin_text}"


def _build(doc: Mapping[str, Any], env: Mapping[str, str], path: Path | None) -> Config:
    base = path.parent if path is not None else Path.cwd()
    data_dir = Path(doc.get("data_dir", str(_default_home({})))).expanduser()
    model = dict(doc.get("model", {}))
    key_env = model.pop("api_key_env", None)
    local_path = model.pop("local_model_path", None)
    model["fallback"] = tuple(model.get("fallback", ()))
    skills = doc.get("skills", {})
    token_file = doc.get("auth", {}).get("token_file")
    return Config(
        data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
        server=ServerSettings(**doc.get("server", {})),
        model=ModelSettings(
            **model,
            api_key=env.get(key_env) if key_env else None,
            local_model_path=_resolve(base, local_path),
            env={k: v for k, v in env.items() if _MODEL_ENV.fullmatch(k) and v},
        ),
        sessions=SessionSettings(**doc.get("sessions", {})),
        limits=LimitSettings(**doc.get("limits", {})),
        skills=SkillSettings(
            dirs=tuple(_resolve(base, d) or base for d in skills.get("dirs", ())),
            env={name: env[name] for name in skills.get("env", ()) if name in env},
            approval_required=frozenset(skills.get("approval_required", ())),
        ),
        tools=_tools(doc.get("tools", {})),
        files=FileSettings(**doc.get("files", {})),
        channels=_channels(doc.get("channels", {}), env),
        discovery=dict(doc.get("discovery", {})),
        context=ContextSettings(**doc.get("context", {})),
        memory=MemorySettings(**doc.get("memory", {})),
        permissions=_permissions(doc.get("permissions", {})),
        guard=GuardSettings(**doc.get("guard", {})),
        registry=RegistrySettings(**doc.get("registry", {})),
        token=env.get("SKILLYARD_TOKEN") or None,
        token_file=_resolve(base, token_file),
        log_level=doc.get("logging", {}).get("level", "info"),
        source=path,
    )


def _permissions(section: Mapping[str, Any]) -> PermissionSettings:
    lists = {key: tuple(section[key]) for key in ("allow", "ask", "deny") if key in section}
    return PermissionSettings(**{**section, **lists})


def _tools(section: Mapping[str, Any]) -> ToolSettings:
    hosts = tuple(host.lower() for host in section.get("http_allowlist", ()))
    return ToolSettings(**{**section, "http_allowlist": hosts})


def _channels(section: Mapping[str, Any], env: Mapping[str, str]) -> tuple[ChannelSettings, ...]:
    built = []
    for name, values in sorted(section.items()):
        settings = dict(values)
        allow_from = frozenset(str(v) for v in settings.pop("allow_from", ()))
        secrets = {k: env[k] for k in CHANNEL_SECRETS[name] if env.get(k)}
        built.append(ChannelSettings(name, **settings, allow_from=allow_from, secrets=secrets))
    return tuple(built)


def _resolve(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate
