"""Relative dates resolved against a fixed as_of, and time-aware retrieval over a real index."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.retrieval import recency_bonus
from assistant.timewords import parse_as_of, resolve_time_expression

AS_OF = date(2024, 5, 17)  # a Friday


@pytest.mark.parametrize(("text", "since", "until"), [
    ("Who resigned yesterday?", "2024-05-16", "2024-05-16"),
    ("What happened today in Lisvik?", "2024-05-17", "2024-05-17"),
    ("Which bill passed this week?", "2024-05-11", "2024-05-17"),
    ("What did the mayor say in the past week?", "2024-05-11", "2024-05-17"),
    ("Who won last week's vote?", "2024-05-06", "2024-05-12"),
    ("Which storm hit last weekend?", "2024-05-11", "2024-05-12"),
    ("What rose this month?", "2024-05-01", "2024-05-17"),
    ("Who was elected last month?", "2024-04-01", "2024-04-30"),
    ("What changed this year?", "2024-01-01", "2024-05-17"),
    ("Who won last year?", "2023-01-01", "2023-12-31"),
    ("What was announced in March?", "2024-03-01", "2024-03-31"),
    ("What was announced in June?", "2023-06-01", "2023-06-30"),  # June 2024 is still ahead
    ("the deal signed in March 2021", "2021-03-01", "2021-03-31"),
    ("What happened 3 days ago?", "2024-05-13", "2024-05-15"),
    ("prices over the past two weeks", "2024-05-03", "2024-05-17"),
    ("What did he say on Monday?", "2024-05-13", "2024-05-13"),
    ("the match last Friday", "2024-05-10", "2024-05-10"),
    ("results in 2022", "2022-01-01", "2022-12-31"),
])
def test_relative_expressions_resolve_against_as_of(text, since, until):
    scope = resolve_time_expression(text, AS_OF)
    assert scope is not None, text
    assert (scope.since.isoformat(), scope.until.isoformat()) == (since, until)


@pytest.mark.parametrize("text", [
    "What did Xi say about Ukraine?", "Black Friday sales rose", "What may happen next?",
    "How recently did it rain?", "Who will win in 2030?"])
def test_no_expression_no_scope(text):
    assert resolve_time_expression(text, AS_OF) is None


def test_as_of_parsing():
    assert parse_as_of("2024-05-17") == AS_OF
    assert parse_as_of("2024-05-17T23:10:00Z") == AS_OF
    assert parse_as_of(None) == date.today()
    with pytest.raises(ValueError, match="as_of"):
        parse_as_of("last Tuesday")


def test_recency_bonus_decays_and_ignores_undated():
    assert recency_bonus(AS_OF, AS_OF, 0.5, 14) == pytest.approx(0.5)
    assert recency_bonus(date(2024, 5, 3), AS_OF, 0.5, 14) == pytest.approx(0.5 * 2.718281828 ** -1)
    assert recency_bonus(date(2020, 1, 1), AS_OF, 0.5, 14) < 1e-9
    assert recency_bonus(None, AS_OF, 0.5, 14) == 0.0


STORIES = [  # the same recurring story in three weeks, plus an unrelated one
    ("wk-jan", "2024-01-12", "Flood defences fail in Lisvik", "River levels in Lisvik rose "
     "and the flood defences failed, the council said, forcing 200 families to leave."),
    ("wk-mar", "2024-03-08", "Lisvik floods again", "River levels in Lisvik rose again and "
     "the flood defences failed, the council said, as 450 families left their homes."),
    ("wk-may", "2024-05-16", "Lisvik flood defences fail a third time", "River levels in "
     "Lisvik rose and the flood defences failed once more; the council said 900 families left."),
    ("wk-chess", "2024-05-15", "Chess final ends in a draw", "The national chess final ended "
     "in a draw after six hours."),
] + [  # unrelated filler, so that score normalisation sees a realistic spread of candidates
    (f"wk-filler-{i}", f"2024-0{1 + i % 5}-1{i}", f"{topic} update", f"The {topic} committee "
     f"met on day {i} and published its report.")
    for i, topic in enumerate(["rail", "museum", "wheat", "tennis", "budget", "school",
                               "harbour", "library"])
]


@pytest.fixture
def dated_bot(bot, tmp_path: Path):
    path = tmp_path / "stories.jsonl"
    path.write_text("".join(json.dumps({"id": i, "published_at": d, "title": t, "body": b,
                                        "source": "River Post"}) + "\n"
                            for i, d, t, b in STORIES))
    assert bot.ingest([path]).ok
    return bot


def test_as_of_prefers_the_story_of_that_time(dated_bot):
    question = "How many families left when the Lisvik flood defences failed?"
    assert dated_bot.search(question, k=1, as_of="2024-05-17")[0].article_id == "wk-may"
    assert dated_bot.search(question, k=1, as_of="2024-03-09")[0].article_id == "wk-mar"
    assert dated_bot.search(question, k=1, as_of="2024-01-20")[0].article_id == "wk-jan"


def test_as_of_leaves_out_later_articles(dated_bot):
    hits = dated_bot.search("Lisvik flood defences", k=10, as_of="2024-03-09")
    assert {"wk-jan", "wk-mar"} <= {p.article_id for p in hits}
    assert all(p.published_at <= "2024-03-10" for p in hits)


def test_relative_expression_sets_the_earliest_date(dated_bot):
    hits = dated_bot.search("Lisvik flood defences failed this week", k=10, as_of="2024-05-17")
    assert all(p.published_at >= "2024-05-09" for p in hits)  # 7 days + 2 days of slack
    assert hits[0].article_id == "wk-may"
    retrieval = dated_bot.retriever.retrieve("floods in March", k=5, as_of="2024-05-17")
    assert retrieval.scope is not None and retrieval.scope.phrase == "in march"
    assert {"wk-mar", "wk-may"} <= {p.article_id for p in retrieval.passages}
    assert all(p.published_at >= "2024-02-28" for p in retrieval.passages)


def test_explicit_filters_win_over_expressions(dated_bot):
    hits = dated_bot.search("Lisvik flood defences failed this week", k=10, as_of="2024-05-17",
                            filters={"since": "2024-01-01", "until": "2024-01-31"})
    assert hits[0].article_id == "wk-jan"
    assert all("2024-01-01" <= p.published_at <= "2024-01-31" for p in hits)


def test_expression_with_nothing_in_its_span_is_ignored(dated_bot):
    # asked "today" (no as_of): this week's span holds nothing of a 2024 index
    hits = dated_bot.search("Lisvik flood defences failed this week", k=3)
    assert hits and hits[0].article_id.startswith("wk-")


def test_abstention_signal_uses_the_look_back_window(dated_bot):
    question = "How many families left when the Lisvik flood defences failed?"
    retriever = dated_bot.retriever
    in_window = retriever.retrieve(question, k=5, as_of="2024-05-17").relevance
    stale = retriever.retrieve(question, k=5, as_of="2024-04-20").relevance  # March is weeks old
    timeless = retriever.retrieve(question, k=5).relevance
    assert in_window > 0.5 and timeless > 0.5
    assert stale < in_window - 0.2
    answer = dated_bot.ask(question, as_of="2024-04-20")
    assert answer.abstained
    assert not dated_bot.ask(question, as_of="2024-05-17").abstained
