"""Retrieval at scale: an index grown to 1k, 10k and 100k passages synthesised by recombining
the rtqa-dev passages, with ingest throughput (and the raw embedder's on the same chunks),
index size on disk, peak RSS, warm search and extractive ask latency at each size, a lexical
engine comparison at the largest size, and cold-start times of the CLI.

    python benchmarks/scale.py --workdir /work/scratch/scale [--sizes 1000,10000,100000]

Each size has its own index in --workdir (``index`` for the largest, ``index-<size>`` for the
others), grown in place, so a second run with the same --workdir reuses what is built (delete
the directory to measure ingest again). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    DATA,
    forget_memos,
    load_questions,
    machine,
    percentiles,
    rss_mb,
    table,
    update_section,
)

SOURCES = ("CNN", "THE WEEK", "USAtoday", "Reuters", "AP")
SEED = 20240517


def synth_articles(target_chunks: int, start_id: int, rng: random.Random,
                   passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Articles of 2-3 random dev passages each (one chunk, mostly), dated 2020-2022."""
    out = []
    estimated = 0
    i = start_id
    while estimated < target_chunks:
        parts = rng.sample(passages, rng.randint(2, 3))
        body = "\n\n".join(p["body"] for p in parts)
        out.append({
            "id": f"syn-{i}", "title": " ".join(parts[0]["body"].split()[:10]),
            "source": rng.choice(SOURCES), "published_at": parts[0]["published_at"],
            "body": body,
        })
        estimated += max(1, round(len(body.split()) / 140))
        i += 1
    return out


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


class RecombiningEmbedder:
    """Vectors of synthetic chunks as the normalised mean of the model's vectors of the dev
    passages they are made of (cached), so that growing to 100k passages does not take hours
    of model time on a shared 2-core machine. Everything else (chunking, Chroma, BM25) runs
    as in a normal ingest; parts it does not know (a passage split across chunks) go to the
    model. Queries are always embedded by the model."""

    def __init__(self, model: Any, passages: list[dict[str, Any]]) -> None:
        self.model = model
        self.name, self.max_tokens = model.name, model.max_tokens
        self.count_tokens = model.count_tokens
        # the vectors of "title\nbody" that ingesting rtqa-dev computed (in a CachedModel's
        # cache, from benchmarks/retrieval.py), keyed by body
        texts = {p["body"]: f"{p['title']}\n{p['body']}" if p.get("title") else p["body"]
                 for p in passages}
        bodies = sorted(texts)
        self.cache = dict(zip(bodies, model.embed([texts[b] for b in bodies]), strict=True))

    def embed_sentences(self, texts: Any) -> Any:
        """Sentences of synthetic chunks are the dev passages' sentences: ``model`` (a
        ``CachedModel``) has their vectors from the retrieval benchmark or embeds them once."""
        return self.model.embed(texts)

    def embed(self, texts: Any) -> Any:
        import numpy as np

        out = []
        for text in texts:
            body = text.split("\n", 1)[1] if "\n" in text else text  # drop the title line
            parts = [part for part in body.split("\n\n") if part.strip()]
            vecs = [self.cache.get(part) for part in parts]
            unknown = [part for part, v in zip(parts, vecs, strict=True) if v is None]
            if unknown:
                extra = iter(self.model.embed(unknown))
                vecs = [v if v is not None else next(extra) for v in vecs]
            mean = np.mean(vecs, axis=0)
            out.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        return np.asarray(out, dtype=np.float32)


def grow(bot: Any, workdir: Path, target: int, rng: random.Random,
         passages: list[dict[str, Any]]) -> dict[str, float] | None:
    """Ingest synthetic articles until the index holds ``target`` passages."""
    if bot.store.count()[1] >= target:
        return None
    written, seconds = 0, 0.0
    name = Path(bot.settings.index).name
    state = workdir / ("next_id" if name == "index" else f"{name}.next_id")
    while (have := bot.store.count()[1]) < target:
        next_id = int(state.read_text()) if state.exists() else 0
        articles = synth_articles(target - have, next_id, rng, passages)
        path = workdir / f"batch-{next_id}.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in articles))
        started = time.perf_counter()
        report = bot.ingest([path])
        seconds += time.perf_counter() - started
        written += report.chunks_written
        state.write_text(str(next_id + len(articles)))
        path.unlink()
    return {"chunks": written, "seconds": seconds, "per_s": written / seconds}


def raw_embedder_rate(bot: Any, passages: list[dict[str, Any]], n: int = 1500) -> dict[str, float]:
    """Chunks/s of the bare embedder vs a full ingest of the same articles (fresh index)."""
    import tempfile

    from assistant import NewsAssistant
    from ingest.chunking import chunk_article, make_splitter
    from ingest.loaders import load_path
    from ingest.pipeline import embed_text

    rng = random.Random(SEED + 1)
    arts = synth_articles(n, 10_000_000, rng, passages)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in arts))
        loaded = [a for a in load_path(path) if not isinstance(a, Exception)]
        splitter = make_splitter(bot.embedder.count_tokens)
        texts = [embed_text(a, c.text) for a in loaded for c in chunk_article(a.body, splitter)]
        forget_memos(bot.embedder)
        started = time.perf_counter()
        bot.embedder.embed(texts)
        raw = len(texts) / (time.perf_counter() - started)
        fresh = NewsAssistant(index=Path(tmp) / "index", embedder=bot.embedder)
        forget_memos(bot.embedder)
        started = time.perf_counter()
        report = fresh.ingest([path])
        full = report.chunks_written / (time.perf_counter() - started)
    return {"chunks": len(texts), "raw": raw, "ingest": full, "ratio": full / raw}


def measure(bot: Any, questions: list[Any], *, n_search: int = 200, n_ask: int = 60) -> dict:
    load_before = os.getloadavg()[0]
    qs = (questions * 3)[:n_search]
    # warm up (model, Chroma segments, tantivy searcher, spaCy, the answer path): the first
    # size measured would otherwise pay the process's cold start, flattering the p95 ratio
    for q in qs[:40]:
        bot.search(q.question, k=10)
        bot.search(q.question, k=10, as_of=q.date)
    for q in qs[-5:]:
        bot.ask(q.question, as_of=q.date)
    plain, dated, asks = [], [], []
    # each timed call embeds its question and reads its passages as if new: the embedder
    # remembers the question a search before it embedded (an ask after its search would skip
    # the model), and the synthetic passages repeat the dev passages' sentences far more
    # often than news does
    for q in qs:
        forget_memos(bot.embedder)
        started = time.perf_counter()
        bot.search(q.question, k=10)
        plain.append((time.perf_counter() - started) * 1000)
        forget_memos(bot.embedder)
        started = time.perf_counter()
        bot.search(q.question, k=10, as_of=q.date)
        dated.append((time.perf_counter() - started) * 1000)
    for q in qs[:n_ask]:
        forget_memos(bot.embedder)
        started = time.perf_counter()
        bot.ask(q.question, as_of=q.date)
        asks.append((time.perf_counter() - started) * 1000)
    return {"search": percentiles(plain), "search_as_of": percentiles(dated),
            "ask": percentiles(asks), "load": (load_before + os.getloadavg()[0]) / 2}


def lexical_engines(bot: Any, questions: list[Any], n: int = 200) -> list[list[Any]]:
    """tantivy (the index in use) against bm25s (rebuilt from scratch) on the same passages."""
    import bm25s

    from ingest.lexical import lexical_text

    rows = []
    times = []
    for q in questions[:n]:
        started = time.perf_counter()
        bot.store.lexical.search(q.question, 50)
        times.append((time.perf_counter() - started) * 1000)
    rows.append(["tantivy (incremental, on disk)", "-", *(round(t, 2) for t in percentiles(times))])
    texts, ids = [], []
    total = bot.store.passages.count()
    for offset in range(0, total, 5000):
        got = bot.store.passages.get(include=["documents", "metadatas"], limit=5000, offset=offset)
        ids += got["ids"]
        texts += [lexical_text(str(m.get("title", "")), d or "")
                  for d, m in zip(got["documents"], got["metadatas"], strict=False)]
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False),
                    show_progress=False)
    build = time.perf_counter() - started
    times = []
    for q in questions[:n]:
        started = time.perf_counter()
        tokens = bm25s.tokenize([q.question], stopwords="en", show_progress=False)
        if tokens.vocab:
            retriever.retrieve(tokens, k=50, show_progress=False, n_threads=1)
        times.append((time.perf_counter() - started) * 1000)
    rows.append(["bm25s (full rebuild per change)", round(build, 1),
                 *(round(t, 2) for t in percentiles(times))])
    return rows


def startup_times(workdir: Path) -> list[list[Any]]:
    """Wall time of ``news-assistant --help`` and a cold ``ask`` on the demo index."""
    exe = str(Path(sys.executable).parent / "news-assistant")
    demo = workdir / "demo-index"
    if not demo.exists():
        subprocess.run([exe, "ingest", "--demo", "--index", str(demo)], check=True,
                       capture_output=True)
    rows = []
    for label, cmd in [
        ("news-assistant --help", [exe, "--help"]),
        ("news-assistant ask (cold, demo index)",
         [exe, "ask", "What did Xi say about Ukraine?", "--index", str(demo)]),
        ("news-assistant search (cold, demo index)",
         [exe, "search", "Harbin trade", "--index", str(demo)]),
    ]:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        rows.append([label, round(min(times), 2), round(sorted(times)[1], 2)])
    return rows


def ratio_table(raw: list[dict[str, Any]], rows: list[list[Any]]) -> str:
    """ask p50 / search p50 at each size, and search p95 against the smallest size's."""
    if not raw:
        return ""
    base = raw[0]["search"][1]
    out = [[row[0], round(m["ask"][0] / m["search"][0], 2),
            round(m["ask"][0] / m["search_as_of"][0], 2), round(m["search"][1] / base, 2),
            round(m["load"], 1)] for m, row in zip(raw, rows, strict=True)]
    return table(["passages", "ask p50 / search p50", "ask p50 / dated search p50",
                  "search p95 / p95 at smallest size", "load avg"], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/work/scratch/scale")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--model-up-to", type=int, default=10_000,
                        help="embed with the model up to this size; recombine cached passage "
                        "vectors beyond it (see RecombiningEmbedder)")
    parser.add_argument("--latency-only", action="store_true",
                        help="skip the throughput, engine and cold-start measurements")
    parser.add_argument("--section", default="scale", help="section of the docs file to write")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--vector-cache", default="/work/scratch/bench15",
                        help="where benchmarks/retrieval.py keeps the model's vectors")
    args = parser.parse_args()
    from assistant import NewsAssistant

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    passages = [json.loads(line) for line in (DATA / "rtqa-dev" / "articles.jsonl").open()]
    questions = load_questions("rtqa-dev")
    rng = random.Random(SEED)
    from benchmarks.common import CachedModel
    from ingest.embedding import default_embedder

    model = default_embedder()  # queries: always the model itself
    vectors = CachedModel(model, Path(args.vector_cache) / f"vectors-{model.name}.npz")
    rows: list[list[Any]] = []
    raw: list[dict[str, Any]] = []
    ingests = []
    sizes = sorted(int(s) for s in args.sizes.split(","))
    for size in sizes:
        index = workdir / ("index" if size == sizes[-1] else f"index-{size}")
        recombined = size > args.model_up_to
        bot = NewsAssistant(index=index, embedder=model, llm="extractive")
        grower = (NewsAssistant(index=index, embedder=RecombiningEmbedder(vectors, passages),
                                llm="extractive") if recombined else bot)
        grown = grow(grower, workdir, size, rng, passages)
        vectors.save()
        if grown:
            ingests.append([size, "recombined vectors" if recombined else "model",
                            grown["chunks"], round(grown["seconds"], 1), round(grown["per_s"], 1)])
        if grower is not bot:
            grower.store.flush()
            bot = NewsAssistant(index=index, embedder=model, llm="extractive")  # sees the new data
        chunks = bot.store.count()[1]
        m = measure(bot, questions)
        raw.append(m)
        rows.append([f"{chunks:,}", round(dir_size_mb(index), 1),
                     round(dir_size_mb(index / "lexical"), 1),
                     *(round(v, 1) for v in m["search"]), *(round(v, 1) for v in m["search_as_of"]),
                     round(m["ask"][0], 1), round(rss_mb()), round(m["load"], 1)])
        print(table(["passages", "index MB", "of which lexical MB", "search p50 ms",
                     "search p95 ms", "as_of p50 ms", "as_of p95 ms", "ask p50 ms",
                     "peak RSS MB", "load avg"], rows[-1:]), flush=True)
    if args.latency_only:  # e.g. a small size beside a bigger, already measured index
        body = "\n\n".join([
            f"Command: `python benchmarks/scale.py --workdir {args.workdir} --sizes {args.sizes} "
            f"--model-up-to {args.model_up_to} --latency-only --section {args.section}` (one "
            "warm process: 200 searches (k=10), 200 with as_of, 60 extractive `ask` with "
            "as_of; each timed call embeds its question and reads its passages as if new, "
            "every memo cleared before it).",
            table(["passages", "index MB", "of which lexical MB", "search p50 ms", "search p95 ms",
                   "as_of p50 ms", "as_of p95 ms", "ask p50 ms", "peak RSS MB", "load avg"], rows),
            f"Machine: {machine()}; load average (`uptime`, 1 min): mean of before and after "
            "each size's measurements. Vectors of synthetic passages: "
            + ("recombined from the model's cached vectors of their parts at every size "
               "(--model-up-to 0)" if args.model_up_to == 0 else
               f"from the model up to {args.model_up_to:,} passages, recombined beyond"),
            "Ratios within this run (targets: ask p50 ≤ 1.5x search p50; search p95 ≤ 1.5x "
            "its value at the smallest size). `ask` searches with the question's date, so its "
            "ratio to the dated search is shown too:",
            ratio_table(raw, rows)])
        print(body)
        if not args.no_write:
            update_section(args.section, body)
        return
    ratios = ratio_table(raw, rows)
    rate = raw_embedder_rate(bot, passages)
    engines = lexical_engines(bot, questions)
    starts = startup_times(workdir)
    body = "\n\n".join([
        "## Scale: search and ask latency, index size, memory",
        "Command: `python benchmarks/scale.py --workdir /work/scratch/scale` (index outside the "
        "repo; passages synthesised from 2-3 random rtqa-dev passages per article; up to "
        f"{args.model_up_to:,} passages every vector comes from the model, beyond that from "
        "recombining the model's cached vectors of the parts, to spare hours of model time; "
        "queries are always embedded by the model). "
        "Latencies are taken in one warm process over 200 rtqa-dev questions (search k=10) "
        "and 60 extractive `ask` calls with the question's date as `as_of`, each call "
        "embedding its question and reading its passages as if new (every memo cleared "
        "before it); peak RSS is the process maximum so far.",
        table(["passages", "index MB", "of which lexical MB", "search p50 ms", "search p95 ms",
               "as_of p50 ms", "as_of p95 ms", "ask p50 ms", "peak RSS MB", "load avg"], rows),
        f"Machine: {machine()}; load average (`uptime`, 1 min) at each size is the mean of its "
        "value before and after that size's measurements, shown in each row. Shared machine: "
        "absolute times move with the load; the ratios below are taken within one run.",
        "### Ratios (targets: ask p50 ≤ 1.5x search p50; search p95 ≤ 1.5x its value at the "
        "smallest size)",
        ratios,
        "### Ingest throughput",
        (table(["grown to", "vectors by", "passages written", "seconds", "passages/s"], ingests)
         if ingests else "(index reused; delete the workdir to measure growth)"),
        f"Same {rate['chunks']} synthetic chunks: raw embedder {rate['raw']:.1f} chunks/s, "
        f"end-to-end ingest (load, chunk, embed, Chroma, BM25) {rate['ingest']:.1f} chunks/s "
        f"= **{rate['ratio']:.0%}** of the raw embedder.",
        f"### Lexical engines at {bot.store.count()[1]:,} passages (top 50, 200 queries)",
        table(["engine", "build s", "query p50 ms", "query p95 ms"], engines),
        "### Cold start (wall time, best and median of 3)",
        table(["command", "best s", "median s"], starts),
    ])
    print(body)
    if not args.no_write:
        update_section(args.section, body)


if __name__ == "__main__":
    main()
