"""The answerer seam: what an answer strategy is given and what it returns.

An answerer turns an ``AnswerRequest`` (the question, the retrieved passages and what the
pipeline learned on the way) into a stream of events: text tokens as they come, then one
``StreamEvent("answer")`` holding a new ``Answer``. It gets what it uses (settings, embedder,
endpoint, index) in its constructor, never the ``NewsAssistant``, and it never mutates an
``Answer`` it did not make. See ``assistant.answerers`` for the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.extractive import ScoredSentence
from assistant.results import Answer, Passage, StreamEvent
from assistant.retrieval import Filters
from ingest.embedding import Embedder

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.config import Settings
    from assistant.llm import Endpoint
    from ingest.store import NewsStore

# assistant/question.py (the answer branch) defines it; any object with its fields will do here
QuestionAnalysis = Any


@dataclass(frozen=True)
class AnswerRequest:
    """Everything an answerer may use; built by the pipeline (``assistant.pipeline``)."""

    question: str  # as asked
    search_query: str  # after follow-up rewriting
    passages: list[Passage]  # retrieved, syndication-collapsed, best first
    history: list[tuple[str, str]]
    analysis: QuestionAnalysis | None  # from assistant/question.py; None until it exists
    as_of: date | None
    filters: Filters
    # the sentences of the top passages scored against the question, best first (the
    # abstention step needed them already; extractive answers are made of them)
    sentences: list[ScoredSentence] = field(default_factory=list)
    # what a generating answerer shows when generation fails (else the extractive answer
    # over ``sentences``): set by the statements answerer to its own extractive answer
    fallback: Answer | None = None


@runtime_checkable
class Answerer(Protocol):
    """One way of answering: ``extractive``, ``statements``, ``llm`` (``local``/``openai``)."""

    name: str

    def answer(self, request: AnswerRequest) -> Iterator[StreamEvent]:
        """Tokens..., then exactly one ``StreamEvent("answer", answer=...)``."""
        ...


@dataclass(frozen=True)
class AnswerServices:
    """What answerers may be built with; each factory takes what it needs.

    ``endpoint`` is called when an answer is generated (the ``local`` mode starts its model
    server on first use); ``chat_model``, when set, is used instead of building a
    ``ChatOpenAI`` on that endpoint."""

    embedder: Embedder
    index: NewsStore | None = None
    endpoint: Callable[[], Endpoint] | None = None
    chat_model: BaseChatModel | None = None


AnswererFactory = Callable[["Settings", AnswerServices], Answerer]


def answer_mode(answerer: Answerer) -> str:
    """The label answers carry in ``Answer.mode``: ``extractive``, ``local:MODEL``, ..."""
    return str(getattr(answerer, "mode", answerer.name))


def answer_description(answerer: Answerer) -> str:
    """What answers, in words a newcomer understands (an answerer's optional
    ``description``; else its mode label)."""
    return str(getattr(answerer, "description", "") or answer_mode(answerer))

