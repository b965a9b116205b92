"""Safe YAML for untrusted skill files (SKILL.md frontmatter and ``skill.yaml``).

Theory of operation
-------------------
:func:`safe_load` is ``yaml.SafeLoader`` narrowed to the JSON data model:

* the text is capped in size before any parsing (``max_bytes``) and nesting
  is capped while composing (``max_depth``), so neither a huge document nor a
  ``[[[[...`` tower can exhaust memory or the Python stack;
* anchors, aliases and explicit tags are refused as soon as they are read,
  before any node is shared, which rules out alias bombs ("billion laughs")
  and constructor tricks outright;
* mapping keys must be plain scalars and are kept as their literal text (so a
  key ``on`` stays ``"on"``, not ``True``); a repeated key is an error that
  names it, because "last one wins" silently hides what an author meant;
* implicit typing follows YAML 1.2's core schema rather than 1.1: only
  ``true``/``false`` are booleans (``no`` stays the string ``"no"``), numbers
  have no octal or sexagesimal forms, and dates stay strings, so every value
  is ``None``, ``bool``, ``int``, ``float``, ``str``, ``list`` or ``dict``.

Refusals raise :class:`~registry.errors.UnsafeYamlError`; plain syntax errors
raise :class:`~registry.errors.YamlError`, which a lenient caller may retry
after repairing the text.

Text becomes a node tree in one of two ways.  With libyaml, its C parser reads
the text and :mod:`registry._libyaml` composes the events under the rules
above (about ten times faster on real frontmatter, which matters at thousands
of installed skills).  Without libyaml, when it fails, or for the few kinds of
text it reads differently (see :func:`_libyaml_agrees`), :class:`_SafeLoader`
(PyYAML's pure Python, refusing in its scanner) reads it, so every error is
worded and placed as it always was.  The same Python code then turns either
tree into values.

:func:`strict_load` reads the narrower subset that the Agent Skills reference
validator (``skills-ref``, through StrictYAML) accepts, for the publish check:
block style only (no ``{...}`` or ``[...]``), sibling mappings at one
indentation, and every scalar kept as its text, as StrictYAML keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from registry import _libyaml
from registry.errors import UnsafeYamlError, YamlError

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "StrictDocument", "safe_load", "strict_load"]

MAX_YAML_BYTES = 64 * 1024
MAX_YAML_DEPTH = 32

_CORE_RESOLVERS: list[tuple[str, str, str]] = [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    # At most 30 digits: longer runs stay strings instead of hitting
    # Python's int-to-str digit limit or making huge numbers from tiny text.
    ("int", r"^[-+]?(?:0|[1-9][0-9]{0,29})$", "-+0123456789"),
    # A point or an exponent is required (plain digits are ints, or text when too
    # long); no .inf/.nan (JSON has neither); no leading zeros (``012`` is text).
    (
        "float",
        r"^[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)"
        r"|(?:0|[1-9][0-9]*)\.[0-9]*)$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
]


def _line(node_or_mark: Any) -> int | None:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return None if mark is None else int(mark.line) + 1


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader's pure-Python composer without aliases, tags or YAML 1.1 typing."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self._depth = 0
        self._max_depth = max_depth

    def fetch_alias(self) -> None:
        raise UnsafeYamlError("aliases (*name) are not allowed", line=_line(self.get_mark()))

    def fetch_anchor(self) -> None:
        raise UnsafeYamlError("anchors (&name) are not allowed", line=_line(self.get_mark()))

    def fetch_tag(self) -> None:
        raise UnsafeYamlError("tags (!tag) are not allowed", line=_line(self.get_mark()))

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise UnsafeYamlError(
                    f"nested deeper than {self._max_depth} levels", line=_line(mark)
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_STR_TAG = "tag:yaml.org,2002:str"
# First character of a plain scalar -> (tag, pattern) to try in order, as
# PyYAML's resolver keys them ("" for the empty scalar).
_PLAIN_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _kind, _pattern, _first in [*_CORE_RESOLVERS, ("null", r"^$", "")]:
    _tag, _regex = f"tag:yaml.org,2002:{_kind}", re.compile(_pattern)
    for _char in _first or [""]:
        _PLAIN_RESOLVERS.setdefault(_char, []).append((_tag, _regex))
_SafeLoader.yaml_implicit_resolvers = _PLAIN_RESOLVERS

_SCALARS: dict[str, Callable[[str], object]] = {
    _STR_TAG: str,
    "tag:yaml.org,2002:null": lambda _: None,
    "tag:yaml.org,2002:bool": lambda text: text.lower() == "true",
    "tag:yaml.org,2002:int": int,  # the pattern admits only what int() reads the same
    "tag:yaml.org,2002:float": float,
}


def _plain_tag(text: str) -> str:
    for tag, regex in _PLAIN_RESOLVERS.get(text[:1], ()):
        if regex.match(text):
            return tag
    return _STR_TAG


def _plain_key(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise UnsafeYamlError("mapping keys must be plain text", line=_line(node))
    return str(node.value)


def _value(node: Node) -> object:
    if isinstance(node, ScalarNode):
        return _SCALARS[node.tag](node.value)
    if isinstance(node, SequenceNode):
        return [_value(item) for item in node.value]
    mapping: dict[str, object] = {}
    for key_node, value_node in node.value:
        key = _plain_key(key_node)
        if key in mapping:
            raise UnsafeYamlError(f"duplicate key {key!r}", line=_line(key_node))
        mapping[key] = _value(value_node)
    return mapping


def safe_load(
    text: str, *, max_bytes: int = MAX_YAML_BYTES, max_depth: int = MAX_YAML_DEPTH
) -> object:
    """Parse one YAML document from untrusted ``text`` into plain JSON-like data.

    Raises :class:`UnsafeYamlError` for refused input (oversize, too deep,
    alias, anchor, tag, duplicate or non-scalar key) and :class:`YamlError`
    for a syntax error; never anything else for any ``str`` input.
    """
    node = _compose(text, max_bytes, max_depth)
    return None if node is None else _value(node)


@dataclass(frozen=True, slots=True)
class StrictDocument:
    """Strictly read YAML: ``data`` holds only ``str``, ``list`` and ``dict`` (or ``None``
    for an empty document); ``key_lines`` gives the 1-based line of each top-level key."""

    data: object
    key_lines: Mapping[str, int]


def strict_load(
    text: str, *, max_bytes: int = MAX_YAML_BYTES, max_depth: int = MAX_YAML_DEPTH
) -> StrictDocument:
    """Parse ``text`` as StrictYAML would, with :func:`safe_load`'s caps and refusals.

    Raises :class:`UnsafeYamlError` for flow style, inconsistent indentation
    and everything :func:`safe_load` refuses, :class:`YamlError` for syntax.
    """
    node = _compose(text, max_bytes, max_depth)
    lines = {}
    if isinstance(node, MappingNode):
        lines = {str(key.value): _line(key) or 0 for key, _ in node.value}
    return StrictDocument(_strict_value(node), lines)


# Tests set this to None to run the pure-Python path where libyaml is installed.
_fast_compose: Callable[[str, int, Callable[[str], str]], Node | None] | None = (
    _libyaml.compose if _libyaml.AVAILABLE else None
)
# libyaml reads some text that PyYAML refuses or reads otherwise: tabs as
# separators, a byte order mark past the start, a comment right after a block
# scalar's indicators (``|#``), and ``?`` inside a flow-style plain scalar
# (``[a?b]``).  Such text, rare in skill files, goes to the pure-Python path,
# so both paths accept the same documents with the same values.
_LIBYAML_DIVERGES = re.compile(r"[\t\ufeff]|[|>][-+0-9]{0,2}#")


def _libyaml_agrees(text: str) -> bool:
    if _LIBYAML_DIVERGES.search(text):
        return False
    return "?" not in text or ("[" not in text and "{" not in text)


def _compose(text: str, max_bytes: int, max_depth: int) -> Node | None:
    """The checked node tree of ``text``, or ``YamlError``/``UnsafeYamlError``."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise UnsafeYamlError(f"YAML is {size} bytes; the limit is {max_bytes}")
    if _fast_compose is not None and _libyaml_agrees(text):
        try:
            return _fast_compose(text, max_depth, _plain_tag)
        except (yaml.YAMLError, YamlError, ValueError):
            pass  # refused or unreadable: the pure-Python loader says why, as always
    try:
        return _pure_compose(text, max_depth)
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_describe(exc), line=_line(exc.problem_mark)) from None
    except (yaml.YAMLError, ValueError) as exc:
        # ReaderError (control characters) carries no mark, only a position.
        raise YamlError(str(exc).replace("\n", " ")) from None


def _pure_compose(text: str, max_depth: int) -> Node | None:
    loader = _SafeLoader(text, max_depth)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _strict_value(node: Node | None) -> object:
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return str(node.value)
    if isinstance(node, (MappingNode, SequenceNode)) and node.flow_style:
        raise UnsafeYamlError(
            "flow style ({...} or [...]) is not allowed; write it in block style or quote it",
            line=_line(node),
        )
    if isinstance(node, SequenceNode):
        return [_strict_value(item) for item in node.value]
    assert isinstance(node, MappingNode)
    return _strict_mapping(node)


def _strict_mapping(node: MappingNode) -> dict[str, object]:
    mapping: dict[str, object] = {}
    for key_node, value_node in node.value:
        key = _plain_key(key_node)
        if key in mapping:
            raise UnsafeYamlError(f"duplicate key {key!r}", line=_line(key_node))
        mapping[key] = _strict_value(value_node)
    columns = {v.start_mark.column for _, v in node.value if isinstance(v, MappingNode)}
    if len(columns) > 1:
        raise UnsafeYamlError(
            "nested mappings of one mapping are indented differently", line=_line(node)
        )
    return mapping


def _describe(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    return f"{problem} ({exc.context})" if exc.context else problem
