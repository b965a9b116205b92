"""File names inside a skill package: one rule set for folders, archives and hashes.

Theory of operation
-------------------
A package is a flat list of files named by relative paths.  Those names come
from archives written by strangers and end up as paths on users' disks, on
any operating system, so every name goes through :func:`normalise_path`:

* the name is UTF-8 text in NFC form with ``/`` separators; a name that only
  differs by its Unicode normal form is the same name (macOS writes NFD);
* it cannot escape the package (no absolute path, no ``..``, no empty or
  ``.`` component, no backslash that Windows would read as a separator);
* it can be written everywhere: no NUL, control or invisible formatting
  characters (a right-to-left override can make ``gpj.exe`` read as
  ``exe.jpg``), none of ``<>:"|?*``, no component ending in a space or a
  dot, at most :data:`MAX_COMPONENT_BYTES` per component and
  :data:`MAX_PATH_BYTES` in all.

:func:`check_tree` then looks at the names together: no duplicates, no two
names equal after case folding (they would overwrite each other on a
case-insensitive disk), and no name that is both a file and a folder.

:func:`is_excluded` names the clutter that packing leaves out (``.git``,
``__pycache__``, ``*.pyc``, ``.DS_Store``); unpacking refuses it rather than
dropping it, so the hash of an unpacked tree always equals the hash of the
archive's file list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from registry.errors import UnsafePathError

__all__ = [
    "EXCLUDED_DIRS",
    "EXCLUDED_FILES",
    "MAX_COMPONENT_BYTES",
    "MAX_PATH_BYTES",
    "check_tree",
    "is_excluded",
    "normalise_path",
]

# Linux, macOS and Windows all cap one component at 255 (bytes or UTF-16 units).
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 1024
EXCLUDED_DIRS = frozenset({".git", "__pycache__"})
EXCLUDED_FILES = frozenset({".DS_Store"})
_EXCLUDED_SUFFIXES = (".pyc",)
# Reserved by Windows in file names; a package must install everywhere.
_UNPORTABLE = frozenset('<>:"|?*')
# Control, format (bidi, zero-width), surrogate and line/paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def normalise_path(name: str) -> str:
    """The package path for ``name`` (NFC, ``/``-separated), or :class:`UnsafePathError`.

    Idempotent: a returned path is returned unchanged.
    """
    _check_characters(name)
    path = unicodedata.normalize("NFC", name)
    if path.startswith("/"):
        raise UnsafePathError("is an absolute path", member=name)
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise UnsafePathError(f"is longer than {MAX_PATH_BYTES} bytes", member=name)
    for part in path.split("/"):
        _check_component(name, part)
    return path


def _check_characters(name: str) -> None:
    if not name:
        raise UnsafePathError("is an empty name", member=name)
    if "\x00" in name:
        raise UnsafePathError("contains a NUL character", member=name)
    if "\\" in name:
        raise UnsafePathError("contains a backslash (use '/' between folders)", member=name)
    bad = next((c for c in name if unicodedata.category(c) in _INVISIBLE_CATEGORIES), None)
    if bad is not None:
        raise UnsafePathError(
            f"contains the control or invisible character U+{ord(bad):04X}", member=name
        )
    unportable = sorted(_UNPORTABLE.intersection(name))
    if unportable:
        listed = " ".join(unportable)
        raise UnsafePathError(f"contains {listed}, which Windows does not allow", member=name)


def _check_component(name: str, part: str) -> None:
    if part == "..":
        raise UnsafePathError("contains '..' (a path must stay inside the package)", member=name)
    if part in ("", "."):
        raise UnsafePathError("has an empty or '.' folder name (or a trailing '/')", member=name)
    if part[-1] in " .":
        raise UnsafePathError(f"{part!r} ends with a space or a dot", member=name)
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise UnsafePathError(f"has a name part over {MAX_COMPONENT_BYTES} bytes", member=name)


def is_excluded(path: str) -> bool:
    """True for clutter no package holds: ``.git``, ``__pycache__``, ``*.pyc``, ``.DS_Store``."""
    *folders, base = path.split("/")
    return (
        any(part in EXCLUDED_DIRS for part in folders)
        or base in EXCLUDED_FILES
        or base in EXCLUDED_DIRS
        or base.endswith(_EXCLUDED_SUFFIXES)
    )


def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", path.casefold())


def check_tree(paths: Iterable[str]) -> None:
    """Refuse duplicate, case-colliding or file-and-folder names among normalised ``paths``."""
    seen: dict[str, str] = {}
    folders: dict[str, str] = {}
    for path in paths:
        key = _fold(path)
        if key in seen:
            what = "is listed twice" if seen[key] == path else f"collides with {seen[key]!r}"
            raise UnsafePathError(f"{what} (names must differ in more than case)", member=path)
        seen[key] = path
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), path)
    clash = next((key for key in seen if key in folders), None)
    if clash is not None:
        raise UnsafePathError(
            f"is a file and also a folder of {folders[clash]!r}", member=seen[clash]
        )
