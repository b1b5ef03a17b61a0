"""The answer seam: a new answerer is one class plus one registration line; pipeline steps
run alone; errors are typed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from assistant import pipeline as steps
from assistant.answerers import ANSWERERS, AnswerRequest, choose_answerer, selectable_modes
from assistant.config import Settings
from assistant.errors import (
    IndexOpenError,
    IngestError,
    InvalidRequest,
    LLMError,
    NewsAssistantError,
    SourceError,
    exit_code,
)
from assistant.results import Answer, Citation, Passage, StreamEvent
from assistant.retrieval import Filters, Retrieval

BRIDGE = "How much did the Harbor Bridge repair cost?"


class ShoutingAnswerer:  # test-only: quotes the best sentence in capitals, cited
    name = "shouting"
    description = "the best sentence, shouted"

    def answer(self, request: AnswerRequest) -> Iterator[StreamEvent]:
        best = request.sentences[0]
        passage = request.passages[best.passage_rank]
        yield StreamEvent("token", token=best.text.upper())
        citation = Citation(1, passage.article_id, passage.title, passage.source, passage.url,
                            passage.published_at, best.text, best.start, best.end)
        yield StreamEvent("answer", answer=Answer(
            question=request.question, text=f"{best.text.upper()} [1]", citations=[citation],
            passages=request.passages, mode=self.name, search_query=request.search_query))


def test_a_registered_answerer_answers_through_ask_and_stream(
    loaded_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ANSWERERS, "shouting", lambda settings, services: ShoutingAnswerer())
    from assistant import NewsAssistant

    bot = NewsAssistant(settings=loaded_bot.settings.with_(llm="shouting"),
                        embedder=loaded_bot.embedder)
    events = list(bot.stream(BRIDGE))
    tokens = [e.token for e in events if e.kind == "token"]
    answer = events[-1].answer
    assert answer is not None and answer.mode == "shouting" == bot.answer_mode
    assert tokens == [answer.text.removesuffix(" [1]")] and answer.text.isupper()
    assert "84 MILLION" in answer.text and answer.citations[0].article_id
    assert bot.ask(BRIDGE).text == answer.text
    assert loaded_bot.ask(BRIDGE).mode == "extractive"  # the registry changed no other bot
    # the UI and the CLI learn of it from the registry, not from a list of mode names
    assert bot.stats()["answer_description"] == "the best sentence, shouted"
    assert "shouting" in selectable_modes() and "statements" not in selectable_modes()
    assert loaded_bot.stats()["answer_description"].startswith("offline extractive")


def test_unknown_answer_mode_is_an_invalid_request(tmp_path) -> None:
    from assistant import NewsAssistant

    with pytest.raises(InvalidRequest, match="llm must be one of extractive, local, openai"):
        NewsAssistant(index=tmp_path / "i", llm="nonsense")
    with pytest.raises(InvalidRequest, match="needs a model name"):
        NewsAssistant(index=tmp_path / "i", llm="openai")


@dataclass(frozen=True)
class Analysis:
    kind: str


def test_choose_answerer_routes_who_said_what_when_a_statements_answerer_exists() -> None:
    settings = Settings(llm="extractive")
    default, statements = ShoutingAnswerer(), ShoutingAnswerer()
    both = {"extractive": default, "statements": statements}
    assert choose_answerer(settings, Analysis("who_said_what"), both) is statements
    assert choose_answerer(settings, Analysis("when"), both) is default
    assert choose_answerer(settings, None, both) is default
    assert choose_answerer(settings, Analysis("who_said_what"), {"extractive": default}) is default


def test_steps_run_alone() -> None:
    settings = Settings(llm="extractive")
    weak = Retrieval(passages=[], relevance=settings.min_relevance - 0.01)
    strong = Retrieval(passages=[], relevance=0.9)
    sentence = SimpleNamespace(similarity=0.9, passage_rank=0)
    assert steps.decide_abstention(strong, [], settings)  # nothing to quote
    assert steps.decide_abstention(weak, [sentence], settings)  # type: ignore[list-item]
    assert not steps.decide_abstention(strong, [sentence], settings)  # type: ignore[list-item]
    asked = []
    rewritten = steps.rewrite_question(
        "And what about the cycle lane?", history=[("q", "a")],
        previous_queries=["Harbor Bridge repair"],
        condense=lambda q, h, fallback: asked.append(fallback) or "standalone")
    assert rewritten == "standalone" and "Harbor" in asked[0]
    assert steps.rewrite_question("Who won?", history=[], previous_queries=[],
                                  condense=None) == "Who won?"


def test_check_citations_drops_a_quote_that_is_not_verbatim() -> None:
    body = "The repair cost $4 million. It took a year."
    good = Citation(1, "a", "t", "s", "", "", "The repair cost $4 million.", 0, 27)
    bad = Citation(2, "a", "t", "s", "", "", "It took two years.", 28, 46)
    answer = Answer("q", "The repair cost $4 million. [1] It took two years. [2]",
                    citations=[good, bad])
    checked = steps.check_answer_citations(answer, lambda ids: {"a": body})
    assert checked.citations == [good] and checked.text.endswith("two years.")
    assert "[2]" not in checked.text and answer.citations == [good, bad]  # not mutated
    assert steps.check_answer_citations(checked, lambda ids: {"a": body}) == checked


def test_check_citations_reads_bodies_only_for_quotes_outside_the_passages() -> None:
    body = "Intro line. The repair cost $4 million. It took a year."
    passage = Passage(chunk_id="a#0", article_id="a", title="t", source="s", url="",
                      published_at="", text=body[12:], start=12, end=len(body), score=1.0)
    good = Citation(1, "a", "t", "s", "", "", "The repair cost $4 million.", 12, 39,
                    chunk_id="a#0")
    outside = Citation(2, "a", "t", "s", "", "", "Intro line.", 0, 11, chunk_id="a#0")
    forged = Citation(3, "a", "t", "s", "", "", "It took a yeah.", 40, 55, chunk_id="a#0")
    read: list[list[str]] = []

    def bodies(ids: list[str]) -> dict[str, str]:
        read.append(ids)
        return {"a": body}

    answer = Answer("q", "x [1]", passages=[passage], citations=[good])
    assert steps.check_answer_citations(answer, bodies) == answer and read == []
    both = Answer("q", "x [1] y [2] z [3]", passages=[passage],
                  citations=[good, outside, forged])
    checked = steps.check_answer_citations(both, bodies)
    assert read == [["a"]]  # for the quote before the passage, and the forged one
    assert [c.n for c in checked.citations] == [1, 2] and "[3]" not in checked.text


def test_errors_share_one_base_and_map_to_exit_codes() -> None:
    for error in (IngestError("x.csv:3", "no body"), SourceError("http://x", "404"),
                  IndexOpenError("bad"), LLMError("down", "unreachable"), InvalidRequest("no")):
        assert isinstance(error, NewsAssistantError)
    assert isinstance(InvalidRequest("x"), ValueError)  # what callers caught before
    codes = [exit_code(e) for e in (InvalidRequest("x"), IngestError("f", "r"),
                                    IndexOpenError("x"), LLMError("x", "timeout"),
                                    NewsAssistantError("x"), ValueError("x"), KeyError("x"))]
    assert codes == [2, 3, 4, 5, 1, 2, 1]


def test_the_api_refuses_bad_requests(bot) -> None:
    with pytest.raises(InvalidRequest, match="question is empty"):
        bot.ask("   ")
    with pytest.raises(InvalidRequest, match="Since is after Until"):
        bot.search("news", filters={"since": "2024-05-01", "until": "2024-01-01"})
    with pytest.raises(InvalidRequest, match="unknown filter"):
        Filters.from_mapping({"outlet": "x"})


def test_the_answer_phrase_leads_and_the_models_markers_follow_it() -> None:
    from assistant.phrase_first import after_lead, answer_lead

    spain = Citation(2, "a", "t", "s", "", "", "Spain beat England 1-0 in the final.", 100, 136)
    other = Citation(1, "b", "t", "s", "", "", "It was the ninth Women's World Cup.", 10, 45)
    extractive = Answer("Who won?", "**Spain** [2]\n\n...", citations=[other, spain],
                        answer_span={"n": 2, "start": 100, "end": 105, "text": "Spain"})
    lead = answer_lead(extractive)
    assert lead is not None and lead.text == "**Spain** [1]\n\n"
    assert lead.citation == Citation(1, "a", "t", "s", "", "", spain.quote, 100, 136)
    assert lead.span == {"n": 1, "start": 100, "end": 105, "text": "Spain"}
    # the model cited the final's sentence as [2] and another as [1]: renumbered after [1]
    model = [Citation(1, "b", "t", "s", "", "", other.quote, 10, 45),
             Citation(2, "a", "t", "s", "", "", spain.quote, 100, 136)]
    text, citations = after_lead(lead, "It was the ninth. [1] Spain won. [2] Both. [1, 2]",
                                 model)
    assert text == "**Spain** [1]\n\nIt was the ninth. [2] Spain won. [1] Both. [1, 2]"
    assert [(c.n, c.article_id) for c in citations] == [(1, "a"), (2, "b")]
    assert answer_lead(Answer("q", "no span", citations=[other])) is None


def test_the_answer_phrase_first_is_a_setting() -> None:
    assert Settings.from_env(env={}).answer_phrase_first
    for off in ("0", "false", "no", "off"):
        assert not Settings.from_env(env={"NEWS_ASSISTANT_PHRASE_FIRST": off}).answer_phrase_first
    assert Settings.from_env(env={"NEWS_ASSISTANT_PHRASE_FIRST": "1"}).answer_phrase_first
