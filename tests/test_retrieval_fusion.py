"""Hybrid fusion, the per-article cap and near-duplicate suppression over real indexes."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.retrieval import (
    Candidate,
    HybridRetriever,
    RetrievalConfig,
    fuse_scores,
    normalise,
    suppress_duplicates,
)


def test_fuse_scores_weights_min_max_normalised_scores():
    assert normalise([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert normalise([5.0, 5.0]) == [1.0, 1.0] and normalise([]) == []
    fused = fuse_scores([0.9, 0.5, 0.7], [0.0, 10.0, 5.0], 0.8)
    assert fused == pytest.approx([0.8, 0.2, 0.5])
    assert fuse_scores([0.9, 0.5], [0.0, 10.0], 1.0) == pytest.approx([1.0, 0.0])
    assert fuse_scores([0.9, 0.5], [0.0, 10.0], 0.0) == pytest.approx([0.0, 1.0])


ARTICLES = [
    {"id": "fu-code", "title": "Port Upgrade Approved", "source": "Harbour Wire",
     "published_at": "2024-05-02", "body": "The council approved project QX-4471, a new crane "
     "terminal at the container port, after a long debate about dredging costs."},
    {"id": "fu-cranes", "title": "Cranes Arrive at the Port", "source": "City Post",
     "published_at": "2024-05-03", "body": "Three giant cranes arrived by ship at the container "
     "port, where dock workers will start unloading larger vessels next month."},
    {"id": "fu-bees", "title": "Beekeepers Count Losses", "source": "Farm Wire",
     "published_at": "2024-05-03", "body": "Beekeepers reported that a cold spring killed a third "
     "of the hives in the valley."},
    {"id": "fu-comet", "title": "Comet Visible Tonight", "source": "Sky Times",
     "published_at": "2024-05-04", "body": "A comet will be visible to the naked eye after "
     "sunset, astronomers said."},
]


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def port_bot(bot, tmp_path: Path):
    assert bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)]).ok
    return bot


def test_hybrid_finds_a_rare_code_that_dense_alone_misses(port_bot):
    query = "What is QX-4471?"
    store, embedder = port_bot.store, port_bot.embedder
    only_bm25 = HybridRetriever(store, embedder, RetrievalConfig(use_dense=False))
    hybrid = HybridRetriever(store, embedder, RetrievalConfig())
    assert only_bm25.search(query, k=1)[0].article_id == "fu-code"
    # without vectors, BM25 alone orders the pool (articles of 2024: no recency bonus today)
    pool = only_bm25.retrieve("QX-4471 crane terminal port", k=4).candidates
    assert len(pool) > 1 and all(c.cosine == 0.0 and math.isfinite(c.fused) for c in pool)
    assert pool == sorted(pool, key=lambda c: (-c.bm25, c.chunk_id))
    assert hybrid.search(query, k=1)[0].article_id == "fu-code"
    hits = port_bot.search("cranes unloading larger vessels at the port", k=4)
    assert hits[0].article_id == "fu-cranes"
    assert hits == sorted(hits, key=lambda p: p.score, reverse=True)
    assert all(0.0 <= p.score <= 1.0 for p in hits)


def test_candidates_carry_both_scores_and_exact_cosines(port_bot):
    retrieval = port_bot.retriever.retrieve("QX-4471 crane terminal", k=4)
    by_id = {c.chunk_id: c for c in retrieval.candidates}
    code = by_id["fu-code#0"]
    assert code.bm25 > 0 and 0.0 < code.cosine <= 1.0
    vector = port_bot.embedder.embed(["Port Upgrade Approved\n" + ARTICLES[0]["body"]])[0]
    query = port_bot.embedder.embed(["QX-4471 crane terminal"])[0]
    assert code.cosine == pytest.approx(float(vector @ query), abs=1e-3)
    assert retrieval.relevance == pytest.approx(max(c.cosine for c in retrieval.candidates))


def test_dense_weight_moves_the_ranking(port_bot):
    store, embedder = port_bot.store, port_bot.embedder
    query = "crane terminal dredging debate"
    ranks = {}
    for weight in (0.0, 1.0):
        retriever = HybridRetriever(store, embedder, RetrievalConfig(dense_weight=weight))
        ranks[weight] = [c.chunk_id for c in retriever.retrieve(query, k=4).candidates]
    assert ranks[0.0][0] == "fu-code#0"  # BM25 alone: the only article with those words
    assert set(ranks[0.0]) == set(ranks[1.0])  # same pool, ranked by another weight


def test_per_article_cap_keeps_distinct_stories(bot, tmp_path: Path):
    long = {"id": "fu-long", "title": "Budget Debate Runs Late", "source": "Capital Times",
            "published_at": "2024-05-01", "body": "\n\n".join(
                f"Paragraph {i}: lawmakers argued about the budget deficit, taxes and spending "
                "cuts late into the night." for i in range(40))}
    other = {"id": "fu-other", "title": "Deficit Forecast Revised", "source": "Market Wire",
             "published_at": "2024-05-02", "body": "Economists revised the budget deficit "
             "forecast after the vote on taxes and spending."}
    bot.ingest([write(tmp_path / "b.jsonl", [long, other, *ARTICLES[2:]])])
    retriever = bot.retriever
    for cap in (1, 2, 3):
        hits = retriever.search("budget deficit taxes spending", k=6, max_per_article=cap)
        assert sum(p.article_id == "fu-long" for p in hits) == cap
        assert "fu-other" in {p.article_id for p in hits}
        assert len({p.chunk_id for p in hits}) == len(hits)


def test_near_duplicates_from_other_outlets_are_folded(bot, tmp_path: Path):
    wire = ("Officials in Lisvik confirmed on Tuesday that the old swing bridge will close for "
            "eighteen months of repairs starting in June, diverting traffic to the ring road.")
    copies = [
        {"id": "fu-wire", "title": "Swing Bridge to Close", "source": "Wire Service",
         "published_at": "2024-05-07", "body": wire},
        {"id": "fu-copy", "title": "Lisvik Bridge Closure", "source": "Lisvik Daily",
         "published_at": "2024-05-07", "body": wire + " Local shops fear fewer customers."},
        {"id": "fu-own", "title": "Shops Worry About Bridge", "source": "Ormond Herald",
         "published_at": "2024-05-08", "body": "Shop owners near the swing bridge say the "
         "closure could halve their trade during the repairs."},
    ]
    bot.ingest([write(tmp_path / "c.jsonl", [*copies, *ARTICLES[2:]])])
    retriever = bot.retriever
    hits = retriever.search("swing bridge closure repairs Lisvik", k=5)
    ids = [p.article_id for p in hits]
    assert len({"fu-wire", "fu-copy"} & set(ids)) == 1  # one copy of the wire story
    kept = next(p for p in hits if p.article_id in {"fu-wire", "fu-copy"})
    other = {"fu-wire": "Lisvik Daily", "fu-copy": "Wire Service"}[kept.article_id]
    assert other in kept.also_reported_by
    assert "fu-own" in ids  # a different story on the same topic stays
    off = HybridRetriever(bot.store, bot.embedder,
                          replace(RetrievalConfig(), duplicate_jaccard=1.01))
    assert {"fu-wire", "fu-copy"} <= {p.article_id for p in off.search(
        "swing bridge closure repairs Lisvik", k=5)}


def test_suppress_duplicates_keeps_passages_of_one_article():
    text = "the same words repeated in two overlapping chunks of one article about a bridge"
    a = Candidate("x#0", text, {"article_id": "x", "source": "A"}, 0.9)
    b = Candidate("x#1", text, {"article_id": "x", "source": "A"}, 0.8)
    c = Candidate("y#0", text, {"article_id": "y", "source": "B"}, 0.7)
    kept = suppress_duplicates([a, b, c], 0.6)
    assert [k.chunk_id for k in kept] == ["x#0", "x#1"]
    assert kept[0].meta["_also"] == ["B"]
