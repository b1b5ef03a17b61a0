"""The article record: what every loader produces and the index stores."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Article:
    """One news article, as ingested.

    ``id`` is stable: given explicitly, else derived from the URL, else from title and body,
    so re-ingesting the same article maps to the same id.
    ``origin`` says where it came from (file path with line, or URL) for error reports.
    """

    body: str
    id: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""  # ISO 8601 date or date-time, "" when unknown
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", default_article_id(self.url, self.title, self.body))

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index; a change means re-embedding."""
        parts = (self.title, self.source, self.url, self.published_at, self.body)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("origin")
        return data


def default_article_id(url: str, title: str, body: str) -> str:
    """A stable id: a hash of the URL, else of title and body."""
    key = url.strip() if url.strip() else f"{title.strip()}\n{body.strip()}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class KnownArticle:
    """A feed entry the index already holds with the same link and date: not read again."""

    id: str
    origin: str


class IndexedArticles(Protocol):
    """What a feed reader asks the index (``ingest.store.NewsStore``): for each origin (the
    entry link an article was read from), the id and date of the article indexed from it."""

    def articles_by_origin(self, origins: Sequence[str]) -> dict[str, tuple[str, str]]: ...
