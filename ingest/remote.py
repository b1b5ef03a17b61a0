"""URLs as sources: an article page, or an RSS/Atom feed of articles; downloaded once."""

from __future__ import annotations

from collections.abc import Iterator

from ingest import web
from ingest.errors import IngestError, SourceError
from ingest.feeds import is_feed_type, read_downloaded_feed
from ingest.records import Article, IndexedArticles, KnownArticle

_FEED_START = (b"<rss", b"<feed", b"<rdf:rdf")


def load_url(
    url: str, *, index: IndexedArticles | None = None
) -> Iterator[Article | IngestError | KnownArticle]:
    """The article at ``url``; or, when ``url`` serves a feed, each of its entries (those the
    ``index`` already holds with the same link and date come back as ``KnownArticle``)."""
    with web.new_client() as client:
        try:
            page = web.download(url, client=client, accept=_page_or_feed)
        except SourceError as error:
            yield error
            return
        try:
            if not _is_feed(page):
                yield web.article_from_download(page, origin=url)
                return
            result = read_downloaded_feed(url, page, client=client, index=index)
        except SourceError as error:
            yield error
            return
    yield from result.articles
    yield from result.known
    yield from result.failures


def _page_or_feed(media_type: str) -> bool:
    return web.is_html_type(media_type) or is_feed_type(media_type)


def _is_feed(page: web.Download) -> bool:
    """A feed by its Content-Type; or, when the server names none, by its first element."""
    if page.media_type:
        return is_feed_type(page.media_type)
    head = page.content[:1024].lstrip().lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
    return head.startswith(_FEED_START)
