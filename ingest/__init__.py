"""Turn news articles (files, folders, URLs, feeds) into a searchable Chroma index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.errors import IngestError, SourceError
from ingest.records import Article

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport, collect_articles, ingest_articles

__all__ = ["Article", "IngestError", "IngestReport", "SourceError", "collect_articles",
           "ingest_articles"]


def __getattr__(name: str) -> Any:
    # The pipeline pulls in the text splitter (~0.25 s): only ingesting needs it, not a
    # cold `ask` that imports ingest.embedding
    if name in ("IngestReport", "collect_articles", "ingest_articles"):
        from ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")
