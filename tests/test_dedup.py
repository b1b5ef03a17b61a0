"""Syndicated copies: found at ingest, embedded once, answered once with every outlet named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import NewsAssistant
from ingest.dedup import NEAR_JACCARD, body_key, similarity

WIRE = (
    "The Kestrel Valley dam opened its new fish ladder on Tuesday, the first time in ninety "
    "years that salmon can swim past the wall to their old spawning grounds upstream.\n\n"
    "Engineers built the ladder as a staircase of forty-two concrete pools, each one step "
    "higher than the last, so that fish can rest between jumps. Cameras in the top pool count "
    "every fish that reaches the reservoir, and the first salmon was filmed there within three "
    "hours of the gates opening.\n\n"
    "The project cost 38 million euros and took four years. The regional water authority paid "
    "for most of it, with the rest from a European river restoration fund.\n\n"
    "Anglers' groups, who campaigned for the ladder for two decades, said they expected the "
    "salmon run to recover within ten years. Biologists will tag two hundred young fish this "
    "autumn to follow their journey to the sea."
)
OTHERS = [
    ("Harvest festival draws record crowds",
     "The autumn harvest festival in Orrin drew a record forty thousand visitors this weekend. "
     "Stalls sold cider, pies and smoked cheese, and the tractor parade ran for two hours."),
    ("New tram line opens in Sallow",
     "Sallow's first tram line opened on Monday, linking the railway station with the hospital "
     "and the university. Trams run every six minutes at peak times."),
    ("Library lends out telescopes",
     "The public library of Brenmoor now lends telescopes for two weeks at a time. The first "
     "twelve were booked within a day, and a waiting list has already formed."),
    # the same topic as the wire story, but another text: must stay its own story
    ("Kestrel Valley anglers count their first salmon",
     "Members of the Kestrel Valley angling club spent the weekend on the riverbank below the "
     "dam, where they counted eleven salmon waiting in the pool at the foot of the new ladder. "
     "The club's secretary said it was the best start to a season she could remember."),
]
QUESTION = "How many pools does the new fish ladder at the Kestrel Valley dam have?"


def record(article_id: str, title: str, source: str, body: str, day: str) -> dict[str, str]:
    return {"id": article_id, "title": title, "source": source, "body": body,
            "url": f"https://example.org/{article_id}", "published_at": day}


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def others() -> list[dict[str, str]]:
    return [record(f"other-{i}", t, "Sallow Standard", b, "2024-09-0" + str(i + 1))
            for i, (t, b) in enumerate(OTHERS)]


WIRE_A = record("wire-a", "Salmon return as dam fish ladder opens", "Harbour Gazette", WIRE,
                "2024-09-10")
# the same wire text, reflowed and re-cased by the second outlet's system: an exact copy
WIRE_B = record("wire-b", "Fish ladder opens at Kestrel Valley dam", "Inland Herald",
                WIRE.replace("Tuesday,", "TUESDAY ,").replace(". ", ".  "), "2024-09-10")
# the wire text plus the outlet's own last paragraph: a near copy
WIRE_C = record("wire-c", "Salmon return as dam fish ladder opens", "Coastal Echo",
                WIRE + "\n\nThis report was distributed by the Northgate news agency.",
                "2024-09-11")


def metadata(bot: NewsAssistant, article_id: str) -> dict:
    got = bot.store.articles.get(ids=[article_id], include=["metadatas"])
    return got["metadatas"][0]


def passage_ids(bot: NewsAssistant, article_id: str) -> list[str]:
    return bot.store.passages.get(where={"article_id": article_id})["ids"]


def test_body_key_ignores_case_spacing_and_punctuation() -> None:
    assert body_key(WIRE) == body_key(WIRE_B["body"])
    assert body_key(WIRE) != body_key(WIRE_C["body"])


def test_minhash_tells_near_copies_from_stories_on_the_same_topic() -> None:
    assert similarity(WIRE, WIRE_C["body"]) >= 0.9
    assert similarity(WIRE, OTHERS[3][1]) < NEAR_JACCARD
    assert similarity(WIRE, OTHERS[0][1]) < 0.1


def check_grouped(bot: NewsAssistant) -> None:
    """wire-b is an exact copy of wire-a, wire-c a near copy: one group, one embedding set."""
    a, b, c = (metadata(bot, i) for i in ("wire-a", "wire-b", "wire-c"))
    assert a["group_id"] == b["group_id"] == c["group_id"] == "wire-a"
    assert (a["duplicate_of"], b["duplicate_of"], c["duplicate_of"]) == ("", "wire-a", "")
    # the exact copy keeps its own record and text, but has no passages of its own
    assert b["n_chunks"] == 0 and passage_ids(bot, "wire-b") == []
    assert "TUESDAY ," in bot.get_article("wire-b").body
    assert a["n_chunks"] == len(passage_ids(bot, "wire-a")) > 0
    chunks = bot.store.passages.get(where={"article_id": "wire-c"}, include=["metadatas"])
    assert chunks["ids"] and {m["group_id"] for m in chunks["metadatas"]} == {"wire-a"}
    assert metadata(bot, "other-3")["group_id"] == "other-3"  # same topic, other story


def check_answer_names_all_outlets(bot: NewsAssistant) -> None:
    answer = bot.ask(QUESTION, as_of="2024-09-12")
    assert not answer.abstained and "ladder" in answer.text
    wire_ids = {"wire-a", "wire-b", "wire-c"}
    cited = {c.article_id for c in answer.citations if c.article_id in wire_ids}
    assert len(cited) == 1  # cites one copy ...
    citation = next(c for c in answer.citations if c.article_id in wire_ids)
    # ... and names the other outlets that carried it
    assert {citation.source, *citation.also_reported_by} == {
        "Harbour Gazette", "Inland Herald", "Coastal Echo"}
    assert citation.source not in citation.also_reported_by
    # one copy of the story among the passages the answer was built from, and in search
    assert len({p.article_id for p in answer.passages if p.article_id in wire_ids}) == 1
    hits = bot.search("fish ladder salmon Kestrel Valley dam", k=5)
    assert len({p.article_id for p in hits if p.article_id in wire_ids}) == 1
    assert len(hits) == 5  # topped up to k after folding the copies


def test_copies_in_one_run_form_one_group(bot: NewsAssistant, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "news.jsonl", [*others(), WIRE_A, WIRE_B, WIRE_C])
    report = bot.ingest(source)
    assert report.ok and len(report.added) == 7
    assert sorted(report.syndicated) == ["wire-b", "wire-c"]
    check_grouped(bot)
    check_answer_names_all_outlets(bot)

    again = bot.ingest(source)
    assert (len(again.added), len(again.unchanged), again.chunks_written) == (0, 7, 0)


def test_copies_arriving_later_join_the_indexed_story(bot: NewsAssistant, tmp_path: Path) -> None:
    bot.ingest(write_jsonl(tmp_path / "first.jsonl", [*others(), WIRE_A]))
    passages_before = bot.store.passages.count()
    report = bot.ingest(write_jsonl(tmp_path / "later.jsonl", [WIRE_B, WIRE_C]))
    assert sorted(report.syndicated) == ["wire-b", "wire-c"]
    # only the near copy was embedded
    assert bot.store.passages.count() == passages_before + len(passage_ids(bot, "wire-c"))
    check_grouped(bot)
    check_answer_names_all_outlets(bot)


def test_an_article_that_becomes_a_copy_loses_its_own_passages(
    bot: NewsAssistant, tmp_path: Path
) -> None:
    draft = dict(WIRE_B, body="An early draft: the fish ladder at the dam will open soon.")
    bot.ingest(write_jsonl(tmp_path / "draft.jsonl", [*others(), WIRE_A, draft]))
    assert passage_ids(bot, "wire-b")
    report = bot.ingest(write_jsonl(tmp_path / "final.jsonl", [WIRE_B]))
    assert report.updated == ["wire-b"] and report.syndicated == ["wire-b"]
    assert passage_ids(bot, "wire-b") == []
    assert bot.store.lexical.search("early draft", 5) == []


def test_demo_wire_pair_is_one_story(bot: NewsAssistant) -> None:
    bot.ingest_demo()
    assert metadata(bot, "demo-012")["group_id"] == metadata(bot, "demo-011")["group_id"]
    answer = bot.ask("Where was totality longest during the April 2024 solar eclipse?",
                     as_of="2024-04-10")
    eclipse = [c for c in answer.citations if c.article_id in ("demo-011", "demo-012")]
    assert eclipse, answer.citations
    assert {eclipse[0].source, *eclipse[0].also_reported_by} == {"Lantern Courier",
                                                                 "Meridian Post"}
    assert len({p.article_id for p in answer.passages
                if p.article_id in ("demo-011", "demo-012")}) == 1
    # folding the copies lost none of the story: the passage with the answer is there
    assert any("Torreon" in p.text for p in answer.passages)


@pytest.mark.parametrize("order", [["wire-b", "wire-a"], ["wire-a", "wire-b"]])
def test_the_first_copy_ingested_carries_the_passages(
    bot: NewsAssistant, tmp_path: Path, order: list[str]
) -> None:
    by_id = {"wire-a": WIRE_A, "wire-b": WIRE_B}
    bot.ingest(write_jsonl(tmp_path / "news.jsonl", [*others(), *(by_id[i] for i in order)]))
    first, second = order
    assert metadata(bot, second)["duplicate_of"] == first
    assert passage_ids(bot, second) == [] and passage_ids(bot, first)
