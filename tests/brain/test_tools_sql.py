"""sql_query: read-only unless the call asks to write, and never outside the workspace."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from brain.models.base import ToolCall
from brain.steps import ToolOutcome
from brain.tools import CallContext, Risk, ToolRegistry, workspace_dir
from brain.tools.sql_tool import SqlTool

CONTEXT = CallContext(user="web:alice", session="web:default:c1")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def database(data_dir: Path) -> Path:
    path = workspace_dir(data_dir, CONTEXT.session) / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        connection.executemany(
            "INSERT INTO items (name, price) VALUES (?, ?)",
            [("apple", 0.5), ("pear", 0.75), ("melon", 2.0)],
        )
    connection.close()
    return path


@pytest.fixture
def registry(data_dir: Path) -> ToolRegistry:
    return ToolRegistry([SqlTool(data_dir, max_rows=2).tool()])


async def query(registry: ToolRegistry, sql: str, **args: Any) -> ToolOutcome:
    call = ToolCall("s1", "sql_query", {"database": "shop.db", "sql": sql, **args})
    return await registry.execute(call, CONTEXT)


def absent(path: Path) -> bool:
    return not path.exists()


def rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT name, price FROM items ORDER BY id").fetchall()
    connection.close()
    return found


async def test_select_with_params_and_a_row_cap(registry: ToolRegistry, database: Path) -> None:
    outcome = await query(registry, "SELECT name, price FROM items WHERE price < ?", params=[5])
    assert json.loads(outcome.content) == {
        "columns": ["name", "price"],
        "rows": [["apple", 0.5], ["pear", 0.75]],
        "truncated": True,
    }


WRITES = [
    "INSERT INTO items (name, price) VALUES ('kiwi', 1)",
    "UPDATE items SET price = 0",
    "DELETE FROM items",
    "DROP TABLE items",
    "CREATE TABLE evil (x)",
    "PRAGMA query_only = OFF",
    "ATTACH DATABASE 'other.db' AS other",
]


@pytest.mark.parametrize("sql", WRITES)
async def test_read_only_calls_cannot_change_anything(
    registry: ToolRegistry, database: Path, sql: str
) -> None:
    before = rows(database)
    outcome = await query(registry, sql)
    assert json.loads(outcome.content)["kind"] == "refused", outcome
    assert rows(database) == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["shop.db"]


async def test_write_mode_changes_data(registry: ToolRegistry, database: Path) -> None:
    outcome = await query(registry, "UPDATE items SET price = price * 2", write=True)
    assert json.loads(outcome.content) == {"changes": 3}
    assert rows(database) == [("apple", 1.0), ("pear", 1.5), ("melon", 4.0)]


async def test_write_mode_creates_a_database(registry: ToolRegistry, data_dir: Path) -> None:
    call = {"database": "new.db", "sql": "CREATE TABLE t (x)", "write": True}
    outcome = await registry.execute(ToolCall("s1", "sql_query", call), CONTEXT)
    assert outcome.ok, outcome
    assert (workspace_dir(data_dir, CONTEXT.session) / "new.db").is_file()


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE '{outside}' AS x",
        "VACUUM INTO '{outside}'",
        "PRAGMA journal_mode = DELETE",
    ],
)
async def test_even_write_mode_cannot_reach_other_files_or_set_pragmas(
    registry: ToolRegistry, database: Path, tmp_path: Path, sql: str
) -> None:
    outside = tmp_path / "outside.db"
    outcome = await query(registry, sql.format(outside=outside), write=True)
    assert json.loads(outcome.content)["kind"] == "refused"
    assert absent(outside)


async def test_reading_pragmas_is_allowed(registry: ToolRegistry, database: Path) -> None:
    outcome = await query(registry, "PRAGMA table_info(items)")
    assert [row[1] for row in json.loads(outcome.content)["rows"]] == ["id", "name"]


async def test_errors_are_observations(registry: ToolRegistry, database: Path) -> None:
    assert json.loads((await query(registry, "SELEC 1")).content)["kind"] == "failed"
    two = await query(registry, "SELECT 1; SELECT 2")
    assert json.loads(two.content)["kind"] == "failed"
    missing = {"database": "none.db", "sql": "SELECT 1"}
    outcome = await registry.execute(ToolCall("s1", "sql_query", missing), CONTEXT)
    assert json.loads(outcome.content)["kind"] == "not_found"
    escape = {"database": "../../state.db", "sql": "SELECT 1"}
    outcome = await registry.execute(ToolCall("s1", "sql_query", escape), CONTEXT)
    assert json.loads(outcome.content)["kind"] == "path_refused"


async def test_a_long_statement_is_stopped_by_the_clock(data_dir: Path, database: Path) -> None:
    ticks = itertools.count(0, 100)  # every look at the clock is 100 s later
    registry = ToolRegistry([SqlTool(data_dir, timeout_s=10, clock=lambda: next(ticks)).tool()])
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    outcome = await query(registry, endless)
    body = json.loads(outcome.content)
    assert body["kind"] == "timeout" and "10 s" in body["error"]


async def test_blobs_and_odd_values_are_json(registry: ToolRegistry, database: Path) -> None:
    outcome = await query(registry, "SELECT x'00ff', 9e999, NULL")
    assert json.loads(outcome.content)["rows"] == [["<blob of 2 bytes>", "inf", None]]


@pytest.mark.parametrize(
    ("args", "risk"),
    [
        ({"sql": "DROP TABLE items"}, Risk.READ),  # read-only: SQLite refuses it anyway
        ({"sql": "SELECT 1", "write": True}, Risk.WRITE),
        ({"sql": "INSERT INTO items VALUES (1, 'a', 1)", "write": True}, Risk.WRITE),
        ({"sql": "DELETE FROM items", "write": True}, Risk.DESTRUCTIVE),
    ],
)
def test_risk(registry: ToolRegistry, args: dict[str, Any], risk: Risk) -> None:
    call = ToolCall("s1", "sql_query", {"database": "shop.db", **args})
    assert registry.risk_of(call) is risk
