"""The README's promise: the demo corpus answers the demo question with a verbatim quote."""

from __future__ import annotations

import json

import pytest

from ingest.pipeline import DEMO_CORPUS


@pytest.fixture(scope="module")
def demo_bot(tmp_path_factory, embedder):
    from assistant import NewsAssistant

    bot = NewsAssistant(index=tmp_path_factory.mktemp("demo") / "index", embedder=embedder)
    report = bot.ingest_demo()
    assert report.ok and len(report.added) >= 15
    return bot


def test_demo_corpus_is_varied():
    records = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines()]
    assert 15 <= len(records) <= 30
    assert len({r["source"] for r in records}) >= 4
    assert len({r["published_at"][:7] for r in records}) >= 10


def test_xi_question_is_answered_from_the_visit_article(demo_bot):
    answer = demo_bot.ask("What did Xi say about Ukraine?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "Harbin" in first.title
    body = demo_bot.get_article(first.article_id).body
    assert body[first.start : first.end] == first.quote
    assert "political settlement" in first.quote


def test_followup_about_energy_stays_on_the_visit(demo_bot):
    chat = demo_bot.chat()
    chat.ask("What did Xi say about Ukraine?")
    follow = chat.ask("And what about energy?")
    assert follow.citations[0].article_id == chat.turns[0].citations[0].article_id
    assert "energy" in follow.text


def test_demo_unanswerable_question_abstains(demo_bot):
    assert demo_bot.ask("Who won the 2024 Tour de France?").abstained
