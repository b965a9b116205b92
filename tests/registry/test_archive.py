"""registry.archive: the deterministic package format and a malicious-archive suite.

Hostile archives are built with the standard library's ``tarfile`` (a
different writer from ours) or by hand, byte by byte, for what ``tarfile``
will not write.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import tracemalloc
import zlib
from pathlib import Path

import pytest

from registry.archive import ArchiveLimits, pack, unpack, write_tree
from registry.errors import (
    ArchiveFormatError,
    ArchiveLimitError,
    PackageError,
    UnsafePathError,
)
from registry.files import PackageFile, read_folder
from registry.hashing import content_hash

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def make_skill(root: Path) -> Path:
    folder = root / "demo"
    write_tree(
        [
            PackageFile("SKILL.md", b"---\nname: demo\ndescription: d\n---\nBody\n"),
            PackageFile("scripts/run.py", b"print(1)\n", executable=True),
            PackageFile("references/caf\u00e9.md", b"notes\n"),
            PackageFile("assets/" + "long-name-" * 12 + ".txt", b"x"),
        ],
        folder,
    )
    return folder


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A .tar.gz written by the standard library from ``(info, data)`` pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buffer.getvalue())


def entry(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **extra: object
) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for key, value in extra.items():
        setattr(info, key, value)
    return info, data if kind == tarfile.REGTYPE else None


def raw_header(name: bytes, size: int, typeflag: bytes = b"0", mode: int = 0o644) -> bytes:
    """A ustar header written by hand, checksum included."""
    header = bytearray(512)
    header[: len(name)] = name
    header[100:108] = b"%07o\x00" % mode
    header[124:136] = b"%011o\x00" % size
    header[148:156] = b" " * 8
    header[156:157] = typeflag
    header[257:265] = b"ustar\x0000"
    header[148:156] = b"%06o\x00 " % sum(header)
    return bytes(header)


def raw_member(name: bytes, data: bytes, typeflag: bytes = b"0") -> bytes:
    return raw_header(name, len(data), typeflag) + data + bytes(-len(data) % 512)


END = bytes(1024)


# ----------------------------------------------------------------------------- the format


def test_pack_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    folder = make_skill(tmp_path)
    first = pack(folder)
    os.utime(folder / "SKILL.md", (1, 1))
    assert pack(folder) == first
    files = unpack(first)
    assert [f.path for f in files] == sorted(f.path for f in read_folder(folder))
    assert content_hash(files) == content_hash(read_folder(folder))
    assert next(f for f in files if f.path == "scripts/run.py").executable


def test_the_archive_is_plain_tar_for_other_tools(tmp_path: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(pack(make_skill(tmp_path)))) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {m.type for m in members} == {tarfile.REGTYPE}
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert {m.mode for m in members} == {0o644, 0o755}
    assert "references/caf\u00e9.md" in {m.name for m in members}


def test_archives_written_by_tarfile_are_read(tmp_path: Path) -> None:
    data = tar_gz(
        entry("SKILL.md", b"x"),
        entry("scripts/", kind=tarfile.DIRTYPE),
        entry("scripts/a.sh", b"y", mode=0o775),
    )
    files = unpack(data)
    assert [(f.path, f.data, f.executable) for f in files] == [
        ("SKILL.md", b"x", False),
        ("scripts/a.sh", b"y", True),
    ]


def test_pack_refuses_links_and_collisions(tmp_path: Path) -> None:
    folder = make_skill(tmp_path)
    (folder / "link").symlink_to(folder / "SKILL.md")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        pack(folder)
    (folder / "link").unlink()
    (folder / "skill.md").write_text("other")
    with pytest.raises(UnsafePathError, match="collides"):
        pack(folder)


def test_pack_refuses_a_fifo(tmp_path: Path) -> None:
    folder = make_skill(tmp_path)
    os.mkfifo(folder / "pipe")
    with pytest.raises(UnsafePathError, match="not a regular file"):
        pack(folder)


def test_pack_enforces_the_limits(tmp_path: Path) -> None:
    folder = make_skill(tmp_path)
    with pytest.raises(ArchiveLimitError) as caught:
        pack(folder, limits=ArchiveLimits(max_files=2))
    assert caught.value.limit == "max_files"
    (folder / "big.bin").write_bytes(b"x" * (MIB + 1))
    with pytest.raises(ArchiveLimitError, match="larger than") as caught:
        pack(folder)
    assert (caught.value.limit, caught.value.member) == ("max_file_bytes", "big.bin")


# ----------------------------------------------------------------------------- write_tree


def test_write_tree_makes_a_fresh_folder_with_two_modes(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_tree([PackageFile("a/b.py", b"1", True), PackageFile("c.md", b"2")], tmp_path / "out")
    finally:
        os.umask(old)
    modes = {
        p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in (tmp_path / "out").rglob("*")
    }
    assert modes == {"out/a": 0o755, "out/a/b.py": 0o755, "out/c.md": 0o644}
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_write_tree_refuses_an_existing_destination(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    with pytest.raises(PackageError, match="already exists"):
        write_tree([PackageFile("keep", b"theirs")], tmp_path / "out")
    assert (tmp_path / "out" / "keep").read_text() == "mine"


def test_write_tree_leaves_nothing_behind_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import registry.files

    calls = []
    real = registry.files._write_file

    def failing(dest: Path, file: PackageFile) -> None:
        calls.append(file.path)
        if len(calls) == 2:
            raise OSError("disk full")
        real(dest, file)

    monkeypatch.setattr(registry.files, "_write_file", failing)
    with pytest.raises(OSError, match="disk full"):
        write_tree([PackageFile("a", b"1"), PackageFile("b", b"2")], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../../b", "a\\b"])
def test_write_tree_checks_names_itself(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePathError):
        write_tree([PackageFile(name, b"x")], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- hostile names


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../../etc/passwd", "'..'"),
        ("skill/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("a\\..\\..\\x", "backslash"),
        ("C:evil", "Windows"),
        ("./a", "'.'"),
        ("a//b", "empty"),
        ("a/", "empty"),
        ("a\x1bb", "control"),
        ("evil\u202etxt.exe", r"U\+202E"),
        ("a" * 256, "over 255"),
        ("/".join(["abcdefghij"] * 110), "longer than 1024"),
        ("name. ", "space or a dot"),
    ],
)
def test_hostile_names_are_refused(name: str, fragment: str) -> None:
    with pytest.raises(UnsafePathError, match=fragment) as caught:
        unpack(tar_gz(entry(name, b"x")))
    assert caught.value.member is not None


def test_nul_in_a_pax_name_is_refused() -> None:
    info, data = entry("safe.txt", b"x")
    info.pax_headers = {"path": "a\x00b"}
    with pytest.raises(UnsafePathError, match="NUL"):
        unpack(tar_gz((info, data)))


def test_data_hidden_after_a_nul_in_a_name_is_refused() -> None:
    raw = raw_member(b"safe.txt\x00../../.bashrc", b"x") + END
    with pytest.raises(UnsafePathError, match="after its NUL"):
        unpack(gzip.compress(raw))


def test_an_empty_name_is_refused() -> None:
    raw = raw_member(b"", b"x") + END
    with pytest.raises(UnsafePathError, match="empty"):
        unpack(gzip.compress(raw))


def test_names_must_be_utf8() -> None:
    raw = raw_member(b"caf\xe9.md", b"x") + END
    with pytest.raises(UnsafePathError, match="UTF-8"):
        unpack(gzip.compress(raw))


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        (["a.md", "a.md"], "listed twice"),
        (["SKILL.md", "skill.md"], "collides"),
        (["caf\u00e9.md", "cafe\u0301.md"], "listed twice"),
        (["scripts", "scripts/run.py"], "file and also a folder"),
        (["Straße.md", "STRASSE.md"], "collides"),
    ],
)
def test_colliding_names_are_refused(names: list[str], fragment: str) -> None:
    with pytest.raises(UnsafePathError, match=fragment):
        unpack(tar_gz(*(entry(name, b"x") for name in names), fmt=tarfile.PAX_FORMAT))


def test_a_folder_entry_may_not_shadow_a_file() -> None:
    with pytest.raises(UnsafePathError, match="both a folder and a file"):
        unpack(tar_gz(entry("A", b"x"), entry("a/", kind=tarfile.DIRTYPE)))


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.CHRTYPE, "character device"),
        (tarfile.BLKTYPE, "block device"),
        (tarfile.FIFOTYPE, "FIFO"),
        (tarfile.CONTTYPE, "contiguous"),
        (b"V", "unknown type"),
    ],
)
def test_links_devices_and_fifos_are_refused(kind: bytes, fragment: str) -> None:
    data = tar_gz(entry("x", kind=kind, linkname="/etc/passwd"), fmt=tarfile.GNU_FORMAT)
    with pytest.raises(UnsafePathError, match=fragment):
        unpack(data)


def test_gnu_long_names_and_sparse_files_are_refused() -> None:
    with pytest.raises(UnsafePathError, match="GNU long name"):
        unpack(tar_gz(entry("d/" + "n" * 150, b"x"), fmt=tarfile.GNU_FORMAT))
    sparse = raw_member(b"sparse", b"", typeflag=b"S") + END
    with pytest.raises(UnsafePathError, match="sparse"):
        unpack(gzip.compress(sparse))


def test_clutter_inside_an_archive_is_refused() -> None:
    # Packing leaves these out; an archive carrying them was not made by pack().
    with pytest.raises(UnsafePathError, match="clutter"):
        unpack(tar_gz(entry("SKILL.md", b"x"), entry(".git/hooks/post-checkout", b"#!/bin/sh")))


# ----------------------------------------------------------------------------- PAX tricks


def test_a_pax_path_is_honoured_and_then_checked() -> None:
    info, data = entry("innocent.txt", b"x")
    info.pax_headers = {"path": "../../.bashrc"}
    with pytest.raises(UnsafePathError, match=r"'\.\.'") as caught:
        unpack(tar_gz((info, data)))
    assert caught.value.member == "../../.bashrc"


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ("size", "'size' is not allowed"),
        ("linkpath", "'linkpath' is not allowed"),
        ("GNU.sparse.size", "is not allowed"),
        ("hdrcharset", "is not allowed"),
    ],
)
def test_pax_records_that_change_meaning_are_refused(record: str, fragment: str) -> None:
    info, data = entry("a.txt", b"x")
    info.pax_headers = {record: "99999999"}
    with pytest.raises(ArchiveFormatError, match=fragment):
        unpack(tar_gz((info, data)))


def test_a_global_pax_header_is_refused() -> None:
    global_header = raw_member(b"pax_global_header", b"18 path=evil/../x\n", typeflag=b"g")
    raw = global_header + raw_member(b"a", b"x") + END
    with pytest.raises(UnsafePathError, match="global PAX header"):
        unpack(gzip.compress(raw))


@pytest.mark.parametrize(
    "records",
    [b"999 path=x\n", b"abc path=x\n", b"12 path=x\n", b"8 pathx\n", b"5 a=\n"],
)
def test_malformed_pax_records_are_refused(records: bytes) -> None:
    raw = raw_member(b"././@PaxHeader", records, typeflag=b"x") + raw_member(b"a", b"x") + END
    with pytest.raises(ArchiveFormatError, match="PAX"):
        unpack(gzip.compress(raw))


def test_a_pax_header_must_be_followed_by_a_file() -> None:
    pax = raw_member(b"././@PaxHeader", b"10 path=a\n", typeflag=b"x")
    with pytest.raises(ArchiveFormatError, match="not followed"):
        unpack(gzip.compress(raw_member(b"a", b"x") + pax + END))
    with pytest.raises(ArchiveFormatError, match="in a row"):
        unpack(gzip.compress(pax + pax + raw_member(b"a", b"x") + END))


def test_a_size_field_larger_than_the_data_is_truncation() -> None:
    raw = raw_header(b"a", 4096) + b"short"
    with pytest.raises(ArchiveFormatError, match="truncated"):
        unpack(gzip.compress(raw))


# ----------------------------------------------------------------------------- bombs and caps


def gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of ``inflated`` zero bytes, built in O(compressed) time.

    After a full flush deflate restarts, so one flushed 1 MiB block of zeros
    can be repeated; the stream ends there, without a trailer, because an
    unpacker must give up long before it would read one.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MIB)
    head = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + middle * (inflated // MIB - 1)


def test_a_gzip_bomb_is_stopped_without_inflating_it() -> None:
    bomb = gzip_bomb(4 * 1024 * MIB)  # 4 GiB of zeros in ~4 MiB
    assert len(bomb) < 5 * MIB
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveLimitError) as caught:
            unpack(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.limit in {"max_ratio", "max_total_bytes"}
    assert peak < 64 * MIB


def test_a_tiny_archive_that_inflates_a_lot_hits_the_ratio_cap() -> None:
    data = tar_gz(entry("zeros.bin", bytes(900 * 1024)))
    with pytest.raises(ArchiveLimitError, match="times its size") as caught:
        unpack(data, limits=ArchiveLimits(max_ratio=20, ratio_floor_bytes=64 * 1024))
    assert caught.value.limit == "max_ratio"
    assert len(unpack(data)) == 1  # under the default floor of 1 MiB


def test_file_and_total_size_caps() -> None:
    with pytest.raises(ArchiveLimitError, match="larger than") as caught:
        unpack(tar_gz(entry("big", os.urandom(2048))), limits=ArchiveLimits(max_file_bytes=1024))
    assert (caught.value.limit, caught.value.member) == ("max_file_bytes", "big")
    many = [entry(f"f{i}", os.urandom(600)) for i in range(4)]
    with pytest.raises(ArchiveLimitError, match="total") as caught:
        unpack(tar_gz(*many), limits=ArchiveLimits(max_total_bytes=2000))
    assert caught.value.limit == "max_total_bytes"


def test_a_huge_size_field_is_refused_before_reading() -> None:
    raw = raw_header(b"huge", 8 * 1024**3) + END
    with pytest.raises(ArchiveLimitError, match="larger than"):
        unpack(gzip.compress(raw))


def test_more_files_than_allowed() -> None:
    members = empty_files(300)
    with pytest.raises(ArchiveLimitError, match="more than 256 entries") as caught:
        unpack(gzip.compress(members + END))
    assert caught.value.limit == "max_files"


def empty_files(count: int) -> bytes:
    """``count`` distinct empty ustar members, fast: only the name's bytes move the checksum."""
    template = raw_header(b"f0000000", 0)
    base = sum(template[8:148]) + sum(template[156:]) + 8 * ord(" ")
    return b"".join(
        name + template[8:148] + b"%06o\x00 " % (base + sum(name)) + template[156:]
        for name in (b"f%07d" % i for i in range(count))
    )


def test_a_hundred_thousand_entries_are_refused_quickly() -> None:
    assert unpack(gzip.compress(empty_files(3) + END))[2].path == "f0000002"
    data = gzip.compress(empty_files(100_000) + END, compresslevel=1)
    with pytest.raises(ArchiveLimitError):
        unpack(data)


# ----------------------------------------------------------------------------- not our format


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not a gzip"),
        (b"PK\x03\x04 a zip file", "not a gzip"),
        (b"\x1f\x8b\x08" + b"\x00" * 7 + b"garbage", "corrupt"),
        (gzip.compress(b"not a tar archive at all" * 40), "tar header"),
        (gzip.compress(b""), "truncated"),
        (gzip.compress(END), "no files"),
        (gzip.compress(raw_member(b"a", b"x")), "end marker"),
    ],
)
def test_non_archives_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(ArchiveFormatError, match=fragment):
        unpack(data)


def test_a_bad_checksum_is_refused() -> None:
    header = bytearray(raw_header(b"a", 1))
    header[0:1] = b"b"
    with pytest.raises(ArchiveFormatError, match="checksum"):
        unpack(gzip.compress(bytes(header) + b"x" + bytes(511) + END))


def test_trailing_data_is_refused(tmp_path: Path) -> None:
    good = pack(make_skill(tmp_path))
    with pytest.raises(ArchiveFormatError, match="trailing data after the gzip"):
        unpack(good + b"junk")
    with pytest.raises(ArchiveFormatError, match="trailing data after the gzip"):
        unpack(good + gzip.compress(b"second member"))
    inner = gzip.decompress(good) + b"hidden payload"
    with pytest.raises(ArchiveFormatError, match="after the end of the archive"):
        unpack(gzip.compress(inner))
    with pytest.raises(ArchiveFormatError, match="truncated"):
        unpack(good[: len(good) // 2])


def test_first_party_skills_pack_and_unpack(tmp_path: Path) -> None:
    for folder in sorted((REPO / "skills").iterdir()):
        if (folder / "SKILL.md").is_file():
            files = unpack(pack(folder))
            write_tree(files, tmp_path / folder.name)
            assert content_hash(read_folder(tmp_path / folder.name)) == content_hash(files)
