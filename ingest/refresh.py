"""One refresh of followed sources: read each feed (conditional GET) or page, ingest what is
new, then save the feed's state.

The state (ETag, Last-Modified, entries seen) is saved only after the ingest of that feed
succeeded, so a round that fails half-way (index unreachable, process killed) is simply redone
by the next one; re-ingesting is idempotent, so nothing is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from ingest import web
from ingest.errors import IngestError, SourceError
from ingest.feedlist import FeedList, FollowedFeed, now_iso
from ingest.feeds import fetch_feed
from ingest.pipeline import IngestReport, ingest_articles
from ingest.records import Article


@dataclass
class SourceRefresh:
    """What one refresh did for one followed source."""

    url: str
    kind: str = ""
    not_modified: bool = False
    report: IngestReport | None = None
    error: str = ""  # the source could not be read, or its articles could not be indexed
    warnings: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # article id -> headline, for logs

    @property
    def ok(self) -> bool:
        return not self.error and (self.report is None or self.report.ok)

    def line(self) -> str:
        if self.error:
            return f"{self.url}: error: {self.error}"
        if self.not_modified:
            return f"{self.url}: not modified"
        assert self.report is not None
        return f"{self.url}: {self.report.summary()}"


@dataclass
class RefreshRound:
    """One round over all followed sources."""

    sources: list[SourceRefresh] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources)

    def count(self, what: str) -> int:
        return sum(len(getattr(s.report, what)) for s in self.sources if s.report is not None)

    def summary(self) -> str:
        errors = sum(1 for s in self.sources if s.error)
        quiet = sum(1 for s in self.sources if s.not_modified)
        return (
            f"{len(self.sources)} sources: {self.count('added')} added, "
            f"{self.count('updated')} updated, {self.count('unchanged')} unchanged, "
            f"{self.count('failed')} failed entries, {quiet} not modified, {errors} errors"
        )


def refresh_sources(
    feeds: list[FollowedFeed],
    feed_list: FeedList,
    store: Any,
    embedder: Any,
    *,
    timeout: float = web.DEFAULT_TIMEOUT,
) -> RefreshRound:
    """Refresh each source in turn; one failing source never stops the others."""
    result = RefreshRound()
    with web.new_client(timeout=timeout) as client:
        for feed in feeds:
            result.sources.append(refresh_source(feed, feed_list, store, embedder,
                                                 client=client, timeout=timeout))
    return result


def refresh_source(
    feed: FollowedFeed,
    feed_list: FeedList,
    store: Any,
    embedder: Any,
    *,
    client: httpx.Client | None = None,
    timeout: float = web.DEFAULT_TIMEOUT,
) -> SourceRefresh:
    """Read one source, ingest its new articles, then (only then) save its state."""
    outcome = SourceRefresh(feed.url, kind=feed.kind)
    try:
        items, updated = _read(feed, client, timeout, outcome)
    except SourceError as error:
        outcome.error = error.reason
        return outcome
    except Exception as exc:  # one broken source never stops the round
        outcome.error = f"unexpected error ({type(exc).__name__}: {exc})"
        return outcome
    outcome.titles = {a.id: a.title for a in items if isinstance(a, Article)}
    if outcome.not_modified:
        feed_list.save(replace(updated, refreshed_at=now_iso()))
        return outcome
    try:
        outcome.report = ingest_articles(items, store, embedder)
    except Exception as exc:  # the index failed: keep the old state, redo next round
        outcome.error = f"indexing failed ({type(exc).__name__}: {exc}); will retry"
        return outcome
    feed_list.save(replace(updated, refreshed_at=now_iso()))
    return outcome


def _read(
    feed: FollowedFeed, client: httpx.Client | None, timeout: float, outcome: SourceRefresh
) -> tuple[list[Article | IngestError], FollowedFeed]:
    """The source's new articles and entry failures, and the feed record to save after."""
    if feed.kind != "page":
        try:
            result = fetch_feed(feed.url, state=feed.state, client=client, timeout=timeout)
        except SourceError as error:
            # the first refresh finds out what a URL is; a page is "not a feed"
            if feed.kind or not error.reason.startswith("not a feed (an HTML page"):
                raise
        else:
            outcome.kind, outcome.not_modified = "feed", result.not_modified
            outcome.warnings = list(result.warnings)
            updated = replace(feed, kind="feed", title=result.title or feed.title,
                              state=result.state)
            return [*result.articles, *result.failures], updated
    outcome.kind = "page"
    article = web.fetch_article(feed.url, client=client, timeout=timeout)
    return [article], replace(feed, kind="page", title=article.title or feed.title)
