"""The publish validator agrees with the reference validator ``skills-ref`` on every corpus file.

Each of the 2,679 corpus files is laid out as a skill folder named as in the
corpus (the folder name matters: the spec's name must equal it) and checked
by both.  Our ``spec``-scoped issues are compared with skills-ref's messages
mapped to our codes: the verdicts must be equal on every file, and the codes
too, except where the reference reads a different frontmatter because it
ends it at the first ``---`` anywhere (``content.split("---", 2)``) — there
we report the fence itself (``frontmatter-fence``/``frontmatter-unclosed``)
and both refuse the file.  Reading the corpus is safe: it is data, nothing in
it is run.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.report import IssueCode, Scope
from registry.validate import validate_for_publish

skills_ref = pytest.importorskip("skills_ref")

CORPUS = Path(os.environ.get("SKILLYARD_SKILL_CORPUS", "/work/shared/corpus/skills"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(), reason=f"no corpus at {CORPUS}"),
]
C = IssueCode
# skills-ref 0.1.1's messages (skills_ref/validator.py, parser.py), most specific first.
MESSAGES: list[tuple[str, IssueCode]] = [
    ("Missing required file: SKILL.md", C.SKILL_MD_MISSING),
    ("must start with YAML frontmatter", C.FRONTMATTER_MISSING),
    ("frontmatter not properly closed", C.FRONTMATTER_UNCLOSED),
    ("Invalid YAML in frontmatter", C.FRONTMATTER_YAML),
    ("frontmatter must be a YAML mapping", C.FRONTMATTER_NOT_MAP),
    ("Unexpected fields in frontmatter", C.UNKNOWN_FIELD),
    ("Missing required field in frontmatter: name", C.NAME_MISSING),
    ("Missing required field in frontmatter: description", C.DESCRIPTION_MISSING),
    ("Field 'name' must be a non-empty string", C.NAME_EMPTY),
    ("Field 'description' must be a non-empty string", C.DESCRIPTION_EMPTY),
    ("Field 'compatibility' must be a string", C.COMPATIBILITY_TYPE),
    ("Description exceeds", C.DESCRIPTION_TOO_LONG),
    ("Compatibility exceeds", C.COMPATIBILITY_TOO_LONG),
    ("character limit", C.NAME_TOO_LONG),
    ("must be lowercase", C.NAME_CASE),
    ("cannot start or end with a hyphen", C.NAME_HYPHEN),
    ("cannot contain consecutive hyphens", C.NAME_DOUBLE_HYPHEN),
    ("contains invalid characters", C.NAME_CHARS),
    ("must match skill name", C.NAME_MISMATCH),
]
# Where skills-ref crashes instead of answering, its verdict is "invalid":
# UnicodeDecodeError on non-UTF-8 text, AttributeError on a YAML reader error.
CRASHES: dict[type[Exception], IssueCode] = {
    UnicodeDecodeError: C.NOT_UTF8,
    AttributeError: C.FRONTMATTER_YAML,
}
FENCE_CODES = {C.FRONTMATTER_FENCE, C.FRONTMATTER_UNCLOSED}
Row = tuple[str, list[IssueCode], list[IssueCode]]


def reference_codes(folder: Path) -> set[IssueCode]:
    try:
        messages = skills_ref.validate(folder)
    except (UnicodeDecodeError, AttributeError) as exc:
        return {CRASHES[type(exc)]}
    found = set()
    for message in messages:
        code = next((code for text, code in MESSAGES if text in message), None)
        assert code is not None, f"unmapped skills-ref message: {message}"
        found.add(code)
    return found


def corpus_folders(root: Path) -> Iterator[tuple[str, Path]]:
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as index:
        rows = list(csv.DictReader(index, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 2679
    for number, row in enumerate(rows):
        source = CORPUS / row["local_path"]
        folder = root / str(number) / source.parent.name
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / source.name)
        yield row["local_path"], folder


def test_spec_verdicts_and_codes_agree_with_skills_ref(tmp_path: Path) -> None:
    verdicts: list[Row] = []
    codes: list[Row] = []
    fenced: list[Row] = []
    spec_valid = 0
    for name, folder in corpus_folders(tmp_path):
        ours = {i.code for i in validate_for_publish(folder).errors if i.scope is Scope.SPEC}
        theirs = reference_codes(folder)
        spec_valid += not ours
        if bool(ours) != bool(theirs):
            verdicts.append((name, sorted(ours), sorted(theirs)))
        elif ours != theirs:
            (fenced if ours & FENCE_CODES else codes).append((name, sorted(ours), sorted(theirs)))
    assert verdicts == []
    assert codes == []
    assert len(fenced) <= 2, fenced  # the reference splits at a '---' inside the text
    assert spec_valid == 1052  # this corpus snapshot: 1,052 files pass the spec rules
