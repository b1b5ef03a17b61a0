"""Retrieval, extractive answers, citations, abstention and follow-ups over a real index."""

from __future__ import annotations

import pytest

from assistant.followup import is_followup, rewrite_followup


def test_search_ranks_the_right_article_first(loaded_bot):
    hits = loaded_bot.search("How many steel cables did engineers replace on the bridge?", k=5)
    assert hits[0].title == "Harbor Bridge Reopens After Two-Year Repair"
    assert hits == sorted(hits, key=lambda p: p.score, reverse=True)
    assert all(0 <= p.score <= 1 for p in hits)


def test_search_filters_by_source_and_date(loaded_bot):
    hits = loaded_bot.search("news", k=10, filters={"source": "Evening Post"})
    assert {p.source for p in hits} == {"Evening Post"}
    hits = loaded_bot.search("news", k=10, filters={"since": "2024-04-01", "until": "2024-05-31"})
    assert {p.title for p in hits} == {
        "Teenager Wins National Chess Title",
        "City Council Approves Rooftop Solar Grants",
    }
    with pytest.raises(ValueError, match=r"'since'.*not an ISO date"):
        loaded_bot.search("news", filters={"since": "yesterday-ish"})
    with pytest.raises(ValueError, match="unknown filter"):
        loaded_bot.search("news", filters={"outlet": "x"})


def test_per_article_cap(bot, tmp_path):
    long = tmp_path / "long.txt"
    long.write_text(
        "Budget Debate Runs Late\nCapital Times\n"
        + "\n\n".join(
            f"Paragraph {i}: lawmakers argued about the budget deficit, taxes and spending cuts "
            "late into the night while the finance minister defended the plan."
            for i in range(40)
        )
    )
    other = tmp_path / "other.txt"
    other.write_text(
        "Deficit Forecast Revised\nMarket Wire\nEconomists revised the budget "
        "deficit forecast after the vote on taxes and spending.\n"
    )
    third = tmp_path / "third.txt"
    third.write_text("Zoo Welcomes Panda Cubs\nCity Wire\nTwo panda cubs were born at the zoo.\n")
    bot.ingest([long, other, third])
    hits = bot.search("budget deficit taxes spending", k=5)
    per_article = {}
    for p in hits:
        per_article[p.article_id] = per_article.get(p.article_id, 0) + 1
    assert max(per_article.values()) <= bot.settings.max_per_article
    assert "Deficit Forecast Revised" in {p.title for p in hits}


def test_answer_cites_verbatim_quotes_with_offsets(loaded_bot):
    answer = loaded_bot.ask("How much did the Harbor Bridge repair cost?")
    assert not answer.abstained
    assert "84 million" in answer.text
    assert answer.citations
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
        body = loaded_bot.get_article(citation.article_id).body
        assert body[citation.start : citation.end] == citation.quote
        assert citation.quote in answer.text
        assert citation.title and citation.source


def test_unanswerable_question_abstains(loaded_bot):
    answer = loaded_bot.ask("Who won the Formula One race in Monaco?")
    assert answer.abstained
    assert answer.citations == []
    assert "do not answer" in answer.text


def test_empty_index_abstains(bot):
    assert bot.ask("What happened?").abstained


def test_stream_yields_tokens_then_the_answer(loaded_bot):
    events = list(loaded_bot.stream("Who won the national chess championship?"))
    assert events[-1].kind == "answer" and events[-1].answer is not None
    tokens = "".join(e.token for e in events[:-1])
    assert tokens.strip() == events[-1].answer.text
    assert "Okafor" in tokens


def test_followup_rewrite_is_offline_and_carries_the_topic():
    assert is_followup("And what about energy?")
    assert is_followup("What did he say next?")
    assert not is_followup("What did Xi Jinping say about Ukraine?")
    rewritten = rewrite_followup("And what about energy?", ["What did Xi say about Ukraine?"])
    assert "energy" in rewritten and "Xi" in rewritten and "Ukraine" in rewritten
    assert rewrite_followup("Who is Mira Okafor?", ["bridge cost"]) == "Who is Mira Okafor?"


def test_chat_followup_retrieves_the_earlier_story(loaded_bot):
    chat = loaded_bot.chat()
    first = chat.ask("What did Mayor Ines Calder say about the Harbor Bridge?")
    assert first.citations[0].title == "Harbor Bridge Reopens After Two-Year Repair"
    follow = chat.ask("And what about the cycle lane?")
    assert follow.search_query != follow.question
    assert follow.citations[0].title == "Harbor Bridge Reopens After Two-Year Repair"
    assert "cycle lane" in follow.text
    alone = loaded_bot.ask("And what about the cycle lane?")  # no history: nothing to carry
    assert alone.search_query == alone.question
    chat.reset()
    assert chat.history == []


def test_a_sentence_leaning_on_the_one_before_is_quoted_with_it(bot, tmp_path):
    story = tmp_path / "eclipse.txt"
    story.write_text(
        "Eclipse Crosses the Valley\nSky Wire\n"
        "Totality lasted four minutes and nine seconds near the town of Marlow. "
        "That was nearly twice as long as during the previous eclipse seen from the valley.\n"
    )
    for name, text in [("a", "Library Opens New Wing"), ("b", "Harvest Festival Draws Crowds")]:
        (tmp_path / f"{name}.txt").write_text(f"{text}\nTown Wire\n{text} on Saturday.\n")
    bot.ingest([tmp_path])
    answer = bot.ask("How much longer was totality than during the previous eclipse?")
    quote = answer.citations[0].quote
    assert quote.startswith("Totality lasted") and quote.endswith("seen from the valley.")
    body = bot.get_article(answer.citations[0].article_id).body
    assert body[answer.citations[0].start : answer.citations[0].end] == quote
