"""What the registry's rules make of 2,679 real SKILL.md files: budgets and scan verdicts.

    .venv/bin/python bench/corpus_report.py [--corpus DIR]

Not a speed benchmark: the figures the registry issue asks to report, from one
command.  For each corpus file it loads the skill leniently (as a user's own
folder is loaded), measures the body and the catalog entry against the
budgets of ``registry.budget``, and runs the static scanner.  It prints the
token distribution, how many files are over each budget, verdict counts for
all files, for the curated repositories and for the ClawHavoc-marked files,
and how many files each scanner rule fires on.

Reading the corpus is safe: it is data, and nothing in it is ever run.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/registry.py would shadow the registry package

from registry import SkillError, load_skill
from registry.budget import (
    BODY_MAX_TOKENS,
    CATALOG_ENTRY_MAX_TOKENS,
    estimate_tokens,
)
from registry.files import PackageFile
from registry.scan import Verdict, scan

DEFAULT_CORPUS = Path("/work/shared/corpus/skills")
GROUPS = ("all", "curated", "clawhavoc")
CURATED = frozenset(
    {
        "anthropics/skills",
        "openai/skills",
        "obra/superpowers",
        "K-Dense-AI/claude-scientific-skills",
        "openclaw/clawhub",
    }
)


def percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def distribution(name: str, values: list[int], limit: int) -> None:
    over = sum(value > limit for value in values)
    print(
        f"{name:<16} n={len(values)}  p50={percentile(values, 0.5)}  p90={percentile(values, 0.9)}"
        f"  p99={percentile(values, 0.99)}  max={max(values)}  mean={statistics.fmean(values):.0f}"
        f"  over {limit}: {over} ({100 * over / len(values):.1f}%)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    index = args.corpus / "INDEX.tsv"
    if not index.is_file():
        print(f"no corpus index at {index}", file=sys.stderr)
        return 2
    with index.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))

    bodies: list[int] = []
    entries: list[int] = []
    unloadable = 0
    verdicts: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
    rules: Counter[str] = Counter()
    for row in rows:
        source = args.corpus / row["local_path"]
        try:
            skill = load_skill(source.parent)
        except SkillError:
            skill, unloadable = None, unloadable + 1
        if skill is not None:
            manifest = skill.manifest
            bodies.append(estimate_tokens(manifest.body))
            entries.append(estimate_tokens(f"{manifest.name}: {manifest.description}"))
        report = scan([PackageFile(source.name, source.read_bytes())], skill)
        groups = ["all"]
        if row["repo"] in CURATED:
            groups.append("curated")
        if "clawhavoc_marker" in row["indicator_hits"].split(","):
            groups.append("clawhavoc")
        for group in groups:
            verdicts[group][report.verdict.value] += 1
        rules.update({finding.rule for finding in report.findings})

    print(f"corpus: {len(rows)} SKILL.md files, {unloadable} not loadable as a skill")
    distribution("body tokens", bodies, BODY_MAX_TOKENS)
    distribution("catalog entry", entries, CATALOG_ENTRY_MAX_TOKENS)
    print()
    for group, counts in verdicts.items():
        shown = "  ".join(f"{v.value}={counts[v.value]}" for v in Verdict)
        print(f"verdicts {group:<10} n={sum(counts.values()):<5} {shown}")
    print()
    print("files each rule fires on:")
    for rule, count in rules.most_common():
        print(f"  {rule:<28} {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
