"""The tar layer of the package format: a small, strict writer and reader (pure, in memory).

Theory of operation
-------------------
We write POSIX ustar entries (``mtime`` 0, ``uid``/``gid`` 0, empty owner
names, mode 0644 or 0755, regular files only, sorted by path), with a PAX
``path`` record in front of any name that is not ASCII or longer than 100
bytes, and two zero blocks at the end (POSIX.1-2008, ``pax`` format).

The reader is deliberately narrower than :mod:`tarfile`, because every
feature of tar is a way for an archive to mean one thing to a scanner and
another to an extractor:

* entry types: regular files and directories only (directories are checked
  and dropped); links, devices, FIFOs, sparse and contiguous files, GNU long
  names and global PAX headers are refused, each by name;
* a per-file PAX header may carry ``path`` (honoured, then checked like any
  name) and time/owner records (ignored); ``size``, ``linkpath``,
  ``hdrcharset``, ``GNU.sparse.*`` or anything else is refused, so the ustar
  size field is the only size there is;
* header checksums, octal fields and record lengths are parsed by hand (no
  regular expressions, no backtracking), sizes are checked against the caps
  *before* any data is sliced, and after the end marker only zero bytes may
  follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.errors import ArchiveFormatError, ArchiveLimitError, UnsafePathError
from registry.files import ArchiveLimits, PackageFile
from registry.paths import check_tree, is_excluded, normalise_path

__all__ = ["BLOCK", "read_tar", "write_tar"]

BLOCK = 512
_ZERO = bytes(BLOCK)
_USTAR_MAGICS = (b"ustar\x0000", b"ustar  \x00")
_REGULAR, _DIRECTORY, _PAX = (b"0", b"\x00"), b"5", b"x"
_REFUSED_TYPES = {
    b"1": "a hard link",
    b"2": "a symbolic link",
    b"3": "a character device",
    b"4": "a block device",
    b"6": "a FIFO",
    b"7": "a contiguous file",
    b"g": "a global PAX header",
    b"K": "a GNU long link name",
    b"L": "a GNU long name (this format uses PAX)",
    b"S": "a GNU sparse file",
}
_IGNORED_PAX = frozenset({"mtime", "atime", "ctime", "uid", "gid", "uname", "gname", "comment"})


# ----------------------------------------------------------------------------- writing


def write_tar(files: Sequence[PackageFile]) -> bytes:
    """The tar bytes for ``files`` (already normalised and checked), sorted by path."""
    out = bytearray()
    for file in sorted(files, key=lambda f: f.path):
        name = file.path.encode("utf-8")
        if len(name) > 100 or not name.isascii():
            record = _pax_record("path", file.path)
            out += _header(b"././@PaxHeader", len(record), 0o644, _PAX) + _padded(record)
            name = name.decode("utf-8").encode("ascii", "replace")[:100]
        out += _header(name, len(file.data), file.mode, b"0") + _padded(file.data)
    return bytes(out + _ZERO + _ZERO)


def _header(name: bytes, size: int, mode: int, typeflag: bytes) -> bytes:
    header = bytearray(BLOCK)
    header[0 : len(name)] = name
    header[100:108] = b"%07o\x00" % mode
    header[108:116] = header[116:124] = header[329:337] = header[337:345] = b"0000000\x00"
    header[124:136] = b"%011o\x00" % size
    header[136:148] = b"%011o\x00" % 0
    header[148:156] = b" " * 8
    header[156:157] = typeflag
    header[257:265] = _USTAR_MAGICS[0]
    header[148:156] = b"%06o\x00 " % sum(header)
    return bytes(header)


def _pax_record(keyword: str, value: str) -> bytes:
    """``"<len> keyword=value\\n"`` where ``len`` counts the whole record, itself included."""
    body = f" {keyword}={value}\n".encode()
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length = len(str(length)) + len(body)
    return str(length).encode() + body


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Header:
    name: str
    mode: int
    size: int
    typeflag: bytes


@dataclass(slots=True)
class _Reading:
    """The reader's running totals, checked against the limits as it goes."""

    limits: ArchiveLimits
    members: int = 0
    total: int = 0


def read_tar(raw: bytes, limits: ArchiveLimits) -> list[PackageFile]:
    """The regular files in tar bytes ``raw``, checked as the module docstring says."""
    files: list[PackageFile] = []
    folders: list[str] = []
    state, pos, pax_path = _Reading(limits), 0, None
    while (header := _next_header(raw, pos)) is not None:
        pos += BLOCK
        _check_size(header, state, pax_path)
        data, pos = raw[pos : pos + header.size], pos + header.size + (-header.size % BLOCK)
        if len(data) < header.size:
            raise ArchiveFormatError("truncated: a file's data is cut off", member=header.name)
        if header.typeflag == _PAX:
            pax_path = _pax_path(data, pax_path)
            continue
        name, pax_path = header.name if pax_path is None else pax_path, None
        _add(name, header, data, files, folders, state)
    if pax_path is not None:
        raise ArchiveFormatError("a PAX header is not followed by a file", member=pax_path)
    if any(raw[pos:]):
        raise ArchiveFormatError("trailing data after the end of the archive")
    _check_folders(files, folders)
    return files


def _next_header(raw: bytes, pos: int) -> _Header | None:
    block = raw[pos : pos + BLOCK]
    if len(block) < BLOCK:
        raise ArchiveFormatError("truncated: the archive ends without its end marker")
    return None if block == _ZERO else _parse_header(block)


def _parse_header(block: bytes) -> _Header:
    if block[257:265] not in _USTAR_MAGICS and block[257:263] != b"ustar\x00":
        raise ArchiveFormatError("not a ustar/pax tar header")
    stored = _octal(block[148:156], "checksum")
    blanked = block[:148] + b" " * 8 + block[156:]
    signed = sum(b - 256 if b > 127 else b for b in blanked)
    if stored not in (sum(blanked), signed):
        raise ArchiveFormatError("a tar header's checksum does not match")
    name = _text(block[0:100])
    prefix = _text(block[345:500]) if block[257:263] == b"ustar\x00" else ""
    return _Header(
        name=f"{prefix}/{name}" if prefix else name,
        mode=_octal(block[100:108], "mode"),
        size=_octal(block[124:136], "size"),
        typeflag=block[156:157],
    )


def _octal(field: bytes, what: str) -> int:
    digits = field.split(b"\x00", 1)[0].strip(b" ")
    if not digits or any(c not in b"01234567" for c in digits):
        raise ArchiveFormatError(f"a tar header's {what} field is not an octal number")
    return int(digits, 8)


def _text(field: bytes) -> str:
    raw, _, rest = field.partition(b"\x00")
    if rest.strip(b"\x00"):
        # Readers disagree on what follows a NUL; ours and tarfile's stop there, others may not.
        raise UnsafePathError("a name field holds data after its NUL", member=raw.decode("latin-1"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafePathError("a name is not UTF-8", member=raw.decode("latin-1")) from None


def _check_size(header: _Header, state: _Reading, pax_path: str | None) -> None:
    limits = state.limits
    if header.size > limits.max_file_bytes:
        raise ArchiveLimitError(
            f"is larger than {limits.max_file_bytes} bytes",
            limit="max_file_bytes",
            member=pax_path or header.name,
        )
    state.total += header.size
    if state.total > limits.max_total_bytes:
        raise ArchiveLimitError(
            f"files total more than {limits.max_total_bytes} bytes", limit="max_total_bytes"
        )


def _pax_path(data: bytes, pending: str | None) -> str | None:
    if pending is not None:
        raise ArchiveFormatError("two PAX headers in a row", member=pending)
    path = None
    for keyword, value in _pax_records(data):
        if keyword == "path":
            path = value
        elif keyword not in _IGNORED_PAX:
            raise ArchiveFormatError(f"PAX record {keyword!r} is not allowed in a package")
    return path


def _pax_records(data: bytes) -> list[tuple[str, str]]:
    records, pos = [], 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos, pos + 21)
        length = int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        record = data[pos : pos + length]
        if length <= space - pos + 1 or len(record) < length or not record.endswith(b"\n"):
            raise ArchiveFormatError("a PAX header has a malformed record")
        keyword, sep, value = record[space - pos + 1 : -1].partition(b"=")
        if not sep:
            raise ArchiveFormatError("a PAX record has no '='")
        try:
            records.append((keyword.decode("utf-8"), value.decode("utf-8")))
        except UnicodeDecodeError:
            raise UnsafePathError("a PAX record is not UTF-8") from None
        pos += length
    return records


def _add(
    name: str,
    header: _Header,
    data: bytes,
    files: list[PackageFile],
    folders: list[str],
    state: _Reading,
) -> None:
    state.members += 1
    if state.members > state.limits.max_files:
        limit = state.limits.max_files
        raise ArchiveLimitError(f"more than {limit} entries", limit="max_files", member=name)
    if header.typeflag in _REGULAR:
        path = normalise_path(name)
        if is_excluded(path):
            # pack() leaves these out, so hash_folder() of the written tree would skip them.
            raise UnsafePathError(
                "is clutter a package never holds (.git, *.pyc, ...)", member=name
            )
        files.append(PackageFile(path, data, bool(header.mode & 0o100)))
    elif header.typeflag == _DIRECTORY and header.size == 0:
        folders.append(normalise_path(name.removesuffix("/")))
    elif header.typeflag == _DIRECTORY:
        raise ArchiveFormatError("is a folder entry that carries data", member=name)
    else:
        what = _REFUSED_TYPES.get(header.typeflag, f"of unknown type {header.typeflag!r}")
        raise UnsafePathError(f"is {what}; packages hold regular files only", member=name)


def _check_folders(files: list[PackageFile], folders: list[str]) -> None:
    """Names are unique and case-distinct; a folder entry may not shadow a file."""
    check_tree(file.path for file in files)
    names = {file.path.casefold() for file in files}
    clash = next((folder for folder in folders if folder.casefold() in names), None)
    if clash is not None:
        raise UnsafePathError("is both a folder and a file", member=clash)
