"""The index: two Chroma collections, one of passages (chunk vectors) and one of whole articles
(full text, content hash and a mean vector), in a local directory or on a Chroma server.

The article record is written last, so it doubles as the commit marker of an article: if a
run stops half-way, the next run sees the old hash and redoes that article.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from ingest.errors import IndexOpenError
from ingest.locking import (
    bump_generation,
    index_write_lock,
    local_index_directory,
    read_generation,
)
from ingest.retry import STALE_READER, with_retries
from ingest.statement_store import StatementStore, StatementWrite

PASSAGES = "news_passages"
ARTICLES = "news_articles"
WRITE_BATCH = 1000  # stays under Chroma's max batch size
T = TypeVar("T")


@dataclass(frozen=True)
class StoredArticle:
    id: str
    title: str
    source: str
    url: str
    published_at: str
    body: str
    content_hash: str
    n_chunks: int


@dataclass
class ArticleWrite:
    """One article's index records, ready to write."""

    meta: dict[str, Any]
    body: str
    chunk_ids: list[str]
    chunk_texts: list[str]
    chunk_metas: list[dict[str, Any]]
    vectors: np.ndarray
    previous_chunks: int = 0
    statements: StatementWrite | None = None  # None: the article has none (old ones go)


def open_client(*, path: str | Path | None = None, chroma_url: str | None = None) -> Any:
    """A Chroma client on a local directory or a server URL (``http://host:port``)."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        parsed = urlparse(chroma_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise IndexOpenError(f"--chroma-url {chroma_url!r} is not an http(s)://host:port URL")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        return chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
        )
    directory = Path(path or "news-index")
    if directory.exists() and not directory.is_dir():
        raise IndexOpenError(f"index path {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(directory), settings=settings)


def reopen_client(client: Any, directory: str | Path) -> Any:
    """A new client on a local index whose in-memory state is fresh. Chroma shares one
    "system" per directory in a process; the stale one is left to the clients that still hold
    it (closing it would break them) and a new one is made."""
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = getattr(client, "_identifier", None)
    if identifier is not None:
        with SharedSystemClient._refcount_lock:
            SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    return open_client(path=directory)


class NewsStore:
    """Read and write passages and articles; knows nothing of questions."""

    def __init__(self, client: Any, *, embedder_name: str, namespace: str = "") -> None:
        self.embedder_name, self.namespace = embedder_name, namespace
        self.directory = local_index_directory(client)  # None for a Chroma server
        self._open_collections(client)
        self.lexical: Any = None  # the BM25 side index (ingest.lexical), attached by the owner
        built_with = (self.passages.metadata or {}).get("embedder")
        if built_with and built_with != embedder_name:
            raise IndexOpenError(
                f"this index was built with the embedder {built_with!r}, not {embedder_name!r}; "
                "use the same embedder or a new --index"
            )

    def _open_collections(self, client: Any) -> None:
        self.client = client
        self.generation = read_generation(self.directory) if self.directory else ""
        meta = {"hnsw:space": "cosine", "embedder": self.embedder_name}
        self.passages = client.get_or_create_collection(self.namespace + PASSAGES, metadata=meta)
        self.articles = client.get_or_create_collection(self.namespace + ARTICLES, metadata=meta)
        self.statements = StatementStore(client, namespace=self.namespace, metadata=meta)

    def changed_elsewhere(self) -> bool:
        """Whether another process (or client) wrote to this local index since it was opened
        here: Chroma's local client keeps the vector index of a collection in memory and does
        not see such writes (and, had it seen the collection empty, fails every query with
        "Nothing found on disk")."""
        return bool(self.directory) and read_generation(self.directory) != self.generation

    def reopen(self) -> None:
        """A fresh Chroma client on the same local index, which sees every commit."""
        if self.directory is not None:
            self._open_collections(reopen_client(self.client, self.directory))

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` (a Chroma call through ``self.passages`` / ``self.articles``), retried on
        transient failures with bounded backoff (``ingest.retry``); a local client that cached
        a collection before another process filled it is reopened first."""
        return with_retries(fn, on_retry=self._before_retry)

    def _before_retry(self, error: BaseException) -> None:
        if STALE_READER in str(error):
            self.reopen()

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Be the only writer of this index (see ingest.locking): waits for another ingest,
        then reopens the index if that one wrote to it; afterwards, tells later openers that
        the index changed. A Chroma server has no lock (writes are retried instead)."""
        with index_write_lock(self.directory):
            if self.changed_elsewhere():
                self.reopen()
            try:
                yield
            finally:
                if self.directory is not None:
                    self.generation = bump_generation(self.directory)

    # ---- reads -------------------------------------------------------------------------
    def article_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """content_hash of the articles already indexed among ``ids``."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), WRITE_BATCH):
            part = list(ids[start : start + WRITE_BATCH])
            got = self.call(lambda part=part: self.articles.get(ids=part, include=["metadatas"]))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[article_id] = str((meta or {}).get("content_hash", ""))
        return found

    def get_articles(self, ids: Iterable[str]) -> dict[str, StoredArticle]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        got = self.articles.get(ids=wanted, include=["metadatas", "documents"])
        return {
            article_id: _stored(article_id, meta or {}, doc or "")
            for article_id, meta, doc in zip(
                got["ids"], got["metadatas"] or [], got["documents"] or [], strict=False
            )
        }

    def count(self) -> tuple[int, int]:
        """(articles, passages)."""
        return self.articles.count(), self.passages.count()

    def all_article_metadata(self) -> list[dict[str, Any]]:
        got = self.articles.get(include=["metadatas"])
        return [
            dict(m or {}, id=i) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
        ]

    # ---- writes ------------------------------------------------------------------------
    def write_batch(self, batch: list[ArticleWrite]) -> None:
        """Upsert the chunks of several articles, drop their stale chunks, then commit the
        article records (one Chroma call each: per-article calls cost ~20x more)."""
        ids = [i for w in batch for i in w.chunk_ids]
        if ids:
            texts = [t for w in batch for t in w.chunk_texts]
            metas = [m for w in batch for m in w.chunk_metas]
            vectors = np.concatenate([w.vectors for w in batch])
            for start in range(0, len(ids), WRITE_BATCH):
                part = slice(start, start + WRITE_BATCH)
                self.call(lambda part=part: self.passages.upsert(
                    ids=ids[part], documents=texts[part], metadatas=metas[part],
                    embeddings=vectors[part].tolist()))
        stale = [
            f"{w.meta['article_id']}#{i}"
            for w in batch
            for i in range(len(w.chunk_ids), w.previous_chunks)
        ]
        if stale:
            self.call(lambda: self.passages.delete(ids=stale))
        self.statements.replace([
            w.statements or StatementWrite(w.meta["article_id"], [], None, {}) for w in batch
        ])
        means = []
        for w in batch:
            mean = w.vectors.mean(axis=0)
            means.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        if self.lexical is not None:
            for w, mean in zip(batch, means, strict=True):
                self.lexical.replace_article(
                    w.meta["article_id"],
                    str(w.meta.get("content_hash", "")),
                    w.chunk_ids,
                    w.chunk_texts,
                    w.chunk_metas,
                    vectors=w.vectors if w.chunk_ids else None,
                    article_vector=mean,
                    article_meta=w.meta,
                )
        self.call(lambda: self.articles.upsert(
            ids=[w.meta["article_id"] for w in batch],
            documents=[w.body for w in batch],
            metadatas=[w.meta for w in batch],
            embeddings=[m.tolist() for m in means],
        ))

    def chunk_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """n_chunks of the articles already indexed among ``ids``."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), WRITE_BATCH):
            part = list(ids[start : start + WRITE_BATCH])
            got = self.call(lambda part=part: self.articles.get(ids=part, include=["metadatas"]))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[article_id] = int((meta or {}).get("n_chunks", 0))
        return found

    def delete_article(self, article_id: str) -> None:
        with self.write_lock():
            self.passages.delete(where={"article_id": article_id})
            self.articles.delete(ids=[article_id])
            self.statements.delete_articles([article_id])
            if self.lexical is not None:
                self.lexical.delete_article(article_id)
                self.lexical.commit()

    def flush(self) -> None:
        """Commit side-index writes (the lexical index buffers them)."""
        if self.lexical is not None:
            self.lexical.commit()


def _stored(article_id: str, meta: dict[str, Any], body: str) -> StoredArticle:
    return StoredArticle(
        id=article_id,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published_at=str(meta.get("published_at", "")),
        body=body,
        content_hash=str(meta.get("content_hash", "")),
        n_chunks=int(meta.get("n_chunks", 0)),
    )
