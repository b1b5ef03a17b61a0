"""Retrieval quality and speed on rtqa-dev and rtqa-full-dev: BM25, dense, hybrid and hybrid +
second stage, each without and with ``as_of`` (the question's date); abstention; latency;
and the sweeps behind the default weights.

    python benchmarks/retrieval.py [--cache /work/scratch/bench] [--no-write]

Metrics are article-level over answerable questions: the first 10 distinct articles of
``retrieve(k=10, max_per_article=1)``. Abstention: the share of unanswerable questions on
which ``ask`` abstains (caught) and of answerable ones on which it does (false).
Writes docs/benchmarks-retrieval.md (section "retrieval").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.retrieval import (
    Candidate,
    HybridRetriever,
    RetrievalConfig,
    rank_candidates,
    suppress_duplicates,
)
from assistant.timewords import parse_as_of
from benchmarks.common import (
    SETS,
    Question,
    abstention,
    auroc,
    load_questions,
    open_bot,
    percentiles,
    rank_metrics,
    ranked_articles,
    table,
    threshold_at,
    update_section,
)

DEFAULT = RetrievalConfig()
FIRST_STAGE = replace(DEFAULT, article_vector_weight=0.0)
ROWS = {
    "BM25": replace(FIRST_STAGE, use_dense=False),
    "dense": replace(FIRST_STAGE, use_lexical=False),
    "hybrid": FIRST_STAGE,
    "hybrid + article vector (default)": DEFAULT,
}
HEADERS = ["retrieval", "as_of", "H@1", "H@5", "H@10", "MRR@10", "AUROC", "p50 ms", "p95 ms"]


def run_config(bot: Any, questions: list[Question], config: RetrievalConfig,
               dated: bool) -> dict[str, Any]:
    retriever = HybridRetriever(bot.store, bot.embedder, config)
    rankings, signals, times, pools = [], [], [], []
    for q in questions:
        started = time.perf_counter()
        result = retriever.retrieve(q.question, k=10, max_per_article=1,
                                    as_of=q.date if dated else None)
        times.append((time.perf_counter() - started) * 1000)
        rankings.append(ranked_articles(p.article_id for p in result.passages))
        signals.append(result.relevance)
        pools.append(result.candidates)
    answerable = [s for s, q in zip(signals, questions, strict=True) if q.answerable]
    unanswerable = [s for s, q in zip(signals, questions, strict=True) if not q.answerable]
    return {"metrics": rank_metrics(rankings, questions), "times": percentiles(times),
            "auroc": auroc(answerable, unanswerable), "signals": (answerable, unanswerable),
            "pools": pools}


def rerank(pools: list[list[Candidate]], questions: list[Question], config: RetrievalConfig,
           dated: bool) -> dict[str, float]:
    """Metrics of the same candidate pools ranked under another config (for the sweeps)."""
    rankings = []
    for cands, q in zip(pools, questions, strict=True):
        day = parse_as_of(q.date if dated else None)
        ranked = suppress_duplicates(rank_candidates(cands, config, day), config.duplicate_jaccard)
        rankings.append(ranked_articles(str(c.meta.get("article_id", "")) for c in ranked))
    return rank_metrics(rankings, questions)


def ask_abstention(bot: Any, questions: list[Question]) -> dict[str, Any]:
    flags, times = {True: [], False: []}, []
    for q in questions:
        started = time.perf_counter()
        answer = bot.ask(q.question, as_of=q.date)
        times.append((time.perf_counter() - started) * 1000)
        flags[q.answerable].append(answer.abstained)
    return {"caught": float(np.mean(flags[False])) if flags[False] else 0.0,
            "false": float(np.mean(flags[True])), "times": percentiles(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="keep the built indexes here (reused)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    main_rows, sweep_w, sweep_r, sweep_a, calib, asks = [], {}, {}, {}, [], []
    for name in SETS:
        bot = open_bot(name, args.cache)
        questions = load_questions(name)
        hybrid: dict[bool, dict[str, Any]] = {}
        for label, config in ROWS.items():
            for dated in (False, True):
                out = run_config(bot, questions, config, dated)
                m = out["metrics"]
                main_rows.append([f"{name}: {label}", "yes" if dated else "no", m["h1"], m["h5"],
                                  m["h10"], m["mrr"], out["auroc"] if config.use_dense else "-",
                                  round(out["times"][0], 1), round(out["times"][1], 1)])
                print(table(HEADERS, main_rows[-1:]).splitlines()[-1], flush=True)
                if config == DEFAULT:
                    hybrid[dated] = out
        for w in (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
            m = rerank(hybrid[False]["pools"], questions, replace(DEFAULT, dense_weight=w), False)
            sweep_w.setdefault(w, []).extend([m["mrr"], m["h10"]])
        for dated in (False, True):
            for a in (0.0, 0.2, 0.3, 0.5, 0.7):
                config = replace(DEFAULT, article_vector_weight=a)
                m = rerank(hybrid[dated]["pools"], questions, config, dated)
                sweep_a.setdefault((a, dated), []).extend([m["mrr"], m["h10"]])
        for rw in (0.0, 0.2, 0.3, 0.5, 1.0):
            for days in (3, 7, 14, 30):
                config = replace(DEFAULT, recency_weight=rw, recency_days=days)
                m = rerank(hybrid[True]["pools"], questions, config, True)
                sweep_r.setdefault((rw, days), []).extend([m["mrr"], m["h10"]])
        for dated in (False, True):
            ans, una = hybrid[dated]["signals"]
            t = threshold_at(ans, 0.05)
            caught, false = abstention(ans, una, t)
            at_config = abstention(ans, una, bot.settings.min_relevance)
            calib.append([name, "yes" if dated else "no", auroc(ans, una), round(t, 3), caught,
                          false, at_config[0], at_config[1]])
        ask = ask_abstention(bot, questions)
        asks.append([name, bot.settings.min_relevance, bot.settings.sentence_min_relevance,
                     ask["caught"], ask["false"], round(ask["times"][0], 1),
                     round(ask["times"][1], 1)])
        print(asks[-1], flush=True)

    body = "\n\n".join([
        "## Retrieval quality (rtqa-dev, rtqa-full-dev)",
        "Command: `python benchmarks/retrieval.py --cache /work/scratch/bench`. Article-level "
        "metrics over answerable questions (first 10 distinct articles of "
        "`retrieve(k=10, max_per_article=1)`); `as_of` = the question's `date`. AUROC: how well "
        "the abstention signal (best dense cosine, in the 7-day look-back window when as_of is "
        "given) separates answerable from unanswerable questions. Latency: one `retrieve` "
        f"(query embedding included), warm, on a shared 2-core machine (load average at the "
        f"end: {os.getloadavg()[0]:.1f}).",
        table(HEADERS, main_rows),
        "### Sweep: dense weight of the fusion (hybrid, no as_of; MRR@10 / H@10)",
        table(["dense weight", *[f"{s} {m}" for s in SETS for m in ("MRR", "H@10")]],
              [[w, *v] for w, v in sweep_w.items()]),
        "### Sweep: second stage, share of the article's mean-vector cosine in the dense score",
        table(["article weight", "as_of", *[f"{s} {m}" for s in SETS for m in ("MRR", "H@10")]],
              [[a, "yes" if d else "no", *v] for (a, d), v in sweep_a.items()]),
        "### Sweep: recency prior (hybrid with as_of; bonus weight x exp(-age/τ))",
        table(["weight", "τ days", *[f"{s} {m}" for s in SETS for m in ("MRR", "H@10")]],
              [[rw, days, *v] for (rw, days), v in sweep_r.items()]),
        "### Abstention signal (hybrid retrieval)",
        "Threshold at ≤5 % false abstention on that set, and what the configured "
        "`min_relevance` gives (signal only, before the sentence check).",
        table(["set", "as_of", "AUROC", "threshold @5%", "caught", "false",
               "caught @config", "false @config"], calib),
        "### End-to-end `ask` with as_of (extractive)",
        "Abstains when the retrieval signal < `min_relevance` or the best sentence cosine < "
        "`sentence_min_relevance`.",
        table(["set", "min_relevance", "sentence_min_relevance", "caught", "false",
               "ask p50 ms", "ask p95 ms"], asks),
    ])
    print(body)
    if not args.no_write:
        update_section("retrieval", body)


if __name__ == "__main__":
    main()
