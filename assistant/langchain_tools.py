"""LangChain views of the index, for people composing their own chains:
a retriever over ``NewsAssistant.search`` and a ``langchain_chroma.Chroma`` vector store on the
same passages collection, embedded with the same model. (The cited-answer pipeline itself is
``NewsAssistant.as_runnable``.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, Union

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict

from assistant.results import Answer, Passage, StreamEvent
from ingest.embedding import Embedder, as_langchain
from ingest.store import PASSAGES

Search = Callable[..., list[Passage]]  # NewsAssistant.search(query, *, k, filters, as_of)
Stream = Callable[..., Iterator[StreamEvent]]  # NewsAssistant.stream(question, *, filters, as_of)
# a question, or {"question": ..., "filters": {...}, "as_of": "YYYY-MM-DD"}
QuestionInput = Union[str, Mapping[str, Any]]  # noqa: UP007 (a runtime alias for pydantic)


class NewsRetriever(BaseRetriever):
    """Ranked passages as LangChain ``Document``s, with the assistant's filters and caps;
    ``as_of`` anchors relative dates and leaves out later articles (see ``search``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    search: Search
    k: int = 8
    filters: dict[str, Any] | None = None
    as_of: date | str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages = self.search(query, k=self.k, filters=self.filters, as_of=self.as_of)
        return [passage_document(p) for p in passages]


def passage_document(p: Passage) -> Document:
    """A passage as a LangChain ``Document`` (its text, and the rest as metadata)."""
    return Document(
        page_content=p.text,
        id=p.chunk_id,
        metadata={
            "article_id": p.article_id,
            "chunk_id": p.chunk_id,
            "title": p.title,
            "source": p.source,
            "url": p.url,
            "published_at": p.published_at,
            "start": p.start,
            "end": p.end,
            "score": p.score,
            "also_reported_by": list(p.also_reported_by),
        },
    )


def news_vectorstore(client: Any, embedder: Embedder) -> Any:
    """The passages collection as a ``langchain_chroma.Chroma`` (read it; ingest with ours)."""
    from langchain_chroma import Chroma

    return Chroma(
        client=client,
        collection_name=PASSAGES,
        embedding_function=as_langchain(embedder),
        create_collection_if_not_exists=False,
    )


class AnswerRunnable(Runnable[QuestionInput, Union[Answer, str]]):  # noqa: UP007
    """The cited-answer pipeline as a LangChain ``Runnable``: ``invoke``/``batch`` give the
    ``Answer``; ``stream`` gives the text tokens, then the ``Answer`` as the last chunk."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    def invoke(self, input: QuestionInput, config: RunnableConfig | None = None,
               **kwargs: Any) -> Answer:
        answer = None
        for chunk in self.stream(input, config):
            answer = chunk if isinstance(chunk, Answer) else answer
        assert answer is not None
        return answer

    def stream(self, input: QuestionInput, config: RunnableConfig | None = None,
               **kwargs: Any) -> Iterator[Answer | str]:
        question, options = question_input(input)
        for event in self._stream(question, **options):
            yield event.answer if event.answer is not None else event.token


def question_input(value: QuestionInput) -> tuple[str, dict[str, Any]]:
    """(question, keyword arguments of ``stream``) from a runnable's input."""
    if isinstance(value, str):
        return value, {}
    unknown = set(value) - {"question", "filters", "as_of"}
    if unknown or "question" not in value:
        raise TypeError(f"input must be a question or a mapping with 'question' (and optional "
                        f"'filters', 'as_of'), not keys {sorted(value)}")
    return str(value["question"]), {k: value[k] for k in ("filters", "as_of") if k in value}
