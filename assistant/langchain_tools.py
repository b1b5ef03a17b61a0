"""LangChain views of the index, for people composing their own chains:
a retriever over ``NewsAssistant.search`` and a ``langchain_chroma.Chroma`` vector store on the
same passages collection, embedded with the same model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ingest.embedding import as_langchain
from ingest.store import PASSAGES

if TYPE_CHECKING:
    from assistant.api import NewsAssistant


class NewsRetriever(BaseRetriever):
    """Ranked passages as LangChain ``Document``s, with the assistant's filters and caps."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    k: int = 8
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages = self.assistant.search(query, k=self.k, filters=self.filters)
        return [
            Document(
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
                },
            )
            for p in passages
        ]


def news_vectorstore(assistant: NewsAssistant) -> Any:
    """The passages collection as a ``langchain_chroma.Chroma`` (read it; ingest with ours)."""
    from langchain_chroma import Chroma

    return Chroma(
        client=assistant.store.client,
        collection_name=PASSAGES,
        embedding_function=as_langchain(assistant.embedder),
        create_collection_if_not_exists=False,
    )
