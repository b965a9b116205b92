"""registry.hashing: the canonical content hash, by properties and a golden vector."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.archive import pack, unpack
from registry.errors import UnsafePathError
from registry.files import PackageFile, write_tree
from registry.hashing import HASH_FORMAT, content_hash, hash_folder, manifest_lines

NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-é", min_size=1, max_size=12)
PATH = st.lists(NAME, min_size=1, max_size=3).map("/".join)
FILE = st.builds(PackageFile, path=PATH, data=st.binary(max_size=64), executable=st.booleans())


def _distinct(files: list[PackageFile]) -> bool:
    """No duplicate (case-folded) names and no name that is also a folder of another."""
    keys = [f.path.casefold() for f in files]
    folders = {"/".join(k.split("/")[:i]) for k in keys for i in range(1, k.count("/") + 1)}
    return len(set(keys)) == len(keys) and not folders & set(keys)


FILES = st.lists(FILE, min_size=1, max_size=8).filter(_distinct)
FAST = settings(max_examples=100, deadline=None)


def test_golden_vector() -> None:
    # Changing this hash changes every published version's identity: never update it
    # without a new HASH_FORMAT.
    files = [
        PackageFile("SKILL.md", b"---\nname: demo\n---\n"),
        PackageFile("scripts/run.py", b"print(1)\n", executable=True),
    ]
    assert manifest_lines(files) == [
        HASH_FORMAT,
        f"{hashlib.sha256(files[0].data).hexdigest()} 19 - SKILL.md",
        f"{hashlib.sha256(files[1].data).hexdigest()} 9 x scripts/run.py",
    ]
    assert content_hash(files) == (
        "sha256:"
        + hashlib.sha256(
            "".join(f"{line}\n" for line in manifest_lines(files)).encode()
        ).hexdigest()
    )
    assert (
        content_hash(files)
        == "sha256:a85dd65aa891e46a48c372396906b375822184957d66c74afcde019cd4579093"
    )


@FAST
@given(FILES, st.randoms())
def test_order_does_not_matter(files: list[PackageFile], random: object) -> None:
    shuffled = list(files)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert content_hash(shuffled) == content_hash(files)


@FAST
@given(FILES, st.data())
def test_any_content_change_changes_the_hash(files: list[PackageFile], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(files) - 1))
    old = files[index]
    new_data = data.draw(st.binary(max_size=64).filter(lambda b: b != old.data))
    changed = [*files[:index], PackageFile(old.path, new_data, old.executable), *files[index + 1 :]]
    assert content_hash(changed) != content_hash(files)


@FAST
@given(FILES, st.data())
def test_the_exec_bit_and_the_path_count(files: list[PackageFile], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(files) - 1))
    old = files[index]
    flipped = [
        *files[:index],
        PackageFile(old.path, old.data, not old.executable),
        *files[index + 1 :],
    ]
    assert content_hash(flipped) != content_hash(files)
    renamed = [
        *files[:index],
        PackageFile(old.path + "x", old.data, old.executable),
        *files[index + 1 :],
    ]
    if _distinct(renamed):
        assert content_hash(renamed) != content_hash(files)
    assert content_hash([*files, PackageFile("zz-new-empty", b"")]) != content_hash(files)


def test_moving_bytes_between_files_changes_the_hash() -> None:
    # Sizes are in the manifest, so "ab" + "" and "a" + "b" cannot collide.
    one = [PackageFile("a", b"ab"), PackageFile("b", b"")]
    two = [PackageFile("a", b"a"), PackageFile("b", b"b")]
    assert content_hash(one) != content_hash(two)


def test_paths_are_compared_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "café.md")
    assert nfd != "café.md"
    assert content_hash([PackageFile(nfd, b"x")]) == content_hash([PackageFile("café.md", b"x")])


@pytest.mark.parametrize(
    "files",
    [
        [PackageFile("a", b""), PackageFile("a", b"x")],
        [PackageFile("A.md", b""), PackageFile("a.md", b"")],
        [PackageFile("a", b""), PackageFile("a/b", b"")],
        [PackageFile("../a", b"")],
        [PackageFile("a\\b", b"")],
        [PackageFile("a\nb", b"")],
    ],
)
def test_names_a_package_cannot_hold_are_refused(files: list[PackageFile]) -> None:
    with pytest.raises(UnsafePathError):
        content_hash(files)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=FILES, times=st.lists(st.integers(0, 2**31), min_size=8, max_size=8))
def test_folder_archive_and_list_agree_whatever_the_timestamps(
    tmp_path_factory: pytest.TempPathFactory, files: list[PackageFile], times: list[int]
) -> None:
    folder = tmp_path_factory.mktemp("h") / "skill"
    write_tree(files, folder)
    for path, stamp in zip(sorted(folder.rglob("*")), times * 10, strict=False):
        os.utime(path, (stamp, stamp))
    expected = content_hash(files)
    assert hash_folder(folder) == expected
    assert content_hash(unpack(pack(folder))) == expected


def test_clutter_does_not_count(tmp_path: Path) -> None:
    folder = tmp_path / "skill"
    write_tree([PackageFile("SKILL.md", b"x"), PackageFile("scripts/a.py", b"y")], folder)
    before = hash_folder(folder)
    (folder / "scripts" / "__pycache__").mkdir()
    (folder / "scripts" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    assert hash_folder(folder) == before
    (folder / "scripts" / "a.py").write_text("z")
    assert hash_folder(folder) != before
