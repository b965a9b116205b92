"""The registry's settings, built once by whoever opens it (the gateway maps its config here)."""

from __future__ import annotations

from dataclasses import dataclass

from registry.files import DEFAULT_LIMITS, ArchiveLimits

__all__ = ["DAY_S", "RegistrySettings"]

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """``limits`` caps the unpacked package, ``max_archive_bytes`` the upload itself.

    ``name_compare_top``: a new name is compared with every name sharing its
    look-alike skeleton and with this many of the most downloaded ones.
    ``origin`` names the transparency log in its checkpoints (default: from
    the registry's key id).
    """

    limits: ArchiveLimits = DEFAULT_LIMITS
    max_archive_bytes: int = 8 * 1024 * 1024
    token_ttl_s: float = 90 * DAY_S
    max_token_ttl_s: float = 366 * DAY_S
    name_compare_top: int = 2000
    origin: str | None = None
