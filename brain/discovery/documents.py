"""What of a skill is searched: the text of each field, built from a ``LoadedSkill``.

Fields and why:

* ``name``: the skill's name and its tools' names; a user who says "notes"
  or "convert units" often names the skill itself, so it weighs most.
* ``description``: the SKILL.md description, written to say when to use it.
* ``tags``: ``metadata`` values whose key says they are tags, keywords,
  categories or topics.  Other metadata (authors, versions, nested
  ``openclaw`` JSON) is noise for matching and is left out.
* ``tools``: each tool's description.

The SKILL.md body is not searched: bodies run to thousands of words of usage
detail whose vocabulary drowns the description's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from registry.model import LoadedSkill

__all__ = ["FIELD_WEIGHTS", "SkillDocument", "document_for"]

# Tuned on a 30% split of the MetaTool queries (bench/skill_discovery.py).
FIELD_WEIGHTS: Mapping[str, float] = {"name": 2.0, "description": 1.0, "tags": 1.0, "tools": 0.7}

_TAG_KEYS = ("tag", "keyword", "categor", "topic")


@dataclass(frozen=True, slots=True)
class SkillDocument:
    """The searchable text of one skill."""

    name: str
    description: str
    tags: tuple[str, ...] = ()
    tool_names: tuple[str, ...] = ()
    tool_descriptions: tuple[str, ...] = ()

    def fields(self) -> dict[str, str]:
        """Field name → text, for :class:`~brain.discovery.lexical.LexicalIndex`."""
        return {
            "name": " ".join((self.name, *self.tool_names)).replace("-", " ").replace("_", " "),
            "description": self.description,
            "tags": " ".join(self.tags),
            "tools": " ".join(self.tool_descriptions),
        }

    def passage(self) -> str:
        """One passage for an embedding model: name, then what it is for."""
        name = self.name.replace("-", " ").replace("_", " ")
        extra = " ".join((*self.tags, *self.tool_descriptions))
        return f"{name}: {self.description} {extra}".strip()


def document_for(skill: LoadedSkill) -> SkillDocument:
    manifest = skill.manifest
    tags = tuple(v for k, v in manifest.metadata if any(t in k.lower() for t in _TAG_KEYS))
    return SkillDocument(
        name=manifest.name,
        description=manifest.description,
        tags=tags,
        tool_names=tuple(t.name for t in skill.tools),
        tool_descriptions=tuple(t.description for t in skill.tools),
    )
