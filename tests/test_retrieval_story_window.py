"""Story folding within time, and relative dates as a prior rather than a wall."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from assistant import NewsAssistant
from assistant.retrieval import Candidate, suppress_duplicates
from tests.test_dedup import OTHERS, WIRE, WIRE_A, WIRE_B, WIRE_C, others, record


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def candidate(chunk: str, article: str, text: str, day: str) -> Candidate:
    key = int(day.replace("-", ""))
    return Candidate(chunk, text, {"article_id": article, "published_key": key,
                                   "source": article.upper()}, 0.5)


def test_near_copies_fold_only_within_the_window() -> None:
    text = WIRE.split("\n\n")[0]
    edited = text.replace("Tuesday", "Wednesday")
    first = candidate("a#0", "a", text, "2024-09-10")
    days_later = candidate("b#0", "b", edited, "2024-09-13")
    year_later = candidate("c#0", "c", edited, "2025-09-10")
    identical_later = candidate("d#0", "d", text, "2025-09-10")
    kept = suppress_duplicates([first, days_later, year_later, identical_later], 0.6,
                               window_days=7)
    assert [c.chunk_id for c in kept] == ["a#0", "c#0"]
    # without a window everything near-identical is one story (the old behaviour)
    assert [c.chunk_id for c in suppress_duplicates(
        [first, days_later, year_later, identical_later], 0.6)] == ["a#0"]
    assert first.published == date(2024, 9, 10)


def test_a_near_copy_a_year_later_is_its_own_story(bot: NewsAssistant, tmp_path: Path) -> None:
    late_near = dict(WIRE_C, published_at="2025-09-11")  # the same text, re-run a year later
    late_exact = dict(WIRE_B, published_at="2025-09-12")  # identical text: still one story
    bot.ingest(write_jsonl(tmp_path / "news.jsonl", [*others(), WIRE_A, late_near, late_exact]))
    hits = bot.search("fish ladder salmon Kestrel Valley dam", k=5)
    ids = [p.article_id for p in hits]
    assert "wire-a" in ids and "wire-c" in ids  # two stories, a year apart
    first = next(p for p in hits if p.article_id == "wire-a")
    assert "Coastal Echo" not in first.also_reported_by
    assert "Inland Herald" in first.also_reported_by  # the exact copy folds at any distance


CDC = record("cdc", "CDC updates measles vaccine guidance", "Health Desk",
             "The Centers for Disease Control and Prevention announced new guidance on measles "
             "vaccination for travellers, recommending a second dose for adults before trips "
             "abroad after a rise in imported cases.", "2024-04-10")


def test_an_empty_relative_span_falls_back_to_the_prior(bot: NewsAssistant,
                                                        tmp_path: Path) -> None:
    # this week's articles are about other things; the CDC story is five weeks old
    fresh = [dict(r, published_at="2024-05-15") for r in others()]
    bot.ingest(write_jsonl(tmp_path / "news.jsonl", [*fresh, CDC]))
    question = "What did the CDC announce this week about measles vaccines?"
    retrieval = bot.retriever.retrieve(question, k=3, as_of="2024-05-17")
    assert retrieval.passages and retrieval.passages[0].article_id == "cdc"
    assert retrieval.scope is None  # the span was dropped, not applied
    # a span that holds something relevant stays a span
    kept = bot.retriever.retrieve("Which tram line opened this week?", k=3,
                                  as_of="2024-05-17")
    assert kept.scope is not None and kept.passages[0].article_id == "other-1"
    assert OTHERS[1][0].startswith("New tram line")
