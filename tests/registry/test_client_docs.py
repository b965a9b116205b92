"""The skill-format reference says what the code does: its schema and its examples are real."""

from __future__ import annotations

import json
import re
from pathlib import Path

from registry.schemaerrors import schema_problems
from registry.sidecar import sidecar_schema
from registry.yamlsafe import safe_load

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "skill-format.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_documented_schema_is_the_shipped_one() -> None:
    documented = [json.loads(b) for b in blocks("json") if '"$schema"' in b]
    assert documented == [sidecar_schema()]


def test_the_documented_skill_yaml_is_valid() -> None:
    (example,) = [b for b in blocks("yaml") if b.startswith("version:")]
    assert schema_problems(sidecar_schema(), safe_load(example)) == []
