"""Risk levels of every built-in, and argument inspection, as tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from brain.models.base import ToolCall
from brain.tools import Risk, ToolRegistry
from brain.tools.inspection import code_risk, sql_risk, strings_in, text_risk
from tests.brain.test_tools_fuzz import full_registry

R, W, X, N, D = Risk.READ, Risk.WRITE, Risk.EXECUTE, Risk.NETWORK, Risk.DESTRUCTIVE

CALLS = [
    ("read_file", {"path": "a.txt"}, R),
    ("write_file", {"path": "a.txt", "content": "rm -rf /"}, W),  # text written, not run
    ("send_file", {"path": "rm -rf.txt", "caption": "DROP TABLE x"}, R),  # sent, not run
    ("edit_file", {"path": "a.txt", "old_string": "a", "new_string": "b"}, W),
    ("run_python", {"code": "print(1)"}, X),
    ("run_python", {"code": "import shutil; shutil.rmtree('data')"}, D),
    ("run_python", {"code": "import os\nos.system('rm -rf ~')"}, D),
    ("run_python", {"code": "import os; os.remove('a')"}, D),
    ("run_python", {"code": "from pathlib import Path; Path('a').unlink()"}, D),
    ("run_python", {"code": "print('firm -rf')"}, X),
    ("sql_query", {"database": "a.db", "sql": "DELETE FROM t"}, R),
    ("sql_query", {"database": "a.db", "sql": "INSERT INTO t VALUES (1)", "write": True}, W),
    ("sql_query", {"database": "a.db", "sql": "update t set x = 1", "write": True}, D),
    ("sql_query", {"database": "a.db", "sql": "DROP TABLE t", "write": True}, D),
    ("sql_query", {"database": "a.db", "sql": "SELECT 'drop' -- delete", "write": True}, W),
    ("sql_query", {"database": "a.db", "sql": "SELECT replace(x, 'a', 'b') FROM t",
                   "write": True}, W),
    ("sql_query", {"database": "a.db", "sql": "INSERT OR REPLACE INTO t VALUES (1)",
                   "write": True}, D),
    ("sql_query", {"database": "a.db", "sql": "x", "write": "yes"}, R),  # not true: read-only
    ("http_request", {"url": "https://api.example.org/v1"}, R),
    ("http_request", {"url": "https://api.example.org/v1", "method": "POST"}, W),
    ("http_request", {"url": "https://api.example.org/v1", "method": "DELETE"}, D),
    ("http_request", {"url": "https://example.com/"}, N),
    ("memory_get_blocks", {}, R),
    ("memory_set_block", {"label": "user", "value": "x"}, W),
    ("memory_remember", {"kind": "fact", "content": "x"}, W),
    ("memory_search", {"query": "x"}, R),
    ("memory_forget", {"id": "k1"}, W),
    ("activate_skill", {"name": "calc"}, R),
    ("read_skill_resource", {"name": "calc", "path": "references/a.md"}, R),
    ("run_skill_tool", {"skill": "calc", "tool": "evaluate"}, X),
    ("calc__evaluate", {"expression": "1+1"}, X),
    ("calc__evaluate", {"expression": "rm -fr /"}, D),
    ("nope", {}, D),  # unknown: the strictest
]  # fmt: skip


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ToolRegistry:
    return full_registry(tmp_path_factory.mktemp("risk"))


@pytest.mark.parametrize(("name", "arguments", "risk"), CALLS)
def test_risk_of_each_call(
    registry: ToolRegistry, name: str, arguments: dict[str, Any], risk: Risk
) -> None:
    assert registry.risk_of(ToolCall("r1", name, arguments)) is risk


def test_every_builtin_is_in_the_table(registry: ToolRegistry) -> None:
    assert {name for name, _a, _r in CALLS} - {"nope"} == set(registry.names)


@pytest.mark.parametrize(
    ("code", "risk"),
    [
        ("rm -rf /tmp/x", D),
        ("rm -r build", D),
        ("rm --recursive x", D),
        ("rm -f file", D),
        ("subprocess.run(['rm', '-rf', 'x'])", D),
        ("subprocess.run(['rm', 'x'])", R),  # deletes a file, but not recursively: a miss
        ("os.unlink(path)", D),
        ("os.rmdir(path)", D),
        ("p.rmdir()", D),
        ("mkfs.ext4 /dev/sda1", D),
        ("dd if=/dev/zero of=/dev/sda", D),
        ("shred secrets.txt", D),
        ("ls -la", R),
        ("confirm -rf", R),
        ("print('remove')", R),
        (None, R),
        (42, R),
    ],
)
def test_code_risk(code: object, risk: Risk) -> None:
    assert code_risk(code) is risk


@pytest.mark.parametrize(
    ("sql", "write", "risk"),
    [
        ("DROP TABLE t", False, R),
        ("SELECT 1", True, W),
        ("delete from t", True, D),
        ("TRUNCATE t", True, D),
        ("SELECT '; DROP TABLE t; --'", True, W),  # inside a literal
        ("SELECT 1 /* update everything */", True, W),  # inside a comment
        ("SELECT 'it''s'; DELETE FROM t", True, D),  # an escaped quote does not hide it
        (None, True, W),
    ],
)
def test_sql_risk(sql: object, write: bool, risk: Risk) -> None:
    assert sql_risk(sql, write=write) is risk


def test_text_risk_looks_into_nested_arguments() -> None:
    assert text_risk({"a": [{"b": {"c": "rm -rf /"}}]}) is D
    assert text_risk({"rm -rf /": 1}) is D  # keys too
    assert text_risk({"a": [1, 2.5, None, True]}) is R


def test_strings_in_is_bounded() -> None:
    deep: Any = "rm -rf /"
    for _ in range(20_000):
        deep = [deep]
    assert list(strings_in(deep)) == []  # depth beyond the bound is not scanned
    wide = {f"k{i}": "x" for i in range(50_000)}
    assert len(list(strings_in(wide))) < 10_000


def test_module_registry_is_not_touched_on_disk(tmp_path: Path) -> None:
    full_registry(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["skills"]
