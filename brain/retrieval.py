"""Word-overlap scores, and the choice of one tool inside a chosen skill.

Which *skill* a message is about is ranked by ``brain.discovery`` (BM25F,
optionally fused with embeddings).  What stays here is the small scorer the
brain uses among the few tools of one skill: the query's content words
(lower-cased, a trailing plural ``s`` dropped, stop words removed) matched
against each tool's words, each match weighted by ``ln(1 + N / df)`` so words
shared by every tool count for little.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence

from brain.skills import SkillTool

__all__ = ["pick_tool", "scores", "terms"]

# Words too common in messages and skill descriptions to say which skill is meant.
_STOP_WORDS = """a about all also an and any are as at be been but by can could do does for from get
give given has have how i if in into is it its me my no not of on or our please return returns
run runs show so some tell than that the their them then there these this to tool tools use used
user using want was we what when where which who why will with would you your skill skills"""
_STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z][a-z0-9]*", text.lower())
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in _STOP)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def scores(query: str, documents: Sequence[str]) -> list[float]:
    """One score per document, in order."""
    wanted = terms(query)
    docs = [terms(d) for d in documents]
    df = {t: sum(t in d for d in docs) for t in wanted}
    idf = {t: math.log(1 + len(docs) / n) for t, n in df.items() if n}
    return [sum(idf.get(t, 0.0) for t in wanted & d) for d in docs]


def pick_tool(query: str, tools: Sequence[SkillTool], commands: Collection[str]) -> SkillTool:
    """The tool of one skill that ``query`` matches best; ``tools`` must not be empty.

    Ties go to a command tool (one free-text argument is the easiest for a
    small model to fill), then to the first tool.
    """
    ranked = scores(query, [t.search_text() for t in tools])
    best = max(range(len(tools)), key=lambda i: (ranked[i], tools[i].name in commands, -i))
    return tools[best]
