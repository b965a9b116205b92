"""registry.yamlsafe: the same documents, values and errors through libyaml and pure Python."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import _libyaml, yamlsafe
from registry.errors import UnsafeYamlError, YamlError
from registry.yamlsafe import safe_load, strict_load

CORPUS = Path(os.environ.get("SKILLYARD_SKILL_CORPUS", "/work/shared/corpus/skills"))
BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)
needs_libyaml = pytest.mark.skipif(not _libyaml.AVAILABLE, reason="PyYAML without libyaml")


@pytest.fixture(params=[pytest.param("libyaml", marks=needs_libyaml), "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(yamlsafe, "_fast_compose", None)
    return str(request.param)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (BILLION_LAUGHS, 1, "anchors (&name) are not allowed"),
        ("a: 1\nb: *undefined\n", 2, "aliases (*name) are not allowed"),
        ("a: !!python/object/apply:os.system [ls]\n", 1, "tags (!tag) are not allowed"),
        ("a:\n  - !custom x\n", 2, "tags (!tag) are not allowed"),
        ("a: 1\nb: 2\nb: 3\n", 3, "duplicate key 'b'"),
        ("m:\n  k: 1\n  k: 2\n", 3, "duplicate key 'k'"),
        ("? [a, b]\n: c\n", 1, "mapping keys must be plain text"),
        ("[" * 100 + "]" * 100, 1, "nested deeper than 32 levels"),
        ("a: " + "x" * (64 * 1024), None, "YAML is 65539 bytes; the limit is 65536"),
    ],
)
def test_refusals_name_the_rule_and_line(
    backend: str, text: str, line: int | None, problem: str
) -> None:
    with pytest.raises(UnsafeYamlError) as caught:
        safe_load(text)
    assert (caught.value.line, caught.value.problem) == (line, problem)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: [1, 2\n", 2, "expected ',' or ']', but got '<stream end>' (while parsing a "
         "flow sequence)"),
        ("a: b: c\n", 1, "mapping values are not allowed here"),
        ("--- a\n--- b\n", 2, "but found another document (expected a single document in "
         "the stream)"),
        ("a:\t- b\n", 1, "found character '\\t' that cannot start any token (while scanning "
         "for the next token)"),
    ],
)  # fmt: skip
def test_syntax_errors_read_as_before(backend: str, text: str, line: int, problem: str) -> None:
    with pytest.raises(YamlError) as caught:
        safe_load(text)
    assert not isinstance(caught.value, UnsafeYamlError)
    assert (caught.value.line, caught.value.problem) == (line, problem)


def test_values_follow_the_json_data_model(backend: str) -> None:
    text = (
        "b: no\nd: 2024-01-01\ni: 012\nn: 1.5\non: yes\nt: TRUE\nz: ~\ne:\nq: '1'\n"
        "f: [-0, +7, 1e3, .5, -1.]\nbig: 1234567890123456789012345678901234\n"
        "s: |\n  two\n  lines\n"
    )
    assert safe_load(text) == {
        "b": "no",
        "d": "2024-01-01",
        "i": "012",
        "n": 1.5,
        "on": "yes",
        "t": True,
        "z": None,
        "e": None,
        "q": "1",
        "f": [0, 7, 1000.0, 0.5, -1.0],
        "big": "1234567890123456789012345678901234",
        "s": "two\nlines\n",
    }
    assert safe_load("") is None
    assert safe_load("--- 3\n") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: b\tc\n", YamlError),  # libyaml differs on tabs next to plain scalars
        ("[a?b]", YamlError),  # ...on '?' in flow-style plain scalars
        ("a: |#\n x\n", YamlError),  # ...on a comment glued to a block indicator
        ("\ufeffa: 1\n", {"a": 1}),
        ("a: 1\n\ufeffb: 2\n", {"a": 1, "\ufeffb": 2}),  # ...and on later byte order marks
    ],
)
def test_text_libyaml_reads_differently_reads_as_pure_python(
    backend: str, text: str, expected: object
) -> None:
    if expected is YamlError:
        with pytest.raises(YamlError):
            safe_load(text)
    else:
        assert safe_load(text) == expected


def test_strict_load_keeps_text_and_key_lines(backend: str) -> None:
    document = strict_load("name: demo\nversion: 1.0\nmeta:\n  on: yes\n")
    assert document.data == {"name": "demo", "version": "1.0", "meta": {"on": "yes"}}
    assert document.key_lines == {"name": 1, "version": 2, "meta": 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [1, 2]\n", "flow style"),
        ("a:\n  b: 1\nc:\n    d: 2\n", "indented differently"),
        ("a: &x 1\n", "anchors"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
    ],
)
def test_strict_load_refusals(backend: str, text: str, problem: str) -> None:
    with pytest.raises(UnsafeYamlError, match=problem):
        strict_load(text)


@needs_libyaml
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS, "anchors"),
        ("a: *b\n", "aliases"),
        ("a: !t x\n", "tags"),
        ("[" * 500 + "]" * 500, "nested deeper"),  # libyaml's own limit is 1,000
    ],
)
def test_libyaml_composer_refuses_on_its_own(text: str, problem: str) -> None:
    # The fast path must not depend on the pure-Python re-read to refuse a bomb.
    with pytest.raises(UnsafeYamlError, match=problem):
        _libyaml.compose(text, 32, yamlsafe._plain_tag)


YAMLISH = st.sampled_from(
    [" ", "  ", "\n", "\r\n", "- ", "? ", ": ", ":", "a", "k", "'q'", '"d\\n"', '"\\q"', "|", ">-",
     "#", " # c", "[", "]", "{", "}", ", ", "---", "...", "%YAML 1.2\n", "&x", "*x", "!t", "\t",
     "\ufeff", "\x85", "\u2028", "1", "-0", "1e3", ".5", "true", "no", "~", "null", "é", "?"]
)  # fmt: skip


def outcome(load: Callable[[str], object], text: str) -> object:
    try:
        return load(text)
    except YamlError as exc:
        return (type(exc), exc.line, exc.problem)


@needs_libyaml
@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(YAMLISH, max_size=30).map("".join) | st.text(max_size=40))
def test_both_paths_agree_on_any_text(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    fast = (outcome(safe_load, text), outcome(strict_load, text))
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_fast_compose", None)
        pure = (outcome(safe_load, text), outcome(strict_load, text))
    assert fast == pure


def corpus_frontmatter() -> Iterator[str]:
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as index:
        rows = list(csv.DictReader(index, delimiter="\t", quoting=csv.QUOTE_NONE))
    for row in rows:
        text = (CORPUS / row["local_path"]).read_text("utf-8", "replace")
        end = text.find("\n---", 4)
        if text.startswith("---\n") and end > 0:
            yield text[4 : end + 1]


@needs_libyaml
@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(), reason=f"no corpus at {CORPUS}")
def test_both_paths_agree_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = list(corpus_frontmatter())
    fast = [(outcome(safe_load, t), outcome(strict_load, t)) for t in texts]
    monkeypatch.setattr(yamlsafe, "_fast_compose", None)
    pure = [(outcome(safe_load, t), outcome(strict_load, t)) for t in texts]
    assert len(texts) > 2500
    assert [i for i, pair in enumerate(zip(fast, pure, strict=True)) if pair[0] != pair[1]] == []
