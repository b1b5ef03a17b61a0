"""Answer phrases for amounts and measures, and the page furniture no answer quotes: on a
fixture article written for these tests (a sign-up line and a video caption between its
paragraphs, the figures in later sentences than the lede)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer_span import SpanEvidence, span_pool, typed_sentences
from assistant.question import analyse_question
from assistant.scorer import NOT_ARTICLE_TEXT, content_words
from tests.conftest import assert_phrase_first, indexed_fixture

ARTICLES = Path(__file__).parent / "fixtures" / "details" / "measures.jsonl"


@pytest.fixture(scope="module")
def measures_bot(tmp_path_factory, embedder):
    return indexed_fixture(tmp_path_factory, embedder, ARTICLES)


@pytest.mark.parametrize(("question", "phrase"), [
    # the lede holds no speed or distance: the phrase comes from the sentence that does
    ("How fast is Aurora travelling?", "about 160,000 kilometres"),
    ("How close will Aurora come to the Sun?", "6.9 million kilometres"),
    ("How thick is the heat shield?", "11 centimetres"),
    # spaCy leaves "euros" out of "1.5 billion": the unit is part of the amount
    ("How much did the mission cost?", "1.5 billion euros"),
    # spaCy finds no entity in "more than 900 engineers"; the number that counts the noun
    # asked about wins over "14 countries" and the money
    ("How many engineers work on the mission?", "more than 900"),
])
def test_the_answer_phrase_is_the_measure_asked_for(measures_bot, question: str, phrase: str):
    assert_phrase_first(measures_bot.ask(question), phrase)


@pytest.mark.parametrize("question", [
    "How fast is Aurora travelling?", "What newsletter does the Space Desk send?",
    "Where was Aurora launched?", "How much did the mission cost?",
])
def test_sign_up_lines_and_video_captions_are_never_quoted(measures_bot, question: str):
    answer = measures_bot.ask(question)
    assert answer.abstained or answer.citations
    for citation in answer.citations:
        assert "Sign up" not in citation.quote and "Ad Feedback" not in citation.quote


@pytest.mark.parametrize(("text", "furniture"), [
    ("Get CNN Health's weekly newsletter Sign up here to get The Results Are In.", True),
    ("Sign up for CNN’s Wonder Theory science newsletter.", True),
    ("Video Ad Feedback Former FBI official shares what struck him 03:10", True),
    ("– CNN’s Allie Malloy contributed to this report.", True),
    ("Editor’s Note: For more on the fires, watch the show on Sunday.", True),
    ("Borrowers can sign up for updates on when the application is open.", False),
    ("Netflix lost 200,000 subscribers in the first quarter.", False),
    ("She confirmed the wedding in her newsletter on Sunday.", False),
])
def test_page_furniture(text: str, furniture: bool):
    assert bool(NOT_ARTICLE_TEXT.search(text)) is furniture


def _spans(question: str, sentence: str) -> list[str]:
    candidates, _ = span_pool(analyse_question(question), SpanEvidence([sentence], [1.0]),
                              content_words(question))
    return [c.text for c in candidates]


def test_a_figure_the_question_gives_is_no_answer():
    spans = _spans("When could vaccines be available for children as young as 6 months?",
                   "Vaccines for children as young as 6 months could be available next week.")
    assert "next week" in spans
    assert not any("6 months" in s for s in spans)


def test_a_count_without_a_figure_is_no_answer():
    # spaCy: "a little more than" CARDINAL, of "a little more than three hours"
    spans = _spans("How many minutes did it last?",
                   "It lasted for a little more than three hours, on Thursday.")
    assert "a little more than" not in spans and "Thursday" not in spans


def test_a_share_keeps_its_per_cent():
    # spaCy: "only about 34" CARDINAL, and "about 60 per cent" MONEY
    spans = _spans("What was Labour's vote share?",
                   "Labour's vote share was only about 34 per cent, and turnout was low.")
    assert "only about 34 per cent" in spans


def test_how_much_is_not_a_count_of_people():
    spans = _spans("How much loan forgiveness will borrowers receive?",
                   "Nearly 8 million borrowers may receive up to $20,000 in forgiveness.")
    assert spans == ["up to $20,000"] or spans == ["$20,000"], spans


def test_typed_sentences_are_the_ones_holding_the_kind_asked_for():
    sentences = ["The probe swung past Venus.", "It was the third flyby.",
                 "It travels at 160,000 kilometres an hour.", "It reached 50 km/h in 2024."]
    analysis = analyse_question("How fast is the probe travelling?")
    words = content_words("How fast is the probe travelling?")
    assert typed_sentences(analysis, sentences, None, words, limit=1) == [2]
    assert typed_sentences(analyse_question("Who built the probe?"), sentences, None,
                           words) == []


def test_an_age_is_no_date_and_a_duration_modifier_no_time():
    # spaCy tags "44" of "Reyes, 44," DATE, and "four-day" of "a four-day week" DATE
    spans = _spans("When will the trial begin?",
                   "Reyes, 44, said staff would work a four-day week from April 1.")
    assert "April 1" in spans
    assert "44" not in spans and not any("four-day" in s for s in spans)
