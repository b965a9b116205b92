"""Compose a YAML node tree from libyaml's events under :mod:`registry.yamlsafe`'s rules.

libyaml (C) reads, scans and parses; this module turns its events into
``yaml.nodes`` objects, about thirty times faster than PyYAML's pure-Python
reader, scanner and parser.  Only the composing is ours, because libyaml's
own composer (``CParser.get_single_node``) would resolve aliases into shared
nodes and forget anchors, and recurses on the C stack without a depth limit.

Each refusal is made at the event that shows it, so an alias bomb stops at its
first anchor before any node exists, and a ``[[[[`` tower stops at
``max_depth`` (libyaml's parser keeps its own state on the heap).  Raises
:class:`~registry.errors.UnsafeYamlError` for a refusal and
``yaml.YAMLError`` or ``ValueError`` (lone surrogates) for text libyaml
cannot read; :mod:`registry.yamlsafe` re-reads failures with the pure-Python
loader to word the error exactly as it always has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import yaml
from yaml.error import Mark
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from registry.errors import UnsafeYamlError

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

__all__ = ["AVAILABLE", "compose"]

AVAILABLE: bool = bool(yaml.__with_libyaml__)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def compose(text: str, max_depth: int, plain_tag: Callable[[str], str]) -> Node | None:
    """Compose the single document in ``text`` (``None`` when there is none).

    ``plain_tag`` gives the tag of an untagged plain scalar's text (the schema's
    implicit typing); quoted and block scalars are always strings.
    """
    parser = CParser(text)
    try:
        return _Composer(parser, max_depth, plain_tag).stream()
    finally:
        parser.dispose()


class _Composer:
    def __init__(self, parser: CParser, max_depth: int, plain_tag: Callable[[str], str]):
        # None comes only after StreamEndEvent, where reading stops.
        self._next = cast("Callable[[], Event]", parser.get_event)
        self._max_depth = max_depth
        self._plain_tag = plain_tag

    def stream(self) -> Node | None:
        self._next()  # StreamStartEvent
        event = self._next()
        if isinstance(event, StreamEndEvent):
            return None
        node = self._node(self._next(), 1)  # after DocumentStartEvent
        self._next()  # DocumentEndEvent
        event = self._next()
        if not isinstance(event, StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                None,
                "but found another document",
                _mark(event.start_mark),
            )
        return node

    def _node(self, event: Event, depth: int) -> Node:
        _refuse_markup(event)
        if depth > self._max_depth:
            raise UnsafeYamlError(f"nested deeper than {self._max_depth} levels", line=_line(event))
        if isinstance(event, ScalarEvent):
            tag = self._plain_tag(event.value) if event.implicit[0] else _STR
            return ScalarNode(
                tag, event.value, _mark(event.start_mark), _mark(event.end_mark), event.style
            )
        if isinstance(event, SequenceStartEvent):
            return self._sequence(event, depth)
        assert isinstance(event, MappingStartEvent)
        return self._mapping(event, depth)

    def _sequence(self, start: SequenceStartEvent, depth: int) -> SequenceNode:
        items: list[Node] = []
        event = self._next()
        while not isinstance(event, SequenceEndEvent):
            items.append(self._node(event, depth + 1))
            event = self._next()
        return SequenceNode(
            _SEQ, items, _mark(start.start_mark), _mark(event.end_mark), start.flow_style
        )

    def _mapping(self, start: MappingStartEvent, depth: int) -> MappingNode:
        pairs: list[tuple[Node, Node]] = []
        event = self._next()
        while not isinstance(event, MappingEndEvent):
            key = self._node(event, depth + 1)
            pairs.append((key, self._node(self._next(), depth + 1)))
            event = self._next()
        return MappingNode(
            _MAP, pairs, _mark(start.start_mark), _mark(event.end_mark), start.flow_style
        )


def _refuse_markup(event: Event) -> None:
    # The same three refusals, in the same words, as yamlsafe's scanner hooks.
    if isinstance(event, AliasEvent):
        raise UnsafeYamlError("aliases (*name) are not allowed", line=_line(event))
    if event.anchor is not None:  # type: ignore[attr-defined]
        raise UnsafeYamlError("anchors (&name) are not allowed", line=_line(event))
    if event.tag is not None:  # type: ignore[attr-defined]
        raise UnsafeYamlError("tags (!tag) are not allowed", line=_line(event))


def _line(event: Event) -> int | None:
    mark = event.start_mark
    return None if mark is None else int(mark.line) + 1


def _mark(mark: object) -> Mark | None:
    # libyaml's Mark has the name, line and column of PyYAML's, all nodes use.
    return cast("Mark | None", mark)
