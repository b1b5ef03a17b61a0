"""Ingest throughput of each embedder (minilm, e5, minilm+e5) against the raw models, and the
cost of storing sentence vectors at ingest.

    python benchmarks/embedders.py [--articles 300] [--no-write]

On the first N rtqa-dev articles: the raw MiniLM and e5 rates on the chunk texts ingest embeds,
then a full ingest into a fresh index with each embedder (chunking, both Chroma collections,
the lexical index, story groups, sentence vectors), and for MiniLM also without sentence
vectors (what they add). One process, rounds alternated; the machine's load is shown.
Writes the "embedders" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATA, forget_memos, machine, table, update_section
from ingest.chunking import chunk_article, make_splitter
from ingest.records import Article


def ingest_rate(articles_path: Path, embedder: Any, *, sentences: bool = True) -> dict[str, float]:
    """Passages/s of a full ingest into a fresh index."""
    import ingest.pipeline as pipeline
    from assistant import NewsAssistant
    from ingest.sentence_vectors import SentenceVectors, embed_passage_sentences

    def none(texts: Any, _: Any) -> list[Any]:
        import numpy as np

        return [SentenceVectors((), np.zeros((0, 0), "float32")) for _ in texts]

    pipeline.embed_passage_sentences = embed_passage_sentences if sentences else none
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bot = NewsAssistant(index=Path(tmp) / "index", embedder=embedder,
                                llm="extractive")
            forget_memos(embedder)  # the specs before embedded the same texts
            started = time.perf_counter()
            report = bot.ingest([articles_path])
            seconds = time.perf_counter() - started
            assert report.ok, report.failed
            return {"passages": report.chunks_written, "seconds": seconds,
                    "rate": report.chunks_written / seconds}
    finally:
        pipeline.embed_passage_sentences = embed_passage_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from ingest.embedding import CombinedEmbedder, default_embedder, e5_embedder
    from ingest.pipeline import embed_text

    minilm, e5 = default_embedder(), e5_embedder()
    rows = [json.loads(line) for line in (DATA / "rtqa-dev" / "articles.jsonl").open()]
    rows = rows[: args.articles]
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        articles = [Article(body=r["body"], id=r["id"], title=r.get("title", "")) for r in rows]
        splitter = make_splitter(minilm.count_tokens)
        texts = [embed_text(a, c.text) for a in articles for c in chunk_article(a.body, splitter)]
        raw = {}
        for name, model in (("minilm", minilm), ("e5", e5)):
            model.embed(texts[:8])  # warm
            forget_memos(model)
            started = time.perf_counter()
            model.embed(texts)
            raw[name] = len(texts) / (time.perf_counter() - started)
            print(f"raw {name}: {raw[name]:.1f} passages/s", flush=True)
        loads.append(os.getloadavg()[0])
        results = {}
        for spec, embedder, sentences in (
                ("minilm", minilm, True), ("minilm, no sentence vectors", minilm, False),
                ("e5", e5, True), ("minilm+e5", CombinedEmbedder(minilm, e5), True)):
            results[spec] = ingest_rate(path, embedder, sentences=sentences)
            print(spec, results[spec], flush=True)
        loads.append(os.getloadavg()[0])
    out = [[spec, r["passages"], round(r["seconds"], 1), round(r["rate"], 1),
            round(r["rate"] / raw["minilm"], 2), round(r["rate"] / raw["e5"], 2)]
           for spec, r in results.items()]
    added = results["minilm, no sentence vectors"]["rate"] / results["minilm"]["rate"] - 1
    body = "\n\n".join([
        "## Ingest throughput by embedder",
        f"Command: `python benchmarks/embedders.py --articles {args.articles}` (the first "
        f"{args.articles} rtqa-dev articles, {len(texts)} passages of ~55 tokens). Raw rates: "
        f"MiniLM {raw['minilm']:.1f} passages/s, e5 {raw['e5']:.1f} passages/s on the same "
        "chunk texts (batch 32). Full ingest into a fresh local index, sentence vectors "
        "included (minilm+e5 stores MiniLM's sentence vectors only).",
        table(["embedder", "passages", "seconds", "passages/s", "/ raw MiniLM", "/ raw e5"], out),
        f"Storing sentence vectors costs MiniLM's ingest {added:.0%} more time here (the "
        "sentences of a passage hold about as many tokens as the passage: the embedder's "
        "work roughly doubles).",
        f"Machine: {machine()}; load average (`uptime`) at start / after the raw rates / end: "
        + " / ".join(f"{v:.1f}" for v in loads) + " (a shared machine: compare within a run).",
    ])
    print(body)
    if not args.no_write:
        update_section("embedders", body)


if __name__ == "__main__":
    main()
