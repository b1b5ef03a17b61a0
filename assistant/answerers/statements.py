"""The statements answerer: "What did X say about Y?" answered from X's statements on Y.

Routed here for questions of kind ``who_said_what``. With statements found, the answer lists
them, each cited with its verbatim text as the quote (extractive mode), or a generating
answerer (``local``/``openai``) writes the answer over those statements as its passages. When
X is quoted only on other topics, or only mentioned, or absent, the answer says which and
abstains. A question that is not of this kind after all goes to the default answerer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from assistant.answerers.base import Answerer, AnswerRequest
from assistant.extractive import score_sentences
from assistant.results import StreamEvent
from assistant.speech_question import match_who_said_what
from assistant.statements import StatementFinder
from assistant.statements_answer import statements_answer, stream_answer
from ingest.embedding import Embedder


class StatementsAnswerer:
    name = "statements"
    generative = False

    def __init__(self, finder: StatementFinder, *, default: Answerer, embedder: Embedder) -> None:
        self.finder = finder
        self.default = default  # answers other questions; writes the answer in an LLM mode
        self.embedder = embedder
        self.mode = str(getattr(default, "mode", default.name))

    def handles(self, question: str) -> bool:
        """Whether this answerer decides abstention itself (the pipeline then leaves it to
        it): the question names a speaker, whose statements are looked up."""
        return match_who_said_what(question) is not None

    def answer(self, request: AnswerRequest) -> Iterator[StreamEvent]:
        found = statements_answer(request.question, self.finder, filters=request.filters,
                                  as_of=request.as_of, mode=self.mode)
        if found is None:
            yield from self.default.answer(request)
            return
        answer, _ = found
        answer = replace(answer, search_query=request.search_query)
        if answer.abstained or not getattr(self.default, "generative", False):
            yield from stream_answer(answer)
            return
        # a generating answerer writes the answer over the statements (as passages)
        vector = self.embedder.embed([request.question])[0]
        sentences = score_sentences(request.question, vector, answer.passages, self.embedder)
        # if generation fails, the user sees what the extractive mode gives: the statements
        extractive = replace(answer, mode="extractive")
        yield from self.default.answer(replace(request, passages=answer.passages,
                                               sentences=sentences, fallback=extractive))
