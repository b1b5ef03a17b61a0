"""The feeds (and pages) an index follows, with each one's refresh state, kept with the index.

- Local index: ``<index dir>/feeds.json``. Every change is a read-modify-write under an
  exclusive lock (``feeds.lock``, ``flock``) and lands by an atomic rename, so two commands
  changing the list at once never lose an update and a crash never leaves half a file.
- Chroma server: the ``news_feeds`` collection on that server, one record per feed (its state
  as the document, its URL and title as metadata), so every process and machine using the
  server sees one list. Records carry a fixed 1-d dummy embedding: Chroma's default embedding
  function (which downloads a model) never runs. Updates are per feed; two watchers of the
  same feed at once may each save their state, and the last one wins (the next refresh then
  re-reads at most what the other already ingested, which changes nothing).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ingest.feeds import FeedState

FEEDS_FILE = "feeds.json"
LOCK_FILE = "feeds.lock"
FEEDS_COLLECTION = "news_feeds"
_DUMMY_EMBEDDING = [0.0]


@dataclass(frozen=True)
class FollowedFeed:
    """One followed source. ``kind`` is "feed" or "page" once the first refresh has seen it."""

    url: str
    kind: str = ""
    title: str = ""
    added_at: str = ""
    refreshed_at: str = ""
    state: FeedState = field(default_factory=FeedState)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "added_at": self.added_at,
            "refreshed_at": self.refreshed_at,
            "state": self.state.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowedFeed:
        return cls(
            url=str(data["url"]),
            kind=str(data.get("kind") or ""),
            title=str(data.get("title") or ""),
            added_at=str(data.get("added_at") or ""),
            refreshed_at=str(data.get("refreshed_at") or ""),
            state=FeedState.from_dict(data.get("state") or {}),
        )


class FeedList(Protocol):
    """Where the followed feeds live (``LocalFeedList`` or ``ChromaFeedList``)."""

    where: str

    def list(self) -> list[FollowedFeed]: ...

    def get(self, url: str) -> FollowedFeed | None: ...

    def add(self, url: str) -> bool: ...

    def remove(self, url: str) -> bool: ...

    def save(self, feed: FollowedFeed) -> bool: ...


def normalise_source(source: str) -> str:
    """How a source is keyed in the list: URLs as given (trimmed), files as absolute paths."""
    text = source.strip()
    if urlsplit(text).scheme.lower() in ("http", "https", "file"):
        return text
    return str(Path(text).expanduser().resolve())


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class LocalFeedList:
    """``feeds.json`` in a local index directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FEEDS_FILE
        self.where = str(self.path)

    def list(self) -> list[FollowedFeed]:
        return list(self._read().values())

    def get(self, url: str) -> FollowedFeed | None:
        return self._read().get(normalise_source(url))

    def add(self, url: str) -> bool:
        """Follow ``url``; False when it was followed already."""
        key = normalise_source(url)
        with self._editing() as feeds:
            if key in feeds:
                return False
            feeds[key] = FollowedFeed(url=key, added_at=now_iso())
            return True

    def remove(self, url: str) -> bool:
        with self._editing() as feeds:
            return feeds.pop(normalise_source(url), None) is not None

    def save(self, feed: FollowedFeed) -> bool:
        """Store a refreshed feed's kind, title and state; False (nothing stored) when the feed
        was removed meanwhile."""
        with self._editing() as feeds:
            if feed.url not in feeds:
                return False
            feeds[feed.url] = replace(feed, added_at=feeds[feed.url].added_at)
            return True

    def _read(self) -> dict[str, FollowedFeed]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise OSError(f"{self.path}: unreadable feed list ({exc})") from exc
        feeds = [FollowedFeed.from_dict(item) for item in data.get("feeds", [])]
        return {feed.url: feed for feed in feeds}

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, FollowedFeed]]:
        """The list, locked against other writers; written back atomically on success."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                feeds = self._read()
                before = {url: f.to_dict() for url, f in feeds.items()}
                yield feeds
                if {url: f.to_dict() for url, f in feeds.items()} != before:
                    self._write(feeds)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, feeds: dict[str, FollowedFeed]) -> None:
        payload = {"version": 1, "feeds": [f.to_dict() for f in feeds.values()]}
        handle, temp = tempfile.mkstemp(prefix=".feeds-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=2, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise


class ChromaFeedList:
    """The ``news_feeds`` collection of a Chroma server (or any Chroma client)."""

    def __init__(self, client: Any, *, namespace: str = "", where: str = "") -> None:
        self.collection = client.get_or_create_collection(
            namespace + FEEDS_COLLECTION,
            embedding_function=None,
            metadata={"purpose": "feeds followed by news-assistant"},
        )
        self.where = where or f"collection {namespace + FEEDS_COLLECTION}"

    def list(self) -> list[FollowedFeed]:
        got = self.collection.get(include=["documents", "metadatas"])
        feeds = [
            _from_record(meta or {}, doc)
            for meta, doc in zip(got["metadatas"] or [], got["documents"] or [], strict=False)
        ]
        return sorted(feeds, key=lambda f: (f.added_at, f.url))

    def get(self, url: str) -> FollowedFeed | None:
        key = normalise_source(url)
        got = self.collection.get(ids=[_record_id(key)], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _from_record((got["metadatas"] or [{}])[0] or {}, (got["documents"] or [""])[0])

    def add(self, url: str) -> bool:
        key = normalise_source(url)
        if self.get(key) is not None:
            return False
        # ``add`` leaves an existing record alone, so a racing add cannot reset a state
        self._write(FollowedFeed(url=key, added_at=now_iso()), method="add")
        return True

    def remove(self, url: str) -> bool:
        key = normalise_source(url)
        if self.get(key) is None:
            return False
        self.collection.delete(ids=[_record_id(key)])
        return True

    def save(self, feed: FollowedFeed) -> bool:
        current = self.get(feed.url)
        if current is None:
            return False
        self._write(replace(feed, added_at=current.added_at), method="upsert")
        return True

    def _write(self, feed: FollowedFeed, *, method: str) -> None:
        getattr(self.collection, method)(
            ids=[_record_id(feed.url)],
            documents=[json.dumps(feed.state.to_dict(), ensure_ascii=False)],
            metadatas=[{
                "url": feed.url, "kind": feed.kind, "title": feed.title,
                "added_at": feed.added_at, "refreshed_at": feed.refreshed_at,
            }],
            embeddings=[_DUMMY_EMBEDDING],
        )


def open_feed_list(*, path: str | Path | None = None, client: Any = None,
                   chroma_url: str = "") -> FeedList:
    """The feed list of a local index directory, or of the Chroma server ``client`` talks to."""
    if client is not None:
        return ChromaFeedList(client, where=f"{chroma_url or 'Chroma'} ({FEEDS_COLLECTION})")
    return LocalFeedList(Path(path or "news-index"))


def _record_id(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:24]


def _from_record(meta: dict[str, Any], document: str | None) -> FollowedFeed:
    try:
        state = json.loads(document or "{}")
    except ValueError:
        state = {}  # a damaged state only costs one full refresh
    return FollowedFeed.from_dict({**meta, "state": state})
