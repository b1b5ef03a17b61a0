"""Turn news articles (files, folders, URLs, feeds) into a searchable Chroma index."""

from ingest.errors import IngestError, SourceError
from ingest.pipeline import IngestReport, collect_articles, ingest_articles
from ingest.records import Article

__all__ = ["Article", "IngestError", "IngestReport", "SourceError", "collect_articles",
           "ingest_articles"]
