"""URLs as sources: an article page, or an RSS/Atom feed of articles."""

from __future__ import annotations

from collections.abc import Iterator

from ingest.errors import IngestError, SourceError
from ingest.feeds import fetch_feed, is_feed_type
from ingest.records import Article
from ingest.web import NotHTMLError, fetch_article


def load_url(url: str) -> Iterator[Article | IngestError]:
    """The article at ``url``; or, when ``url`` serves a feed, each of its entries."""
    try:
        yield fetch_article(url)
        return
    except NotHTMLError as error:
        if not is_feed_type(error.media_type):
            yield error
            return
    except SourceError as error:
        yield error
        return
    try:
        result = fetch_feed(url)
    except SourceError as error:
        yield error
        return
    yield from result.articles
    yield from result.failures
