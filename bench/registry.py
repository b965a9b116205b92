"""Registry speed: search p50/p99 at 2,679 and 20,000 skills, publish throughput, install time.

Measured in one run, on one machine:

* **search** — BM25 over name, description, tags and body (SQLite FTS5) through
  :meth:`Registry.search`, for a fixed set of realistic queries (plain, with a
  filter, sorted by downloads), at the corpus size (the 2,679 real SKILL.md
  files of ``shared/corpus/skills``, loaded leniently; unparseable ones are
  skipped) and at 20,000 skills (the corpus plus deterministic variations of
  it).  The baseline, in the same run on the same table, is a naive
  ``LIKE '%word%'`` scan over description and body: the ratio shows what the
  index buys.  To get 20,000 skills into the index in seconds, the search
  part inserts rows with the store's own index code but skips the publish
  pipeline (no scan, no signatures).
* **publish** — full pipeline (unpack, validate, name check against the
  20,000 names, scan, hash, signature check, blob, index, log, countersign)
  for freshly generated valid skills: publishes per second.
* **install** — download + verify + unpack through the HTTP API in process
  (httpx's ASGI transport): version detail, archive, content hash recomputed,
  both signatures, inclusion proof against the signed checkpoint.

Run: ``.venv/bin/python bench/registry.py [--corpus DIR] [--rounds N]``.
Target: search p50 under 10 ms at 20,000 skills.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# This script is named registry.py, so its folder (first on sys.path) would
# shadow the registry package: put the project root first.
sys.path.insert(0, str(ROOT))

from registry.archive import unpack
from registry.errors import RegistryError
from registry.hashing import content_hash
from registry.package import load_skill
from registry.scan import RULESET_VERSION, ScanReport, Verdict
from registry.server import create_app
from registry.signing import PublicKey, PublishStatement, RegistryStatement, verify_release
from registry.store import Registry, SearchQuery, Sort, VersionInfo
from registry.store.codec import info_from_skill
from registry.store.index import NewVersion
from registry.store.testing import make_publisher, signed_request, write_skill
from registry.translog import leaf_hash, verify_inclusion

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "skills"
QUERIES = [
    "pdf",
    "extract tables from pdf",
    "github pull request review",
    "crypto trading bot",
    "resize images",
    "sql database migration",
    "send email",
    "calendar meeting",
    "weather forecast",
    "translate text",
    "docker kubernetes deploy",
    "web scraping",
    "spreadsheet excel",
    "slack notification",
    "summarize youtube video",
    "test driven development",
    "protein structure",
    "security audit",
    "markdown notes",
    "git commit message",
]
_SLUG = re.compile(r"[^a-z0-9]+")
PASS = ScanReport(Verdict.PASS, (), RULESET_VERSION)


@dataclass(frozen=True, slots=True)
class Entry:
    owner: str
    name: str
    info: VersionInfo
    body: str


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60].strip("-") or "x"


def load_corpus(corpus: Path) -> tuple[list[Entry], int]:
    """The corpus skills that load leniently, and how many were skipped."""
    entries: dict[tuple[str, str], Entry] = {}
    skipped = 0
    with (corpus / "INDEX.tsv").open(newline="") as index:
        for row in csv.DictReader(index, delimiter="\t"):
            folder = corpus / Path(row["local_path"]).parent
            parts = Path(row["local_path"]).parts
            owner = slug(parts[1] if parts[0] == "openclaw__skills" else parts[0].split("__")[0])
            try:
                skill = load_skill(folder)
            except RegistryError:
                skipped += 1
                continue
            key = (owner[:39].strip("-"), slug(folder.name))
            entries.setdefault(key, Entry(*key, info_from_skill(skill), skill.manifest.body))
    return list(entries.values()), skipped


def variations(corpus: list[Entry], total: int, rng: random.Random) -> list[Entry]:
    """``total`` entries: the corpus, then variations (renamed, descriptions mixed)."""
    out = list(corpus)
    words = [w for e in corpus for w in e.info.description.split()]
    while len(out) < total:
        base = rng.choice(corpus)
        extra = " ".join(rng.choice(words) for _ in range(12))
        info = VersionInfo(
            description=f"{base.info.description} {extra}"[:1024], tags=base.info.tags
        )
        out.append(Entry(f"user{len(out) % 3000}", f"{base.name}-{len(out)}"[:64], info, base.body))
    return out


def bulk_index(registry: Registry, entries: list[Entry]) -> None:
    """Rows straight into the index (no pipeline): only for the search figures."""
    now = time.time()
    with registry._db.write() as conn:  # the benchmark's shortcut into the store
        for owner in sorted({e.owner for e in entries}):
            conn.execute("INSERT OR IGNORE INTO publishers VALUES (?, ?, ?)", (owner, owner, now))
        for number, entry in enumerate(entries):
            skill_id = registry.index.add_skill(conn, entry.owner, entry.name, entry.name, now, "")
            new = NewVersion(
                "1.0.0", "sha256:" + "0" * 64, "0" * 64, 0, "bench", b"", PASS, entry.info,
                f"---\nname: {entry.name}\n---\n{entry.body}", (), (),
            )  # fmt: skip
            registry.index.add_version(conn, skill_id, new, now + number, ("bench", b"", 0))
            registry.index.refresh(conn, skill_id, now + number)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(run: Callable[[], object], rounds: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock ms per run; with ``cpu``, this thread's CPU ms per run are appended to it."""
    samples = []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.thread_time()
        run()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - started_cpu) * 1000)
    return samples


def search_figures(registry: Registry, rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per variant: wall p50, wall p99, CPU p50 (ms)."""
    variants: dict[str, Callable[[str], SearchQuery]] = {
        "relevance": lambda q: SearchQuery(q),
        "filtered": lambda q: SearchQuery(q, verdict="pass", has_tools=False),
        "by downloads": lambda q: SearchQuery(q, sort=Sort.DOWNLOADS),
    }
    figures = {}
    for label, make in variants.items():
        cpu: list[float] = []
        samples = [
            s
            for q in QUERIES
            for s in timed(lambda q=q, make=make: registry.search(make(q)), rounds, cpu)
        ]
        figures[label] = (percentile(samples, 0.5), percentile(samples, 0.99), percentile(cpu, 0.5))
    return figures


def naive_figures(registry: Registry, rounds: int) -> tuple[float, float]:
    """The baseline: every word as LIKE over description and body, no index."""

    def naive(query: str) -> None:
        words = query.split()
        clause = " AND ".join("(s.description LIKE ? OR v.skill_md LIKE ?)" for _ in words)
        values = [f"%{w}%" for w in words for _ in (0, 1)]
        with registry._db.read() as conn:
            conn.execute(
                "SELECT s.owner, s.name FROM skills s JOIN versions v ON v.skill_id = s.id"
                f" WHERE {clause} ORDER BY s.downloads DESC LIMIT 20",
                values,
            ).fetchall()

    samples = [s for q in QUERIES for s in timed(lambda q=q: naive(q), max(1, rounds // 5))]
    return percentile(samples, 0.5), percentile(samples, 0.99)


def publish_figures(registry: Registry, work: Path, count: int) -> tuple[float, float]:
    """Full-pipeline publishes per second, and ms per publish (median)."""
    _, key, principal = make_publisher(registry, "benchpub")
    rng = random.Random(7)
    requests = []
    for number in range(count):
        name = f"bench-tool-{number:04d}-{rng.randrange(10**6):06d}"
        folder = write_skill(
            work / "pub" / str(number),
            name,
            description=f"Benchmark skill {number}. Use in benchmarks.",
            tool=True,
            version="1.0.0",
        )
        requests.append(signed_request(folder, owner="benchpub", version="1.0.0", key=key))
    samples = []
    started = time.perf_counter()
    for request in requests:
        one = time.perf_counter()
        registry.publish(request, principal)
        samples.append((time.perf_counter() - one) * 1000)
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.median(samples)


async def install_once(http: httpx.AsyncClient, skill: str, registry_key: PublicKey) -> None:
    detail = (await http.get(f"/skills/{skill}/resolve", params={"range": "latest"})).json()
    archive = (await http.get(f"/skills/{skill}/versions/{detail['version']}/download")).content
    files = unpack(archive)
    digest = content_hash(files)
    assert digest == detail["content_hash"]
    signer = PublicKey.from_base64(detail["publisher_signature"]["public_key"])
    statement = RegistryStatement(
        PublishStatement(skill, detail["version"], digest),
        signer.key_id,
        base64.b64decode(detail["publisher_signature"]["signature"]),
        detail["log_index"],
    )
    countersignature = base64.b64decode(detail["registry_signature"]["signature"])
    verify_release(
        statement,
        publisher_key=signer,
        registry_key=registry_key,
        registry_signature=countersignature,
    )
    proof = (await http.get("/log/proof/inclusion", params={"index": detail["log_index"]})).json()
    entry = (
        await http.get("/log/entries", params={"start": detail["log_index"], "limit": 1})
    ).json()
    verify_inclusion(
        leaf_hash(entry["entries"][0]["entry"].encode()),
        detail["log_index"],
        proof["size"],
        [base64.b64decode(p) for p in proof["proof"]],
        base64.b64decode(proof["checkpoint"]["root"]),
    )


async def install_figures(registry: Registry, skill: str, rounds: int) -> float:
    app = create_app(registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1") as http:
        key = PublicKey.from_base64((await http.get("/registry/key")).json()["public_key"])
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            await install_once(http, skill, key)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def report_search(label: str, registry: Registry, rounds: int) -> float:
    figures = search_figures(registry, rounds)
    naive_p50, naive_p99 = naive_figures(registry, rounds)
    print(f"search at {label}:")
    for variant, (p50, p99, cpu) in figures.items():
        print(f"  {variant:13} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   (CPU p50 {cpu:5.2f} ms)")
    relevance = figures["relevance"][0]
    ratio = naive_p50 / relevance
    print(f"  naive LIKE    p50 {naive_p50:6.2f} ms   p99 {naive_p99:6.2f} ms", end="")
    print(f"   (FTS5 is {ratio:.1f}x faster at p50)")
    return relevance


def run(args: argparse.Namespace, work: Path, registry: Registry) -> None:
    corpus, skipped = load_corpus(args.corpus)
    print(f"corpus: {len(corpus)} skills indexed, {skipped} unparseable skipped")
    bulk_index(registry, corpus)
    small = report_search(f"{len(corpus)} skills", registry, args.rounds)
    bulk_index(registry, variations(corpus, args.synthetic, random.Random(42))[len(corpus) :])
    large = report_search(f"{args.synthetic} skills", registry, args.rounds)
    print(f"  scaling: p50 at {args.synthetic} / p50 at {len(corpus)} = {large / small:.2f}")
    verdict = "met" if large < 10 else "MISSED (see the CPU time above on a loaded machine)"
    print(f"  target p50 < 10 ms at {args.synthetic}: {verdict}")
    rate, each = publish_figures(registry, work, args.publishes)
    print(f"publish (full pipeline, {args.publishes} skills, {args.synthetic} names to compare):")
    print(f"  {rate:.1f} publishes/s, median {each:.1f} ms each")
    install = asyncio.run(install_figures(registry, "benchpub/" + _first(registry), 20))
    print(f"install (download + verify + unpack over the API, in process): median {install:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=20, help="runs of each query")
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--publishes", type=int, default=100)
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"load average at start: {load} on {os.cpu_count()} CPUs")
    print("(wall times include waiting for a CPU on a busy machine; CPU times do not)")
    with tempfile.TemporaryDirectory(prefix="skillyard-bench-") as tmp:
        registry = Registry.open(Path(tmp) / "registry")
        try:
            run(args, Path(tmp), registry)
        finally:
            registry.close()


def _first(registry: Registry) -> str:
    return registry.search(SearchQuery(owner="benchpub", limit=1)).hits[0].name


if __name__ == "__main__":
    main()
