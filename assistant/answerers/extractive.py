"""The extractive answerer: the best-scored sentences of the passages, each cited. Never
invents text; instant; always available; the fallback of the other answerers."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answerers.base import AnswerRequest
from assistant.composition import compose_extractive
from assistant.config import Settings
from assistant.results import Answer, StreamEvent


class ExtractiveAnswerer:
    name = "extractive"
    mode = "extractive"
    description = "offline extractive (quotes sentences from the articles)"
    generative = False

    def __init__(self, settings: Settings) -> None:
        self.sentences = settings.answer_sentences

    def compose(self, request: AnswerRequest) -> Answer:
        """The answer at once (what the LLM answerer falls back to)."""
        composed = compose_extractive(request.analysis, list(request.sentences),
                                      list(request.passages), self.sentences, request.question)
        return Answer(question=request.question, text=composed.text,
                      citations=composed.citations, passages=list(request.passages),
                      mode=self.mode, search_query=request.search_query,
                      question_kind=getattr(request.analysis, "kind", ""),
                      answer_span=composed.answer_span)

    def answer(self, request: AnswerRequest) -> Iterator[StreamEvent]:
        answer = self.compose(request)
        for piece in answer.text.split(" "):
            yield StreamEvent("token", token=piece + " ")
        yield StreamEvent("answer", answer=answer)
