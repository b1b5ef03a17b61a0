"""The index: two Chroma collections, one of passages (chunk vectors) and one of whole articles
(full text, content hash and a mean vector), in a local directory or on a Chroma server.

The article record is written last, so it doubles as the commit marker of an article: if a
run stops half-way, the next run sees the old hash and redoes that article.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
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
from ingest.statement_store import STATEMENTS, StatementStore, StatementWrite

if TYPE_CHECKING:
    from ingest.lexical import LexicalIndex

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


@dataclass(frozen=True)
class PassageRecord:
    """A passage as the index holds it: text, Chroma metadata and (when asked) its vector;
    ``cosine`` to the query of ``nearest_passages``; ``loaded``: text and metadata known."""

    chunk_id: str
    text: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    vector: np.ndarray | None = None
    cosine: float = 0.0
    loaded: bool = True


@dataclass(frozen=True)
class ArticleHit:
    """An indexed article near a query vector (``nearest_articles``)."""

    id: str
    cosine: float
    meta: Mapping[str, Any]
    body: str


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
    sentences: list[Any] | None = None  # per chunk, ``ingest.sentence_vectors.SentenceVectors``
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
    # Two processes creating one index at once race in Chroma's schema set-up ("table
    # collections already exists"): creating the client is a write.
    new = not (directory / "chroma.sqlite3").exists()  # readers never wait for a writer
    with index_write_lock(directory if new else None, on_wait=None):
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


def open_store(*, path: str | Path | None = None, chroma_url: str | None = None,
               embedder_name: str, namespace: str = "") -> NewsStore:
    """The index at ``path`` (or on the Chroma server ``chroma_url``) with its lexical index."""
    client = open_client(path=path, chroma_url=chroma_url)
    return NewsStore(client, embedder_name=embedder_name, namespace=namespace, path=path,
                     chroma_url=chroma_url)


class NewsStore:
    """The index: owns the Chroma collections and the lexical side index (``ingest.lexical``),
    and is the only code that touches them. Knows nothing of questions.

    ``lexical=False`` opens Chroma alone (the lexical index is then None and every read comes
    from Chroma). Every Chroma call goes through ``call`` (transient errors retried)."""

    def __init__(self, client: Any, *, embedder_name: str, namespace: str = "",
                 path: str | Path | None = None, chroma_url: str | None = None,
                 lexical: bool = True) -> None:
        self.embedder_name, self.namespace = embedder_name, namespace
        self.directory = local_index_directory(client)  # None for a Chroma server
        self._open_collections(client)
        built_with = (self.passages.metadata or {}).get("embedder")
        if built_with and built_with != embedder_name:
            raise IndexOpenError(
                f"this index was built with the embedder {built_with!r}, not {embedder_name!r} "
                "(NEWS_ASSISTANT_EMBEDDER): vectors of two models cannot be mixed. Run "
                "`news-assistant reindex` to re-embed every article with the new embedder, or "
                "use the old embedder or a new --index"
            )
        self._writes = 0  # writes made through this store, for article_summary's cache
        self._summary: tuple[Any, dict[str, Any]] | None = None
        self.lexical: LexicalIndex | None = None  # the BM25 side index, with read copies
        if lexical:
            from ingest.lexical import open_lexical

            self.lexical = open_lexical(self, path=path, chroma_url=chroma_url,
                                        namespace=namespace)

    def _open_collections(self, client: Any) -> None:
        self.client = client
        self.generation = read_generation(self.directory) if self.directory else ""
        meta = {"hnsw:space": "cosine", "embedder": self.embedder_name}
        names = {c.name for c in client.list_collections()}
        new = not {self.namespace + n for n in (PASSAGES, ARTICLES, STATEMENTS)} <= names
        with index_write_lock(self.directory if new else None, on_wait=None):  # creating: a write
            self.passages = client.get_or_create_collection(self.namespace + PASSAGES,
                                                            metadata=meta)
            self.articles = client.get_or_create_collection(self.namespace + ARTICLES,
                                                            metadata=meta)
            self.statements = StatementStore(client, namespace=self.namespace, metadata=meta)

    def changed_elsewhere(self) -> bool:
        """Whether another process (or client) wrote to this local index since it was opened
        here: Chroma's local client keeps the vector index of a collection in memory and does
        not see such writes (and, had it seen the collection empty, fails every query with
        "Nothing found on disk")."""
        return self.directory is not None and read_generation(self.directory) != self.generation

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

    # ---- typed reads (what retrieval, syndication, dedup and the lexical sync use) ------
    def nearest_passages(self, vector: Sequence[float], n: int, *,
                         where: Mapping[str, Any] | None = None,
                         with_records: bool = True) -> list[PassageRecord]:
        """The ``n`` passages nearest to ``vector`` (fewer when the index holds fewer), best
        first; without ``with_records`` only ids and cosines (``loaded`` False)."""
        include = ["metadatas", "documents", "distances"] if with_records else ["distances"]
        result = self.call(lambda: self.passages.query(
            query_embeddings=[list(vector)], n_results=n, where=dict(where) if where else None,
            include=include))
        docs = (result.get("documents") or [None])[0] or []
        metas = (result.get("metadatas") or [None])[0] or []
        found = []
        for i, (chunk_id, dist) in enumerate(zip(result["ids"][0], result["distances"][0],
                                                 strict=False)):
            if i < len(docs) and i < len(metas):
                found.append(PassageRecord(chunk_id, docs[i] or "", dict(metas[i] or {}),
                                           cosine=1.0 - float(dist)))
            else:
                found.append(PassageRecord(chunk_id, cosine=1.0 - float(dist), loaded=False))
        return found

    def passages_by_id(self, ids: Sequence[str], *,
                       with_vectors: bool = False) -> list[PassageRecord]:
        """The passages among ``ids`` that the index holds."""
        include = ["metadatas", "documents", *(["embeddings"] if with_vectors else [])]
        return _records(self.call(lambda: self.passages.get(ids=list(ids), include=include)),
                        with_vectors)

    def passages_of(self, article_ids: Iterable[str], *,
                    with_vectors: bool = False) -> list[PassageRecord]:
        """All passages of these articles."""
        include = ["metadatas", "documents", *(["embeddings"] if with_vectors else [])]
        where = {"article_id": {"$in": sorted(article_ids)}}
        got = self.call(lambda: self.passages.get(where=where, include=include))
        return _records(got, with_vectors)

    def article_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """article id -> its mean vector, for the articles among ``ids`` that are indexed."""
        if not ids:
            return {}
        got = self.call(lambda: self.articles.get(ids=list(ids), include=["embeddings"]))
        if got.get("embeddings") is None:
            return {}
        return {a: np.asarray(e, dtype=np.float32)
                for a, e in zip(got["ids"], got["embeddings"], strict=False)}

    def article_metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """article id -> metadata, for the articles among ``ids`` that are indexed."""
        got = self.call(lambda: self.articles.get(ids=list(ids), include=["metadatas"]))
        return {a: dict(m or {}) for a, m in zip(got["ids"], got["metadatas"] or [],
                                                 strict=False)}

    def articles_where(self, where: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """article id -> metadata of the articles whose metadata matches ``where``."""
        got = self.call(lambda: self.articles.get(where=dict(where), include=["metadatas"]))
        return {a: dict(m or {}) for a, m in zip(got["ids"], got["metadatas"] or [],
                                                 strict=False)}

    def article_records(self, page: int = 5000) -> dict[str, dict[str, Any]]:
        """article id -> metadata of every indexed article."""
        found: dict[str, dict[str, Any]] = {}
        for offset in range(0, self.call(self.articles.count), page):
            got = self.call(partial(self.articles.get, include=["metadatas"], limit=page,
                                    offset=offset))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[article_id] = dict(meta or {})
        return found

    def nearest_articles(self, vectors: Sequence[Sequence[float]],
                         n: int) -> list[list[ArticleHit]]:
        """Per vector, the ``n`` nearest indexed articles with their bodies."""
        if not vectors:
            return []
        got = self.call(lambda: self.articles.query(
            query_embeddings=[list(v) for v in vectors], n_results=n,
            include=["metadatas", "documents", "distances"]))
        return [[ArticleHit(a, 1.0 - float(d), dict(m or {}), doc or "")
                 for a, m, doc, d in zip(ids, metas, docs, dists, strict=True)]
                for ids, metas, docs, dists in zip(got["ids"], got["metadatas"],
                                                   got["documents"], got["distances"],
                                                   strict=True)]

    # ---- reads -------------------------------------------------------------------------
    def article_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """content_hash of the articles already indexed among ``ids``."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), WRITE_BATCH):
            got = self.call(partial(self._article_metas, list(ids[start : start + WRITE_BATCH])))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[article_id] = str((meta or {}).get("content_hash", ""))
        return found

    def _article_metas(self, ids: list[str]) -> Any:
        return self.articles.get(ids=ids, include=["metadatas"])

    def _upsert_passages(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]],
                         vectors: list[Any]) -> None:
        self.passages.upsert(ids=ids, documents=texts, metadatas=metas, embeddings=vectors)

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

    def articles_by_origin(self, origins: Sequence[str]) -> dict[str, tuple[str, str]]:
        """origin -> (article id, published_at) of indexed articles read from ``origins``
        (feed entry links): a repeated feed ingest skips those entries' pages."""
        wanted = list(dict.fromkeys(o for o in origins if o))
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), WRITE_BATCH):
            part = wanted[start : start + WRITE_BATCH]
            where = {"origin": {"$in": part}}
            got = self.call(partial(self.articles.get, where=where, include=["metadatas"]))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                meta = meta or {}
                found[str(meta.get("origin", ""))] = (article_id, str(meta.get("published_at", "")))
        return found

    def count(self) -> tuple[int, int]:
        """(articles, passages)."""
        return self.articles.count(), self.passages.count()

    def article_summary(self) -> dict[str, Any]:
        """Outlets and date span of the stored articles (``sources``, ``first_date``,
        ``last_date``) and their counts (``articles``, ``passages``): every abstention says
        what the index covers. Kept until a write here or, on local disk, the index's write
        generation changes (every writer bumps it; counting 100k passages in Chroma costs
        ~15 ms); on a Chroma server, until the counts change. The lexical index's table of
        articles answers in milliseconds; without it (or while it is being repaired) every
        article's metadata is read, ~20 s at 45k articles."""
        directory = self.directory
        local = directory is not None
        counts = None if local else self.count()
        key = (counts, read_generation(directory) if directory else "", self._writes)
        cached = self._summary
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        counts = counts or self.count()
        if self.lexical is not None and local and not self.lexical.is_dirty():
            # local only: a server's other clients may have written what the cache lacks
            sources, first, last = self.lexical.coverage()
        else:
            metas = self.all_article_metadata()
            dates = sorted(str(m["published_at"])[:10] for m in metas if m.get("published_at"))
            sources = sorted({str(m["source"]) for m in metas if m.get("source")})
            first, last = (dates[0], dates[-1]) if dates else ("", "")
        summary = {"sources": sources, "first_date": first, "last_date": last,
                   "articles": counts[0], "passages": counts[1]}
        self._summary = (key, summary)
        return dict(summary)

    def all_article_metadata(self) -> list[dict[str, Any]]:
        """Every article's metadata with its ``id``, read page by page (one read of a large
        collection fails in Chroma: "too many SQL variables" at ~40k articles)."""
        return [dict(m, id=i) for i, m in self.article_records().items()]

    # ---- writes ------------------------------------------------------------------------
    def write_batch(self, batch: list[ArticleWrite]) -> None:
        """Upsert the chunks of several articles, drop their stale chunks, then commit the
        article records (one Chroma call each: per-article calls cost ~20x more)."""
        self._writes += 1
        ids = [i for w in batch for i in w.chunk_ids]
        if ids:
            texts = [t for w in batch for t in w.chunk_texts]
            metas = [m for w in batch for m in w.chunk_metas]
            vectors = np.concatenate([w.vectors for w in batch])
            for start in range(0, len(ids), WRITE_BATCH):
                part = slice(start, start + WRITE_BATCH)
                self.call(partial(self._upsert_passages, ids[part], texts[part], metas[part],
                                  vectors[part].tolist()))
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
                    sentences=w.sentences,
                )
        self.call(lambda: self.articles.upsert(
            ids=[w.meta["article_id"] for w in batch],
            documents=[w.body for w in batch],
            metadatas=[w.meta for w in batch],
            embeddings=[m.tolist() for m in means],
        ))

    def articles_containing(self, text: str) -> list[str]:
        """Ids of the articles whose body contains ``text`` (case-sensitive): who is mentioned
        where (``assistant.statements``)."""
        got = self.call(lambda: self.articles.get(where_document={"$contains": text},
                                                  include=[]))
        return list(got["ids"])

    def chunk_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """n_chunks of the articles already indexed among ``ids``."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), WRITE_BATCH):
            got = self.call(partial(self._article_metas, list(ids[start : start + WRITE_BATCH])))
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                found[article_id] = int((meta or {}).get("n_chunks", 0))
        return found

    def delete_article(self, article_id: str) -> None:
        self._writes += 1
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


def _records(got: Mapping[str, Any], with_vectors: bool) -> list[PassageRecord]:
    vectors = got.get("embeddings") if with_vectors else None
    return [
        PassageRecord(chunk_id, doc or "", dict(meta or {}),
                      None if vectors is None or len(vectors) <= i
                      else np.asarray(vectors[i], dtype=np.float32))
        for i, (chunk_id, doc, meta) in enumerate(zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False))
    ]


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
