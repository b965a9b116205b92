"""The scanner on 2,679 real SKILL.md files: the campaign is blocked, curated skills are not.

The corpus README names the ClawHavoc campaign (25 files, 7 owners) and the
228 curated skills.  Reading the corpus is safe: it is data, and nothing in
it is ever run.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import pytest

from registry import SkillError, load_skill
from registry.files import PackageFile
from registry.scan import ScanReport, Severity, Verdict, scan

CORPUS = Path(os.environ.get("SKILLYARD_SKILL_CORPUS", "/work/shared/corpus/skills"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(), reason=f"no corpus at {CORPUS}"),
]
CURATED = {
    "anthropics/skills",
    "openai/skills",
    "obra/superpowers",
    "K-Dense-AI/claude-scientific-skills",
    "openclaw/clawhub",
}
CAMPAIGN_OWNERS = Counter(
    {"jordanprater": 7, "hightower6eu": 6, "zaycv": 5, "aslaep123": 4, "gpaitai": 1,
     "danman60": 1, "lvy19811120-gif": 1}
)  # fmt: skip


def scan_row(row: dict[str, str]) -> ScanReport:
    source = CORPUS / row["local_path"]
    try:
        skill = load_skill(source.parent)
    except SkillError:
        skill = None
    return scan([PackageFile(source.name, source.read_bytes())], skill)


@pytest.fixture(scope="module")
def results() -> list[tuple[dict[str, str], ScanReport]]:
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as index:
        rows = list(csv.DictReader(index, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 2679
    return [(row, scan_row(row)) for row in rows]


def hits(row: dict[str, str]) -> set[str]:
    return set(filter(None, row["indicator_hits"].split(",")))


def test_every_campaign_file_is_blocked_by_the_generic_rule(
    results: list[tuple[dict[str, str], ScanReport]],
) -> None:
    campaign = [(row, report) for row, report in results if "clawhavoc_marker" in hits(row)]
    owners = Counter(row["skill"].split("/")[0] for row, _ in campaign)
    assert owners == CAMPAIGN_OWNERS
    for row, report in campaign:
        assert report.verdict is Verdict.BLOCK, row["local_path"]
        fake = [f for f in report.findings if f.rule == "fake-prerequisite"]
        # Not just the published indicators: the lure itself is recognised.
        assert any(f.severity is Severity.CRITICAL for f in fake), row["local_path"]


def test_no_curated_skill_is_blocked(results: list[tuple[dict[str, str], ScanReport]]) -> None:
    curated = [(row, report) for row, report in results if row["repo"] in CURATED]
    assert len(curated) == 228
    assert [row["local_path"] for row, r in curated if r.verdict is Verdict.BLOCK] == []


def test_quoting_an_injection_phrase_does_not_block(
    results: list[tuple[dict[str, str], ScanReport]],
) -> None:
    quoting = [r for row, r in results if hits(row) == {"ignore_previous_instructions"}]
    assert len(quoting) >= 10
    assert all(report.verdict is not Verdict.BLOCK for report in quoting)


def test_the_verdicts_stay_where_they_were_calibrated(
    results: list[tuple[dict[str, str], ScanReport]],
) -> None:
    verdicts = Counter(report.verdict for _, report in results)
    # Calibrated on this snapshot (ruleset 2026.1): 26 blocks = 25 campaign files plus a
    # skill that appends a literal SSH key to ~/.ssh/authorized_keys; about 9% review.
    assert verdicts[Verdict.BLOCK] == 26
    assert 150 <= verdicts[Verdict.REVIEW] <= 300
