"""``activate_skill`` and ``read_skill_resource``: a skill's instructions on demand.

Progressive disclosure (Agent Skills spec): the catalog shows a skill's name
and description; ``activate_skill`` returns its ``SKILL.md`` body cut at a
section boundary by ``registry.budget.cut_body`` (the one cut the registry
and the context builder use too) to about 2,000 tokens, or less when the
registry's output cap is smaller, then the skill's tools and resource files.
The cut ends with a pointer "… from line N …"; ``read_skill_resource`` with
path ``SKILL.md`` and that ``offset`` reads on.  Other paths are files under
the skill's ``references/`` or ``assets/``, confined to those folders (no
``..``, no symlink out), size-capped, paged by lines.  Both are ``read`` risk.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from brain.skills import SkillSet
from brain.tools.core import CallContext, ErrorKind, Risk, Tool, ToolFailed, ToolReply
from brain.tools.paging import FOOTER_ROOM, page
from brain.tools.workspace import confine, read_text
from registry.budget import BODY_MAX_TOKENS, cut_body
from registry.model import LoadedSkill

__all__ = ["BODY_PATH", "SkillDocs"]

BODY_PATH = "SKILL.md"  # read_skill_resource's name for the body (without frontmatter)
RESOURCE_DIRS = ("references", "assets")
_CHARS_PER_TOKEN = 4  # registry.budget.estimate_tokens: ceil(chars / 4)
_MIN_BODY_TOKENS = 200
_MAX_LISTED = 40
_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_LINE = {"type": "integer", "minimum": 1, "maximum": 10_000_000}
_ACTIVATE_DOC = (
    "Load an installed skill's instructions (SKILL.md) before you use it; "
    "the reply lists the skill's tools and files too."
)
_RESOURCE_DOC = (
    "Read more of a skill: path SKILL.md with the offset an activation gives, or a file "
    "under its references/ or assets/ folder, e.g. references/api.md. Long text comes "
    "a page at a time: pass the offset the reply gives to read on."
)
_READ_ON = 'Read on with read_skill_resource (name "{name}", path "SKILL.md", offset: that line).'


class SkillDocs:
    """The two tools over ``skills``.

    ``output_cap`` is the registry's: an activation (body, tools and files)
    must fit in it, so the body gets ``budget_tokens`` or what fits, if less.
    """

    def __init__(
        self,
        skills: SkillSet,
        *,
        output_cap: int,
        budget_tokens: int = BODY_MAX_TOKENS,
        max_resource_bytes: int = 256 << 10,
    ) -> None:
        self._skills = skills
        self._cap = output_cap
        self._budget = budget_tokens
        self._max_resource = max_resource_bytes

    def tools(self) -> tuple[Tool, ...]:
        activate = _schema({"name": _NAME}, ["name"])
        path = {"type": "string", "minLength": 1, "maxLength": 4096}
        paging = {"name": _NAME, "path": path, "offset": _LINE, "limit": _LINE}
        resource = _schema(paging, ["name", "path"])
        return (
            Tool("activate_skill", _ACTIVATE_DOC, activate, Risk.READ, self._activate),
            Tool("read_skill_resource", _RESOURCE_DOC, resource, Risk.READ, self._resource),
        )

    def _skill(self, name: str) -> LoadedSkill:
        skill = self._skills.skills.get(name)
        if skill is not None:
            return skill
        close = difflib.get_close_matches(name, list(self._skills.skills), n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ToolFailed(ErrorKind.NOT_FOUND, f"no skill {name!r} is installed{hint}")

    async def _activate(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        skill = self._skill(args["name"])
        head = f"# Skill {skill.name}"
        inventory = await asyncio.to_thread(_inventory, skill, self._cap // 4)
        room = (self._cap - len(head) - len(inventory) - 8) // _CHARS_PER_TOKEN
        tokens = max(_MIN_BODY_TOKENS, min(self._budget, room))
        body = cut_body(skill.manifest.body, tokens, read_on=_READ_ON.format(name=skill.name))
        return ToolReply("\n\n".join(part for part in (head, body.strip("\n"), inventory) if part))

    async def _resource(self, args: Mapping[str, Any], context: CallContext) -> ToolReply:
        skill = self._skill(args["name"])
        path = args["path"]
        if path == BODY_PATH:
            text = skill.manifest.body  # the text whose lines a cut's pointer counts
        else:
            text = await asyncio.to_thread(self._read_resource, skill, path)
        budget = self._cap - FOOTER_ROOM
        return ToolReply(page(text, args.get("offset", 1), args.get("limit"), budget=budget))

    def _read_resource(self, skill: LoadedSkill, relative: str) -> str:
        top = next(iter(PurePosixPath(relative).parts), "")
        if top not in RESOURCE_DIRS:
            message = (
                f"{relative[:200]!r}: a skill's readable files are SKILL.md and those "
                "under references/ or assets/"
            )
            raise ToolFailed(ErrorKind.PATH_REFUSED, message)
        folder = (skill.path / top).resolve()
        path = confine(skill.path.resolve(), relative)
        if not path.is_relative_to(folder) or path == folder:
            raise ToolFailed(ErrorKind.PATH_REFUSED, f"{relative[:200]!r} is not a file in {top}/")
        return read_text(path, self._max_resource)


def _schema(properties: Mapping[str, object], required: list[str]) -> dict[str, object]:
    return {"type": "object", "properties": dict(properties), "required": required,
            "additionalProperties": False}  # fmt: skip


def _inventory(skill: LoadedSkill, max_chars: int) -> str:
    """What else the skill offers, its tools and resource files, in at most ``max_chars``."""
    parts = [f"- {tool.name}: {_short(tool.description)}" for tool in skill.tools]
    if parts:
        parts.insert(0, "Tools (call with run_skill_tool):")
    files = list(_resources(skill.path))
    if files:
        more = " …" if len(files) > _MAX_LISTED else ""
        parts.append(
            f"Resources (read with read_skill_resource): {', '.join(files[:_MAX_LISTED])}{more}"
        )
    kept: list[str] = []
    for index, part in enumerate(parts):
        if sum(len(k) + 1 for k in kept) + len(part) > max_chars:
            kept.append(f"[… {len(parts) - index} more lines of tools and files …]")
            break
        kept.append(part)
    return "\n".join(kept)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resources(root: Path) -> Iterator[str]:
    count = 0
    for name in RESOURCE_DIRS:
        folder = root / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix()
                count += 1
                if count > _MAX_LISTED:
                    return
