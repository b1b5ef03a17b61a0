"""End-to-end ingest throughput against the raw embedder on the same chunks, side by side.

python benchmarks/ingest.py [--articles ../shared/data/rtqa-dev/articles.jsonl] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._docs import SHARED_DATA, markdown_table, update_section
from benchmarks.common import forget_memos
from ingest.chunking import chunk_article, make_splitter
from ingest.embedding import default_embedder
from ingest.loaders import load_path
from ingest.pipeline import embed_text
from ingest.records import Article


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", default=str(SHARED_DATA / "rtqa-dev" / "articles.jsonl"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()

    from assistant import NewsAssistant

    embedder = default_embedder()
    articles = [a for a in load_path(Path(args.articles)) if isinstance(a, Article)]
    splitter = make_splitter(embedder.count_tokens)
    texts = [embed_text(a, c.text) for a in articles for c in chunk_article(a.body, splitter)]
    tokens = sum(embedder.count_tokens(t) for t in texts)
    print(f"{len(articles)} articles, {len(texts)} chunks, {tokens / len(texts):.0f} tokens/chunk")

    raw, e2e = [], []
    for round_ in range(args.repeats):  # alternate, so machine noise hits both alike
        forget_memos(embedder)  # neither step may reuse the other's vectors
        started = time.perf_counter()
        embedder.embed(texts)
        raw.append(len(texts) / (time.perf_counter() - started))
        with tempfile.TemporaryDirectory() as tmp:
            bot = NewsAssistant(index=Path(tmp) / "index", embedder=embedder)
            forget_memos(embedder)
            started = time.perf_counter()
            report = bot.ingest([args.articles])
            e2e.append(report.chunks_written / (time.perf_counter() - started))
            assert report.ok and len(report.added) == len(articles)
            again = time.perf_counter()
            assert len(bot.ingest([args.articles]).unchanged) == len(articles)
            rerun = time.perf_counter() - again
        print(
            f"round {round_ + 1}: raw {raw[-1]:.1f} chunks/s, end-to-end {e2e[-1]:.1f} chunks/s,"
            f" unchanged re-run {rerun:.2f} s"
        )

    raw_med, e2e_med = statistics.median(raw), statistics.median(e2e)
    # the load of a shared machine changes between rounds: compare within a round
    ratios = [e / r for e, r in zip(e2e, raw, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"median raw {raw_med:.1f} chunks/s, end-to-end {e2e_med:.1f} chunks/s, ratio {ratio:.2f}"
    )
    if args.no_write:
        return
    rel = Path(args.articles).resolve()
    shown = (
        f"../shared/data/{rel.parent.name}/{rel.name}" if "shared" in rel.parts else args.articles
    )
    table = markdown_table(
        ["measure", "median of " + str(args.repeats), "all runs"],
        [
            [
                "raw embedder (MiniLM int8, batch 32), chunks/s",
                f"{raw_med:.1f}",
                ", ".join(f"{x:.1f}" for x in raw),
            ],
            [
                "end-to-end ingest (load, chunk, embed, upsert), chunks/s",
                f"{e2e_med:.1f}",
                ", ".join(f"{x:.1f}" for x in e2e),
            ],
            [
                "ratio end-to-end / raw, per round",
                f"{ratio:.2f}",
                ", ".join(f"{x:.2f}" for x in ratios),
            ],
            ["re-ingest of unchanged articles, s", f"{rerun:.2f}", ""],
        ],
    )
    update_section(
        "ingest",
        f"""## Ingest throughput

`python benchmarks/ingest.py --articles {shown} --repeats {args.repeats}`

{len(articles)} articles, {len(texts)} chunks of {tokens / len(texts):.0f} tokens on average;
raw embedding and full ingest into a fresh local index alternate in each round.

{table}""",
    )


if __name__ == "__main__":
    main()
