"""``skillyard skill init NAME``: a new skill folder that the publish validator accepts as is.

The folder holds ``SKILL.md`` (spec frontmatter and instructions),
``skill.yaml`` (version 0.1.0, one tool, a ``/NAME TEXT`` command and no
permissions), ``scripts/<tool>.py`` (stdlib only: JSON in, JSON out) and
``tests/input.json`` (a request the tool answers, to try it by hand with
``python scripts/<tool>.py < tests/input.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

from registry.client_errors import BadReference
from registry.skillmd import name_problems

__all__ = ["scaffold", "tool_name"]

_SKILL_MD = """\
---
name: {name}
description: {description}
license: Apache-2.0
---

# {title}

Say what this skill is for, and when the assistant should use it.

## Use

- Direct command: `/{name} some text` runs the `{tool}` tool with that text.
- Tool `{tool}` with `{{"text": "..."}}` returns `{{"text": "..."}}`.

## Notes

Keep this file under 500 lines; put long references in `references/`.
"""

_SKILL_YAML = """\
version: 0.1.0
command:
  tool: {tool}
  argument: text
tools:
  - name: {tool}
    description: Answer with the text it was given (replace with what your tool does).
    entrypoint: scripts/{tool}.py
    timeout: 5
    input:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {{type: string, maxLength: 2000}}
    output:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {{type: string}}
permissions:
  network: []
  env: []
  binaries: []
  filesystem: []
requirements: []
"""

_SCRIPT = '''\
"""The {tool} tool of the {name} skill: a JSON request on stdin, one JSON reply on stdout.

The request is {{"tool": ..., "input": {{...}}, "context": {{"user", "session", "now", ...}}}};
the reply is {{"output": {{...}}}} matching skill.yaml's output schema, or
{{"error": {{"message": "..."}}}} for a problem the user should read.
"""

from __future__ import annotations

import json
import sys


def answer(text: str) -> dict[str, str]:
    return {{"text": f"{name} says: {{text}}"}}


def main() -> None:
    request = json.load(sys.stdin)
    text = request.get("input", {{}}).get("text", "")
    if not text.strip():
        reply: dict[str, object] = {{"error": {{"message": "give me some text"}}}}
    else:
        reply = {{"output": answer(text)}}
    json.dump(reply, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\\n")


if __name__ == "__main__":
    main()
'''


def tool_name(skill: str) -> str:
    """A tool name (``^[a-z][a-z0-9_]*$``) made from a skill name."""
    name = skill.replace("-", "_")
    return name if name[0].isalpha() else f"run_{name}"


def scaffold(parent: Path, name: str, description: str) -> Path:
    """Write the new skill ``parent/name``; raises :class:`BadReference` for a bad name,
    ``FileExistsError`` if the folder exists."""
    problems = name_problems(name)
    if problems:
        raise BadReference(f"{name!r} cannot be a skill name: {'; '.join(problems)}")
    folder = parent / name
    folder.mkdir(parents=True)
    tool = tool_name(name)
    values = {
        "name": name,
        "tool": tool,
        "title": name.replace("-", " ").capitalize(),
        "description": json.dumps(description),
    }
    (folder / "SKILL.md").write_text(_SKILL_MD.format(**values), encoding="utf-8")
    (folder / "skill.yaml").write_text(_SKILL_YAML.format(**values), encoding="utf-8")
    (folder / "scripts").mkdir()
    (folder / "scripts" / f"{tool}.py").write_text(_SCRIPT.format(**values), encoding="utf-8")
    (folder / "tests").mkdir()
    request = {
        "tool": tool,
        "input": {"text": "hello"},
        "context": {"user": "you", "session": "test", "now": 0},
    }
    (folder / "tests" / "input.json").write_text(json.dumps(request, indent=2) + "\n", "utf-8")
    return folder
