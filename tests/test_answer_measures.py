"""Answer phrases for amounts, shares and measures, and the page furniture no answer quotes:
on fixture articles written for these tests (a sign-up line and a video caption between
paragraphs, the figures in later sentences than the lede)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer_span import (
    SpanEvidence,
    choose_span,
    span_pool,
    typed_question,
    typed_sentences,
)
from assistant.question import analyse_question
from assistant.scorer import NOT_ARTICLE_TEXT, content_words
from assistant.span_rules import is_percentage, only_lasts
from tests.conftest import assert_phrase_first, indexed_fixture

ARTICLES = Path(__file__).parent / "fixtures" / "details" / "measures.jsonl"
SHARES = Path(__file__).parent / "fixtures" / "details" / "shares.jsonl"


@pytest.fixture(scope="module")
def measures_bot(tmp_path_factory, embedder):
    return indexed_fixture(tmp_path_factory, embedder, ARTICLES)


@pytest.fixture(scope="module")
def shares_bot(tmp_path_factory, embedder):
    return indexed_fixture(tmp_path_factory, embedder, SHARES)


@pytest.mark.parametrize(("bot", "question", "phrase"), [
    # the lede holds no speed or distance: the phrase comes from the sentence that does
    ("measures_bot", "How fast is Aurora travelling?", "about 160,000 kilometres"),
    ("measures_bot", "How close will Aurora come to the Sun?", "6.9 million kilometres"),
    ("measures_bot", "How thick is the heat shield?", "11 centimetres"),
    # spaCy leaves "euros" out of "1.5 billion": the unit is part of the amount
    ("measures_bot", "How much did the mission cost?", "1.5 billion euros"),
    # spaCy finds no entity in "more than 900 engineers"; the number that counts the noun
    # asked about wins over "14 countries" and the money
    ("measures_bot", "How many engineers work on the mission?", "more than 900"),
    # "What share / percentage / price ...?" asks for an amount and nothing else: not the
    # lede's "Dockworkers" (and British "per cent" is a percentage)
    ("shares_bot", "What share of members backed the contract?", "64 per cent"),
    ("shares_bot", "What proportion of the union's members backed the agreement?",
     "64 per cent"),
    ("shares_bot", "What percentage of members voted for the deal?", "64 per cent"),
    ("shares_bot", "What is the price of a day pass to the harbour museum?", "12 dollars"),
])
def test_the_answer_phrase_is_the_amount_asked_for(request, bot: str, question: str,
                                                   phrase: str):
    assert_phrase_first(request.getfixturevalue(bot).ask(question), phrase)


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


@pytest.mark.parametrize(("question", "typed"), [
    ("What share of voters backed the plan?", True),
    ("What was the price of the ticket?", True),
    ("When did the strike end?", True),
    ("How many ships are waiting?", True),
    ("Which company builds the turbines?", False),
    ("What did the union say?", False),
    ("Who leads the union?", False),
])
def test_a_question_that_asks_only_for_an_amount_is_typed(question: str, typed: bool):
    assert typed_question(analyse_question(question)) is typed


WIND_FARM = [
    "The government approved a 1.4-gigawatt wind farm off Kestrel Point on Wednesday.",
    "The project will have 95 turbines and will cost 2 billion euros.",
]


@pytest.mark.parametrize(("question", "sentences", "phrase"), [
    # the only figures measure power, a count and money: no height, so no phrase
    ("How tall will the turbines be?", WIND_FARM, None),
    ("How tall will the turbines be?", ["The developer offered half that amount."], None),
    ("How tall will the turbines be?", [*WIND_FARM, "Each turbine will stand 260 metres tall."],
     "260 metres"),
    ("How heavy was the calf at birth?",
     ["The calf, born 14 metres from the fence, weighed about 55 kilograms."],
     "about 55 kilograms"),
    ("How hot will the shield get?",
     ["The 11-centimetre shield will face about 1,400 degrees Celsius."],
     "about 1,400 degrees Celsius"),
    ("How fast is the comet moving?",
     ["The comet, 30 times brighter than last year, moves at 35 miles per hour."],
     "35 miles per hour"),
])
def test_a_measure_has_the_dimension_asked_for(question: str, sentences: list[str],
                                                phrase: str | None):
    analysis = analyse_question(question)
    found = choose_span(analysis, SpanEvidence(sentences, [1.0] * len(sentences)),
                        content_words(question))
    assert (found[0].text if found else None) == phrase


@pytest.mark.parametrize(("question", "dimension"), [
    ("How tall is the tower?", "length"), ("How far did the comet travel?", "length"),
    ("How heavy is the new rover?", "mass"), ("How fast is the probe travelling?", "speed"),
    ("How cold did it get overnight?", "temperature"),
    ("How much did the tower cost?", None), ("How long did the strike last?", None),
    ("How high is inflation?", None), ("How big was the loss?", None),
])
def test_the_dimension_a_question_measures(question: str, dimension: str | None):
    assert analyse_question(question).dimension == dimension


@pytest.mark.parametrize(("text", "share"), [
    ("about 56 per cent", True), ("9.1%", True), ("34 percent", True), ("64 per cent", True),
    ("270", False), ("half a percentage point", False), ("12 dollars", False),
])
def test_a_percentage_whatever_its_label(text: str, share: bool):
    assert is_percentage(text) is share


@pytest.mark.parametrize(("sentence", "phrase", "lasts"), [
    ("Covid has shaped the past two years.", "the past two years", True),
    ("The strike lasted 11 days.", "11 days", True),
    ("The bridge reopened three years after engineers closed it.", "three years", True),
    # a point in time, said by how far away it is
    ("It will be ready in two years.", "two years", False),
    ("The plant closed two weeks ago.", "two weeks", False),
    ("It opens next week.", "next week", False),
    ("The bridge was built in 1968.", "1968", False),
])
def test_a_when_is_never_answered_by_how_long(sentence: str, phrase: str, lasts: bool):
    start = sentence.index(phrase)
    assert only_lasts(sentence, start, start + len(phrase)) is lasts


def test_when_gets_the_date_not_the_duration():
    question = "When will the booster shot be available?"
    sentences = ["Covid shots have been free for the past two years.",
                 "The new booster will be available from mid-September, officials said."]
    found = choose_span(analyse_question(question), SpanEvidence(sentences, [1.0, 0.9]),
                        content_words(question))
    assert found is not None and found[0].text == "mid-September"
