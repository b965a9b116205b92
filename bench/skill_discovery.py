"""Skill discovery quality and speed on the MetaTool tool-retrieval set.

Each of MetaTool's 199 tools becomes an installed skill (a real folder with
a SKILL.md: the name, slugged, and the description), loaded by our loader
(``brain.skills.SkillSet``) and indexed by ``brain.discovery.SkillIndex``.
For every one of the 20,614 single-tool queries we ask for the top 10 and
report Recall@1/@5/@10; for the 497 multi-tool queries (over their own 47
tools) Recall@5 of *all* gold tools.  In the same run a plain BM25 (lower-
cased words of name + description, k1 = 1.5, b = 0.75, no stemming or stop
words) gives the baseline the ratios are taken against.

Tuning honesty: field weights and fusion constants were chosen on the
"tune" split (queries whose SHA-256 is 0, 1 or 2 mod 10, about 30%); the
"held-out" column is the other 70%, never looked at while tuning.

Speed: median and p95 ms per query at 199 skills and at 10,000 skills (the
199 plus synthetic skills whose names and descriptions are drawn from the
390 plugin manifests' words), and the time to build the 10,000-skill index.

Modes: ``words`` (BM25F, always) and ``hybrid`` (BM25F fused with the
static embedder distilled from all-MiniLM-L6-v2, when the ``embeddings``
extra is installed; every query is embedded alone, as in use).  The time to
distill or read the static token table is printed.  ``--full`` adds
``full`` (BM25F fused with the full MiniLM encoder) for comparison: its query
vectors for the recall runs are computed in batches first, so its per-query
timings come from the separate timed sample that embeds each query alone.

Run: ``.venv/bin/python bench/skill_discovery.py [--no-hybrid] [--full] [--sample N] [--cache DIR]``
(``--sample 4`` uses every 4th single-tool query; ``--cache`` keeps the token
table and vectors between runs; ``OPENBLAS_NUM_THREADS=1`` avoids BLAS
threads spinning on a busy machine.)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brain.discovery import (
    Embedder,
    EmbedderUnavailableError,
    MiniLM,
    SkillDocument,
    SkillIndex,
    load_embedder,
)
from brain.discovery.dense import VectorCache, embed_all
from brain.discovery.text import STOP_WORDS
from brain.skills import SkillSet

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "retrieval" / "metatool"
Ranker = Callable[[str], list[str]]


@dataclass(frozen=True)
class Corpus:
    tools: dict[str, str]
    queries: list[tuple[str, str]]
    multi_tools: dict[str, str]
    multi_queries: list[tuple[str, tuple[str, ...]]]
    manifests: list[dict[str, str]]


def load_corpus(folder: Path) -> Corpus:
    with (folder / "all_clean_data.csv").open(encoding="utf-8") as file:
        queries = [(row["Query"], row["Tool"]) for row in csv.DictReader(file)]
    multi = json.loads((folder / "multi_tool_query_golden.json").read_text(encoding="utf-8"))
    return Corpus(
        tools=json.loads((folder / "plugin_des.json").read_text(encoding="utf-8")),
        queries=queries,
        multi_tools=json.loads((folder / "big_tool_des.json").read_text(encoding="utf-8")),
        multi_queries=[(m["query"], tuple(m["tool"])) for m in multi],
        manifests=json.loads((folder / "plugin_info.json").read_text(encoding="utf-8")),
    )


def is_tune(query: str) -> bool:
    return int(hashlib.sha256(query.encode()).hexdigest(), 16) % 10 < 3


def slug(name: str) -> str:
    """``FinanceTool`` → ``finance-tool``; ``PDF&URLTool`` → ``pdf-url-tool`` (spec names)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name)
    return re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-")[:64]


def install(tools: dict[str, str], root: Path) -> dict[str, str]:
    """Write one skill folder per tool; returns skill name → tool name."""
    names: dict[str, str] = {}
    for tool, description in tools.items():
        name = slug(tool)
        while name in names:  # two tools slugging alike keep distinct skills
            name = f"{name}-x"
        names[name] = tool
        folder = root / name
        folder.mkdir(parents=True)
        text = f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n\n# {tool}\n"
        (folder / "SKILL.md").write_text(text, encoding="utf-8")
    return names


# -- the baseline: plain BM25 as in the corpus README ------------------------------


class PlainBM25:
    def __init__(
        self,
        documents: dict[str, str],
        k1: float = 1.5,
        b: float = 0.75,
        stop: frozenset[str] = frozenset(),
    ) -> None:
        self.stop = stop
        self.names = list(documents)
        tokens = [self._words(t) for t in documents.values()]
        self.lengths = np.array([len(t) for t in tokens], float)
        self.average = self.lengths.mean()
        self.k1, self.b = k1, b
        self.tf: dict[str, dict[int, int]] = {}
        for i, words in enumerate(tokens):
            for word in words:
                self.tf.setdefault(word, {}).setdefault(i, 0)
                self.tf[word][i] += 1

    def _words(self, text: str) -> list[str]:
        return [w for w in re.findall(r"\w+", text.lower()) if w not in self.stop]

    def rank(self, query: str) -> list[str]:
        scores = np.zeros(len(self.names))
        n = len(self.names)
        for word in self._words(query):
            postings = self.tf.get(word, {})
            idf = np.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for i, tf in postings.items():
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.average)
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return [self.names[i] for i in np.argsort(-scores, kind="stable")[:10]]


# -- measuring ----------------------------------------------------------------------


def recall(rank: Ranker, queries: Sequence[tuple[str, str]]) -> dict[int, float]:
    hits = {1: 0, 5: 0, 10: 0}
    for query, gold in queries:
        top = rank(query)
        for k in hits:
            hits[k] += gold in top[:k]
    return {k: 100 * v / max(1, len(queries)) for k, v in hits.items()}


def multi_recall(rank: Ranker, queries: Sequence[tuple[str, tuple[str, ...]]]) -> float:
    ok = sum(set(gold) <= set(rank(q)[:5]) for q, gold in queries)
    return 100 * ok / max(1, len(queries))


def timed(search: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float, float]:
    """Median, mean and p95 milliseconds per call."""
    times = []
    for query in queries:
        start = time.perf_counter()
        search(query)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return statistics.median(times), statistics.fmean(times), p95


class Precomputed:
    """An embedder answering from vectors computed in batches (recall runs only).

    The query vectors are kept in ``cache`` (the index's own vector cache), so
    a second run of the benchmark does not embed the 21,111 queries again.
    """

    def __init__(self, inner: Embedder, texts: Sequence[str], cache: Path) -> None:
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self._inner = inner
        self._table = VectorCache(cache / "queries", inner.model_id)
        self._table.load()
        missing = sorted({t for t in texts if self._table.get(t) is None})
        for text, vector in zip(missing, embed_all(inner, missing), strict=True):
            self._table.put(text, vector)
        self._table.save()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        known = [self._table.get(t) for t in texts]
        if all(v is not None for v in known):
            return np.stack(known)  # type: ignore[arg-type]
        return self._inner.embed(texts)


def ranker(index: SkillIndex, to_tool: dict[str, str]) -> Ranker:
    return lambda q: [to_tool[h.name] for h in index.search(q, 10)]


def synthetic(manifests: list[dict[str, str]], count: int, seed: int = 7) -> list[SkillDocument]:
    """Distractor skills: names and descriptions recombined from real plugin manifests."""
    rng = random.Random(seed)
    words = [
        w
        for m in manifests
        for w in re.findall(r"[A-Za-z]+", m.get("description_for_human", ""))
        if len(w) > 2
    ]
    return [
        SkillDocument(
            name=f"synthetic-{i:05d}-{rng.choice(words).lower()}",
            description=" ".join(rng.choice(words) for _ in range(rng.randint(8, 24))) + ".",
        )
        for i in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-hybrid", action="store_true", help="words only")
    parser.add_argument("--full", action="store_true", help="also the full MiniLM encoder")
    parser.add_argument("--scale", type=int, default=10_000, help="skills for the speed run")
    parser.add_argument("--hybrid-scale", type=int, help="skills for the hybrid speed run")
    parser.add_argument("--sample", type=int, default=1, help="use every Nth single-tool query")
    parser.add_argument("--cache", type=Path, help="vector cache dir (default: a temp dir)")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    corpus = replace(corpus, queries=corpus.queries[:: args.sample])
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "cache"
        modes: dict[str, Embedder | None] = {"words": None}
        if not args.no_hybrid:
            modes |= _embedders(cache, full=args.full)
        _quality(corpus, Path(tmp), modes, cache)
        scales = dict.fromkeys(modes, args.scale)
        scales |= {name: args.hybrid_scale or args.scale for name in modes if name != "words"}
        _speed(corpus, Path(tmp), modes, scales, cache)
    return 0


def _embedders(cache: Path, *, full: bool) -> dict[str, Embedder]:
    start = time.perf_counter()
    try:
        found: dict[str, Embedder] = {"hybrid": load_embedder(cache)}
    except EmbedderUnavailableError as exc:
        print(f"hybrid mode skipped: {exc}")
        return {}
    print(f"static token table distilled or read in {time.perf_counter() - start:.1f} s")
    if full:
        found["full"] = MiniLM.load()
    return found


def _quality(corpus: Corpus, tmp: Path, modes: dict[str, Embedder | None], cache: Path) -> None:
    to_tool = install(corpus.tools, tmp / "single")
    multi_to_tool = install(corpus.multi_tools, tmp / "multi")
    start = time.perf_counter()
    skills = SkillSet.load([tmp / "single"]).skills.values()
    multi_skills = SkillSet.load([tmp / "multi"]).skills.values()
    print(
        f"loaded {len(skills)} + {len(multi_skills)} skill folders in "
        f"{time.perf_counter() - start:.2f} s with the registry loader"
    )
    tune = [q for q in corpus.queries if is_tune(q[0])]
    held = [q for q in corpus.queries if not is_tune(q[0])]
    print(
        f"queries: {len(corpus.queries)} single-tool ({len(tune)} tune / {len(held)} "
        f"held-out), {len(corpus.multi_queries)} multi-tool\n"
    )
    baseline = PlainBM25({n: f"{n} {d}" for n, d in corpus.tools.items()})
    multi_base = PlainBM25({n: f"{n} {d}" for n, d in corpus.multi_tools.items()})
    rows = [("plain BM25 (baseline)", baseline.rank, multi_base.rank)]
    stop = PlainBM25({n: f"{n} {d}" for n, d in corpus.tools.items()}, stop=STOP_WORDS)
    multi_stop = PlainBM25({n: f"{n} {d}" for n, d in corpus.multi_tools.items()}, stop=STOP_WORDS)
    rows.append(("plain BM25 + stop words", stop.rank, multi_stop.rank))
    words = SkillIndex.build(skills)
    multi_words = SkillIndex.build(multi_skills)
    rows.append(("words (BM25F)", ranker(words, to_tool), ranker(multi_words, multi_to_tool)))
    static = modes.get("hybrid")
    if static is not None:
        hybrid = SkillIndex.build(skills, embedder=static, cache_dir=cache)
        multi_hybrid = SkillIndex.build(multi_skills, embedder=static, cache_dir=cache)
        rows.append(
            (
                "hybrid (BM25F + static, RRF)",
                ranker(hybrid, to_tool),
                ranker(multi_hybrid, multi_to_tool),
            )
        )
    full = modes.get("full")
    if full is not None:
        texts = [q for q, _ in corpus.queries] + [q for q, _ in corpus.multi_queries]
        start = time.perf_counter()
        batch = Precomputed(full, texts, cache)
        print(f"embedded {len(texts)} queries in batches in {time.perf_counter() - start:.1f} s")
        full_index = SkillIndex.build(skills, embedder=batch, cache_dir=cache)
        multi_full = SkillIndex.build(multi_skills, embedder=batch, cache_dir=cache)
        rows.append(
            (
                "full (BM25F + MiniLM, RRF)",
                ranker(full_index, to_tool),
                ranker(multi_full, multi_to_tool),
            )
        )
    _report(rows, corpus, tune, held)


def _report(rows: list[tuple[str, Ranker, Ranker]], corpus: Corpus, tune: list, held: list) -> None:
    header = (
        f"{'mode':32} {'R@1':>6} {'R@5':>6} {'R@10':>6} | "
        f"{'R@5 tune':>8} {'R@5 held':>8} | {'multi R@5':>9}"
    )
    print(header)
    print("-" * len(header))
    base_r5 = None
    for name, rank, multi_rank in rows:
        everything = recall(rank, corpus.queries)
        r5_tune, r5_held = recall(rank, tune)[5], recall(rank, held)[5]
        multi = multi_recall(multi_rank, corpus.multi_queries)
        base_r5 = base_r5 or everything[5]
        print(
            f"{name:32} {everything[1]:6.1f} {everything[5]:6.1f} {everything[10]:6.1f} | "
            f"{r5_tune:8.1f} {r5_held:8.1f} | {multi:9.1f}   "
            f"(R@5 {everything[5] / base_r5:.2f}x baseline)"
        )
    print()


def _speed(
    corpus: Corpus,
    tmp: Path,
    modes: dict[str, Embedder | None],
    scales: dict[str, int],
    cache: Path,
) -> None:
    skills = list(SkillSet.load([tmp / "single"]).skills.values())
    sample = [q for q, _ in corpus.queries[:: max(1, len(corpus.queries) // 400)]]
    print(
        f"{'mode':8} {'skills':>7} {'build s':>8} {'median ms':>10} {'mean ms':>8} "
        f"{'p95 ms':>8}   ({len(sample)} queries, each embedded alone)"
    )
    for name, embedder in modes.items():
        pad = synthetic(corpus.manifests, max(0, scales[name] - len(skills)))
        for label, documents in (("199", skills), (str(scales[name]), [*skills, *pad])):
            start = time.perf_counter()
            index = SkillIndex.build(documents, embedder=embedder, cache_dir=cache)
            built = time.perf_counter() - start
            median, mean, p95 = timed(lambda q, ix=index: ix.search(q, 10), sample)
            print(f"{name:8} {label:>7} {built:8.2f} {median:10.3f} {mean:8.3f} {p95:8.3f}")
        if embedder is None:
            continue
        start = time.perf_counter()
        if name == "hybrid":  # a new process: a cold word cache, the table read from disk
            embedder = load_embedder(cache)
        index = SkillIndex.build([*skills, *pad], embedder=embedder, cache_dir=cache)
        print(
            f"{name} rebuild of {len(skills) + len(pad)} skills from the vector cache: "
            f"{time.perf_counter() - start:.2f} s"
        )
        if name == "hybrid":
            median, mean, p95 = timed(lambda q, ix=index: ix.search(q, 10), sample)
            label = f"{len(skills) + len(pad)} cold"
            print(f"{name:8} {label:>13} {median:10.3f} {mean:8.3f} {p95:8.3f}")


if __name__ == "__main__":
    sys.exit(main())
