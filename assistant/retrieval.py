"""Find passages for a query: dense search in Chroma, metadata filters, a per-article cap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from assistant.results import Passage
from ingest.cleaning import date_key
from ingest.embedding import Embedder
from ingest.store import NewsStore

OVERFETCH = 4  # candidates per wanted passage, so the per-article cap still fills k


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to outlets and a date span (inclusive ISO dates)."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    @classmethod
    def from_mapping(cls, filters: Mapping[str, Any] | Filters | None) -> Filters:
        if filters is None:
            return cls()
        if isinstance(filters, Filters):
            return filters
        unknown = set(filters) - {"source", "sources", "since", "until"}
        if unknown:
            raise ValueError(f"unknown filter(s) {sorted(unknown)}: use source, since, until")
        raw = filters.get("source") or filters.get("sources") or ()
        sources = (raw,) if isinstance(raw, str) else tuple(raw)
        return cls(sources=sources, since=_iso(filters.get("since"), "since"),
                   until=_iso(filters.get("until"), "until"))

    def to_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.since:
            clauses.append({"published_key": {"$gte": date_key(self.since)}})
        if self.until:
            clauses.append({"published_key": {"$lte": date_key(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)


def _iso(value: Any, name: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise ValueError(f"filter {name!r}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


class DenseRetriever:
    """Nearest chunks by cosine similarity of MiniLM (or endpoint) vectors."""

    def __init__(self, store: NewsStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def search(
        self, query: str, *, k: int, filters: Filters | None = None,
        max_per_article: int = 2, vector: np.ndarray | None = None,
    ) -> list[Passage]:
        total = self.store.passages.count()
        if total == 0:
            return []
        vector = self.embed_query(query) if vector is None else vector
        where = filters.to_where() if filters else None
        result = self.store.passages.query(
            query_embeddings=[vector.tolist()],
            n_results=min(total, k * OVERFETCH),
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        passages = [
            _passage(chunk_id, doc or "", meta or {}, 1.0 - float(dist))
            for chunk_id, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0],
                result["distances"][0], strict=False,
            )
        ]
        return cap_per_article(passages, max_per_article)[:k]


def cap_per_article(passages: list[Passage], limit: int) -> list[Passage]:
    """Keep at most ``limit`` passages of each article, in the given order."""
    seen: dict[str, int] = {}
    kept = []
    for passage in passages:
        seen[passage.article_id] = seen.get(passage.article_id, 0) + 1
        if seen[passage.article_id] <= limit:
            kept.append(passage)
    return kept


def _passage(chunk_id: str, text: str, meta: Mapping[str, Any], score: float) -> Passage:
    return Passage(
        article_id=str(meta.get("article_id", "")),
        chunk_id=chunk_id,
        text=text,
        score=score,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published_at=str(meta.get("published_at", "")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
    )
