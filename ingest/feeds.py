"""RSS and Atom feeds as articles, refreshed cheaply.

``fetch_feed`` downloads a feed with a conditional GET (ETag / Last-Modified from a
``FeedState``), then turns each new entry into an ``Article``: the entry's own text when it is
the full story, otherwise the linked page (``fetch_article``). An entry that fails becomes a
``SourceError`` in ``FeedResult.failures`` and never stops the others.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname
from xml.sax import SAXParseException

import feedparser
import httpx

from ingest import web
from ingest.errors import SourceError
from ingest.records import Article, IndexedArticles, KnownArticle

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
    | {"application/xml", "text/xml"}
)
FULL_TEXT_MIN_CHARS = 400  # entry text at least this long (after HTML cleanup) is the story
MAX_ATTEMPTS = 3  # a failing entry is retried on this many refreshes, then given up


@dataclass
class FeedState:
    """What a refresh needs from the previous one; store it with ``to_dict``.

    ``seen`` maps each entry key (its id, else link) to its version (updated/published date)
    as ingested; ``attempts`` counts failed tries of entries not ingested yet.
    """

    etag: str = ""
    last_modified: str = ""
    seen: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "etag": self.etag,
            "last_modified": self.last_modified,
            "seen": dict(self.seen),
            "attempts": dict(self.attempts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedState:
        return cls(
            etag=str(data.get("etag") or ""),
            last_modified=str(data.get("last_modified") or ""),
            seen={str(k): str(v) for k, v in (data.get("seen") or {}).items()},
            attempts={str(k): int(v) for k, v in (data.get("attempts") or {}).items()},
        )


@dataclass
class FeedResult:
    """One refresh: new or changed articles, failed entries, and the state for the next one."""

    articles: list[Article]
    failures: list[SourceError]
    not_modified: bool
    state: FeedState
    title: str = ""  # the feed's title
    unchanged: int = 0  # entries skipped because they were ingested before
    known: list[KnownArticle] = field(default_factory=list)  # of those, the ones in the index
    warnings: list[str] = field(default_factory=list)


def fetch_feed(
    url_or_path: str,
    *,
    state: FeedState | None = None,
    client: httpx.Client | None = None,
    fetch_pages: bool = True,
    timeout: float = web.DEFAULT_TIMEOUT,
    max_bytes: int = web.DEFAULT_MAX_BYTES,
    index: IndexedArticles | None = None,
) -> FeedResult:
    """Read an RSS/Atom feed (URL or file) and return its new entries as articles.

    With ``state`` from the previous refresh, the request is conditional: an unchanged feed
    answers 304 and the result has ``not_modified=True`` and no articles; entries already
    ingested (same key and version) are skipped without fetching their pages. With ``index``,
    entries whose link and date match an indexed article are skipped too (``FeedResult.known``).
    ``fetch_pages=False`` uses whatever text entries carry and never fetches pages.
    Raises ``SourceError`` when the feed itself cannot be read or is not a feed.
    """
    previous = state or FeedState()
    own_client = client is None
    http = client or web.new_client(timeout=timeout)
    options = _ReadOptions(http, fetch_pages, timeout, max_bytes, index)
    try:
        if _is_url(url_or_path):
            response = web.download(
                url_or_path,
                client=http,
                timeout=timeout,
                max_bytes=max_bytes,
                headers=_conditional_headers(previous),
            )
            return _feed_from_download(url_or_path, response, previous, options)
        path = _local_path(url_or_path)
        parsed = _parse(url_or_path, _read_file(path, url_or_path), path.resolve().as_uri(), "")
        return _EntryReader(url_or_path, parsed, previous, options).read_all()
    finally:
        if own_client:
            http.close()


@dataclass(frozen=True)
class _ReadOptions:
    client: httpx.Client
    fetch_pages: bool = True
    timeout: float = web.DEFAULT_TIMEOUT
    max_bytes: int = web.DEFAULT_MAX_BYTES
    index: IndexedArticles | None = None


def read_downloaded_feed(
    url: str,
    response: web.Download,
    *,
    client: httpx.Client,
    index: IndexedArticles | None = None,
    timeout: float = web.DEFAULT_TIMEOUT,
    max_bytes: int = web.DEFAULT_MAX_BYTES,
) -> FeedResult:
    """The entries of a feed already downloaded (no second request for the feed itself)."""
    options = _ReadOptions(client, True, timeout, max_bytes, index)
    return _feed_from_download(url, response, FeedState(), options)


def _feed_from_download(
    url: str, response: web.Download, previous: FeedState, options: _ReadOptions
) -> FeedResult:
    if response.status == 304:
        return FeedResult([], [], True, FeedState.from_dict(previous.to_dict()))
    parsed = _parse(url, response.content, response.url, response.media_type)
    result = _EntryReader(url, parsed, previous, options).read_all()
    # Retry pending failures next round: keep no validators, so the feed is re-read whole.
    if not result.state.attempts:
        result.state.etag = response.headers.get("etag", "")
        result.state.last_modified = response.headers.get("last-modified", "")
    return result


class _EntryReader:
    """Turns the entries of one parsed feed into articles and failures."""

    def __init__(
        self,
        feed: str,
        parsed: feedparser.FeedParserDict,
        previous: FeedState,
        options: _ReadOptions,
    ) -> None:
        self.feed = feed
        self.parsed = parsed
        self.previous = previous
        self.client = options.client
        self.fetch_pages = options.fetch_pages
        self.timeout = options.timeout
        self.max_bytes = options.max_bytes
        self.index = options.index
        self.title = _title_of(parsed.feed)

    def read_all(self) -> FeedResult:
        state = FeedState()
        result = FeedResult([], [], False, state, title=self.title, warnings=_warnings(self.parsed))
        indexed = self._indexed()
        for entry in self.parsed.entries:
            key, version = entry_key(entry), _version(entry)
            known = indexed.get(self._origin(entry, key))
            if self.previous.seen.get(key) == version or _same_date(known, entry):
                state.seen[key] = version
                result.unchanged += 1
                if known is not None:
                    result.known.append(KnownArticle(known[0], self._origin(entry, key)))
                continue
            try:
                result.articles.append(self.article(entry, key))
                state.seen[key] = version
            except Exception as exc:  # one bad entry never stops the feed
                result.failures.append(self._failed(exc, entry, key, version, state))
        return result

    def _failed(
        self, exc: Exception, entry: Any, key: str, version: str, state: FeedState
    ) -> SourceError:
        error = self._as_source_error(exc, entry, key)
        attempts = self.previous.attempts.get(key, 0) + 1
        if attempts >= MAX_ATTEMPTS:
            state.seen[key] = version  # give up until the entry changes
            return SourceError(error.where, f"{error.reason} (gave up after {attempts} tries)")
        state.attempts[key] = attempts
        return error

    def _indexed(self) -> dict[str, tuple[str, str]]:
        """origin -> (article id, date) of this feed's entries that the index already holds."""
        if self.index is None:
            return {}
        origins = [self._origin(e, entry_key(e)) for e in self.parsed.entries]
        return self.index.articles_by_origin(origins)

    def _origin(self, entry: feedparser.FeedParserDict, key: str) -> str:
        """What an entry's article records as its origin: its link, else the feed and key."""
        return str(entry.get("link") or f"{self.feed} [entry {key}]")

    def article(self, entry: feedparser.FeedParserDict, key: str) -> Article:
        """The entry as an article: its own full text, else its linked page."""
        link = entry.get("link", "")
        text = entry_text(entry)
        if len(text) < FULL_TEXT_MIN_CHARS and link and self.fetch_pages:
            page = web.fetch_article(
                link, client=self.client, timeout=self.timeout, max_bytes=self.max_bytes
            )
            return Article(
                body=page.body,
                title=_title_of(entry) or page.title,
                source=self._outlet(entry) or page.source,
                url=page.url or link,
                published_at=entry_date(entry) or page.published_at,
                origin=link,
            )
        if not text:
            raise SourceError(link or f"{self.feed} [entry {key}]", "no article text found")
        return Article(
            body=text,
            # Without a link the id comes from the entry's id, stable across edits of its text.
            id="" if link else hashlib.sha1(key.encode("utf-8")).hexdigest()[:16],
            title=_title_of(entry),
            source=self._outlet(entry),
            url=link,
            published_at=entry_date(entry),
            origin=self._origin(entry, key),
        )

    def _outlet(self, entry: feedparser.FeedParserDict) -> str:
        # An aggregator names each entry's outlet in <source>; otherwise the feed is the outlet.
        source = entry.get("source") or {}
        return str(source.get("title") or "").strip() or self.title

    def _as_source_error(self, exc: Exception, entry: Any, key: str) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        where = entry.get("link") or f"{self.feed} [entry {key}]"
        return SourceError(where, f"unexpected error ({type(exc).__name__}: {exc})")


def _same_date(known: tuple[str, str] | None, entry: feedparser.FeedParserDict) -> bool:
    """Whether the indexed article read from this entry has the entry's date (an entry without
    a date matches any: nothing says it changed)."""
    if known is None:
        return False
    date = entry_date(entry)
    return not date or date == known[1]


def is_feed_type(media_type: str) -> bool:
    """Whether a Content-Type (as in ``web.NotHTMLError.media_type``) may be RSS or Atom."""
    return media_type.split(";")[0].strip().lower() in FEED_TYPES


def entry_key(entry: feedparser.FeedParserDict) -> str:
    """A stable key for an entry: its id (guid), else its link, else a hash of its title."""
    key = entry.get("id") or entry.get("link")
    if key:
        return str(key)
    basis = f"{entry.get('title', '')}\n{entry.get('summary', '')}"
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def entry_text(entry: feedparser.FeedParserDict) -> str:
    """The longest text the entry carries (content or summary), as plain paragraphs."""
    candidates = [*entry.get("content", []), entry.get("summary_detail") or {}]
    texts = [_detail_text(detail) for detail in candidates if detail.get("value")]
    return max(texts, key=len, default="")


def entry_date(entry: feedparser.FeedParserDict) -> str:
    """The entry's publication (else update) time as ISO 8601 in UTC, or ""."""
    # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return ""
    # feedparser normalises every date format and zone to a UTC struct_time
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", parsed)


def _detail_text(detail: dict[str, Any]) -> str:
    value = str(detail.get("value", ""))
    if "html" in str(detail.get("type", "text/html")):
        return web.html_fragment_to_text(value)
    paragraphs = (" ".join(p.split()) for p in value.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _title_of(item: feedparser.FeedParserDict) -> str:
    """The title of an entry or feed as one line of plain text."""
    detail = item.get("title_detail") or {"value": item.get("title", ""), "type": "text/plain"}
    return _detail_text(detail).replace("\n\n", " ").replace("\n", " ")


def _version(entry: feedparser.FeedParserDict) -> str:
    return str(dict.get(entry, "updated") or dict.get(entry, "published") or "")


def _parse(where: str, content: bytes, base_url: str, media_type: str) -> Any:
    """Parse feed bytes (never a URL: feedparser must not fetch); raise if it is no feed."""
    headers = {"content-location": base_url}
    if media_type:
        headers["content-type"] = media_type
    parsed = feedparser.parse(content, response_headers=headers)
    # feedparser's loose parser recovers entries from malformed XML; take what it recovered.
    if parsed.entries or (parsed.get("version") and _xml_error(parsed) is None):
        return parsed
    raise SourceError(where, f"not a feed ({_not_a_feed_reason(parsed, content)})")


def _not_a_feed_reason(parsed: Any, content: bytes) -> str:
    head = content[:1024].lstrip().lower()
    if not head:
        return "empty document"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    error = _xml_error(parsed)
    if error is not None:
        return f"malformed XML: {error.getMessage()} at line {error.getLineNumber()}"
    return "no RSS or Atom elements"


def _xml_error(parsed: Any) -> SAXParseException | None:
    """The XML syntax error feedparser met, if any (other bozo flags are harmless)."""
    error = parsed.get("bozo_exception")
    return error if isinstance(error, SAXParseException) else None


def _warnings(parsed: Any) -> list[str]:
    error = _xml_error(parsed)
    if error is None:
        return []
    return [
        f"malformed XML ({error.getMessage()} at line {error.getLineNumber()}); "
        f"kept the {len(parsed.entries)} entries that could be read"
    ]


def _conditional_headers(state: FeedState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _is_url(target: str) -> bool:
    return urlsplit(target).scheme.lower() in ("http", "https")


def _local_path(target: str) -> Path:
    if target.startswith("file://"):
        return Path(url2pathname(urlsplit(target).path))
    return Path(target)


def _read_file(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(where, "file not found") from None
    except OSError as exc:
        raise SourceError(where, f"cannot read file ({exc.strerror or exc})") from exc
