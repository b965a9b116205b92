"""The package format: a deterministic gzip'd tar, read in memory within caps.

Theory of operation
-------------------
:func:`pack` reads a skill folder (:func:`registry.files.read_folder`: no
links, no clutter, names checked) and writes a tar (:mod:`registry.tarformat`)
compressed with gzip at level 9 and ``mtime`` 0: the same folder always gives
the same bytes.

:func:`unpack` never touches a disk.  It checks the gzip magic, then
inflates *incrementally*, asking zlib for at most the bytes the caps still
allow, so a gzip bomb is stopped after at most ``max_total_bytes`` plus tar
overhead of output, however small its input.  It refuses a second gzip
member or any byte after the stream, then reads the tar strictly.  The result
is a list of :class:`PackageFile` whose names have all passed
:mod:`registry.paths`; :func:`write_tree` puts them on disk.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from registry.errors import ArchiveFormatError, ArchiveLimitError
from registry.files import DEFAULT_LIMITS, ArchiveLimits, PackageFile, read_folder, write_tree
from registry.tarformat import BLOCK, read_tar, write_tar

__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "PackageFile", "pack", "unpack", "write_tree"]

_GZIP_MAGIC = b"\x1f\x8b\x08"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CHUNK = 64 * 1024


def pack(folder: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> bytes:
    """The package archive of skill folder ``folder`` (deterministic bytes).

    Raises :class:`~registry.errors.PackageError` when the folder holds a
    link, a special file, an unportable or colliding name, or is over ``limits``.
    """
    return gzip.compress(write_tar(read_folder(folder, limits=limits)), compresslevel=9, mtime=0)


def unpack(data: bytes, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> list[PackageFile]:
    """The files in package archive ``data``, sorted by path; nothing is written anywhere.

    Raises :class:`~registry.errors.ArchiveFormatError`,
    :class:`~registry.errors.ArchiveLimitError` or
    :class:`~registry.errors.UnsafePathError` naming the offending member.
    """
    files = read_tar(_inflate(data, limits), limits)
    if not files:
        raise ArchiveFormatError("the archive holds no files")
    return sorted(files, key=lambda file: file.path)


def _tar_budget(limits: ArchiveLimits) -> int:
    """The most tar bytes a package within ``limits`` can take.

    Per entry: a header, a PAX header and its record, and up to a block of
    padding; then the end marker.
    """
    per_entry = 4 * BLOCK
    return limits.max_total_bytes + (limits.max_files + 1) * per_entry + 2 * BLOCK


def _inflate(data: bytes, limits: ArchiveLimits) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        raise ArchiveFormatError("not a gzip file (a package is a .tar.gz)")
    budget = _tar_budget(limits)
    if len(data) > budget:
        raise ArchiveLimitError(f"the archive is over {budget} bytes", limit="max_total_bytes")
    cap = min(budget, max(limits.max_ratio * len(data), limits.ratio_floor_bytes))
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        out, unread = _inflate_within(inflater, data, cap)
    except zlib.error as exc:
        raise ArchiveFormatError(f"corrupt gzip data ({exc})") from None
    if len(out) > cap:
        raise _over_cap(cap, budget, limits)
    _check_end(inflater, unread)
    return bytes(out)


def _inflate_within(inflater: zlib._Decompress, data: bytes, cap: int) -> tuple[bytearray, bool]:
    """Inflate ``data`` until the stream ends or the output passes ``cap`` (by one byte).

    zlib is never asked for more than ``cap + 1 - len(out)`` bytes, so the
    output never grows past ``cap + 1`` however much the input would give.
    Returns the output and whether input was left unread.
    """
    out = bytearray()
    view, fed = memoryview(data), 0
    tail: bytes | memoryview = b""
    while not inflater.eof and len(out) <= cap:
        if not tail and fed < len(data):
            tail, fed = view[fed : fed + _CHUNK], fed + _CHUNK
        chunk = inflater.decompress(tail, cap + 1 - len(out))
        tail = inflater.unconsumed_tail
        out += chunk
        if not chunk and not tail and fed >= len(data):
            break
    return out, fed < len(data)


def _over_cap(cap: int, budget: int, limits: ArchiveLimits) -> ArchiveLimitError:
    if cap < budget:
        return ArchiveLimitError(
            f"inflates more than {limits.max_ratio} times its size (a compression bomb?)",
            limit="max_ratio",
        )
    return ArchiveLimitError(
        f"inflates beyond {budget} bytes; files may total {limits.max_total_bytes}",
        limit="max_total_bytes",
    )


def _check_end(inflater: zlib._Decompress, unread: bool) -> None:
    if not inflater.eof:
        raise ArchiveFormatError("truncated: the gzip stream ends early")
    # A second gzip member is trailing data too: a package is exactly one stream.
    if inflater.unused_data or unread:
        raise ArchiveFormatError("trailing data after the gzip stream")
