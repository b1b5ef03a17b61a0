"""BM25 over the passages: a persistent, incremental inverted index (tantivy) beside Chroma.

Why tantivy: it keeps postings on disk in segments, adds and deletes documents without a
rebuild and answers a query in well under a millisecond at 100k passages (see
docs/benchmarks-retrieval.md); bm25s and rank-bm25 can only be rebuilt as a whole.

Where it lives:
- local index: ``<index dir>/lexical/``, next to Chroma's files, so it moves with the index;
- Chroma server (``chroma_url``): there is no local index directory, so the index is kept in a
  cache directory keyed by the server URL and collection namespace
  (``$NEWS_ASSISTANT_CACHE`` or ``~/.cache/news-assistant``, then ``lexical/<hash>/``). Other
  clients may write to the server, so at open the cached index is compared with the server's
  article records (id and content hash) and only the articles that differ are fetched again;
  an empty cache is filled from the server's passages collection in the same way.

Consistency: Chroma is the source of truth. ``state.sqlite`` records the content hash of each
article the lexical index holds, plus a "dirty" flag set while writes are not yet committed.
At open, a local index is re-synced from Chroma when the flag is set (a run that stopped
half-way) or when the article counts differ; a server-backed one is always compared.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

ANALYZER = "news_en"
MAX_QUERY_TERMS = 64
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
SYNC_PAGE = 500  # articles fetched from Chroma per request while syncing
WRITER_WAIT_SECONDS = 120.0  # another process holding tantivy's writer lock: wait this long


def cache_dir_for(chroma_url: str, namespace: str = "") -> Path:
    """The local home of the lexical index of a Chroma server."""
    root = Path(os.environ.get("NEWS_ASSISTANT_CACHE") or Path.home() / ".cache" / "news-assistant")
    key = hashlib.sha1(f"{chroma_url.rstrip('/')}|{namespace}".encode()).hexdigest()[:16]
    return root / "lexical" / key


def lexical_text(title: str, text: str) -> str:
    """What is indexed for a passage: the same "title\\nchunk" the embedder sees."""
    return f"{title}\n{text}" if title else text


class LexicalIndex:
    """BM25 (k1=1.2, b=0.75) over passages, with source and date filters.

    Writes are buffered until ``commit()``; a search sees the last commit.
    """

    def __init__(self, directory: str | Path) -> None:
        import tantivy

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._tantivy = tantivy
        self._schema = _schema(tantivy)
        self.index = tantivy.Index(self._schema, path=str(self.directory), reuse=True)
        self.index.register_tokenizer(ANALYZER, _analyzer(tantivy))
        self._writer: Any = None
        self._state = sqlite3.connect(str(self.directory / "state.sqlite"), check_same_thread=False)
        with self._state:
            self._state.execute(
                "CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, hash TEXT, chunks INT)"
            )
            self._state.execute("CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY)")
        self._pending: dict[str, tuple[str, int] | None] = {}  # article id -> (hash, n) | deleted
        self._flag = f"dirty:{os.getpid()}:{id(self)}"  # set while this writer has uncommitted work

    # ---- writes ------------------------------------------------------------------------
    def replace_article(
        self, article_id: str, content_hash: str, chunk_ids: Sequence[str],
        texts: Sequence[str], metas: Sequence[dict[str, Any]],
    ) -> None:
        """Drop an article's passages and add the given ones (buffered until ``commit``)."""
        writer = self._open_writer()
        writer.delete_documents_by_term("article_id", article_id)
        for chunk_id, text, meta in zip(chunk_ids, texts, metas, strict=True):
            writer.add_document(self._tantivy.Document(
                chunk_id=chunk_id, article_id=article_id,
                text=lexical_text(str(meta.get("title", "")), text),
                source=str(meta.get("source", "")),
                published_key=int(meta.get("published_key", 0) or 0),
            ))
        self._pending[article_id] = (content_hash, len(chunk_ids))

    def delete_article(self, article_id: str) -> None:
        self._open_writer().delete_documents_by_term("article_id", article_id)
        self._pending[article_id] = None

    def commit(self) -> None:
        """Make buffered writes durable and visible; releases the writer lock."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        writer.commit()
        writer.wait_merging_threads()
        with self._state:
            for article_id, entry in self._pending.items():
                if entry is None:
                    self._state.execute("DELETE FROM articles WHERE id = ?", (article_id,))
                else:
                    self._state.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?)",
                                        (article_id, entry[0], entry[1]))
            self._state.execute("DELETE FROM flags WHERE name = ?", (self._flag,))
        self._pending.clear()
        self.index.reload()

    def _open_writer(self) -> Any:
        """tantivy allows one writer per index: another process (a second ingest on this
        machine) holding it is waited for, up to ``WRITER_WAIT_SECONDS``."""
        if self._writer is None:
            with self._state:
                self._state.execute("INSERT OR IGNORE INTO flags VALUES (?)", (self._flag,))
            deadline = time.monotonic() + WRITER_WAIT_SECONDS
            while True:
                try:
                    self._writer = self.index.writer(heap_size=64_000_000, num_threads=1)
                    break
                except ValueError as error:
                    if "LockBusy" not in str(error) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        return self._writer

    # ---- reads -------------------------------------------------------------------------
    def search(
        self, query: str, k: int, *, sources: Iterable[str] = (), since_key: int = 0,
        until_key: int = 0,
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``k`` best passages, best first."""
        words = query_terms(query)
        if not words or k < 1:
            return []
        tantivy = self._tantivy
        parsed = self.index.parse_query(" ".join(words), ["text"])
        clauses = [(tantivy.Occur.Must, parsed)]
        sources = [s for s in sources if s]
        if sources:
            clauses.append((tantivy.Occur.Must,
                            tantivy.Query.term_set_query(self._schema, "source", sources)))
        if since_key or until_key:
            clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self._schema, "published_key", tantivy.FieldType.Integer,
                since_key or 0, until_key or 99_999_999)))
        searcher = self.index.searcher()
        hits = searcher.search(tantivy.Query.boolean_query(clauses), k, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]

    def count(self) -> int:
        """Passages searchable now."""
        return int(self.index.searcher().num_docs)

    def article_hashes(self) -> dict[str, str]:
        with closing(self._state.execute("SELECT id, hash FROM articles")) as rows:
            return dict(rows.fetchall())

    def is_dirty(self) -> bool:
        """Whether some writer (this or another process) has uncommitted writes, or stopped
        before committing them."""
        with closing(self._state.execute("SELECT 1 FROM flags WHERE name LIKE 'dirty%'")) as rows:
            return rows.fetchone() is not None

    # ---- repair from Chroma ------------------------------------------------------------
    def sync(self, store: Any) -> int:
        """Make this index hold exactly the passages of ``store`` (a ``NewsStore``), fetching
        only the articles whose content hash differs. Returns the number of articles redone."""
        truth = _chroma_article_hashes(store)
        mine = self.article_hashes()
        gone = [a for a in mine if a not in truth]
        todo = [a for a, h in truth.items() if mine.get(a) != h]
        for article_id in gone:
            self.delete_article(article_id)
        for start in range(0, len(todo), SYNC_PAGE):
            batch = todo[start : start + SYNC_PAGE]
            got = store.passages.get(where={"article_id": {"$in": batch}},
                                     include=["documents", "metadatas"])
            by_article: dict[str, list[tuple[int, str, str, dict[str, Any]]]] = {}
            for chunk_id, doc, meta in zip(got["ids"], got["documents"] or [],
                                           got["metadatas"] or [], strict=False):
                meta = meta or {}
                by_article.setdefault(str(meta.get("article_id", "")), []).append(
                    (int(meta.get("chunk_index", 0)), chunk_id, doc or "", meta))
            for article_id in batch:
                rows = sorted(by_article.get(article_id, []), key=lambda r: r[0])
                self.replace_article(article_id, truth[article_id], [r[1] for r in rows],
                                     [r[2] for r in rows], [r[3] for r in rows])
        if gone or todo or self.is_dirty():
            self._open_writer()
            self.commit()
            with self._state:  # now in line with Chroma: flags of stopped runs are moot
                self._state.execute("DELETE FROM flags WHERE name LIKE 'dirty%'")
        return len(gone) + len(todo)

    def close(self) -> None:
        self.commit()
        self._state.close()


def open_lexical(store: Any, *, path: str | Path | None, chroma_url: str | None,
                 namespace: str = "") -> LexicalIndex:
    """The lexical index of ``store``, brought in line with Chroma when it may have drifted."""
    if chroma_url:
        lexical = LexicalIndex(cache_dir_for(chroma_url, namespace))
        lexical.sync(store)
        return lexical
    lexical = LexicalIndex(Path(path or "news-index") / "lexical")
    if lexical.is_dirty() or len(lexical.article_hashes()) != store.articles.count():
        lexical.sync(store)
    return lexical


def query_terms(query: str) -> list[str]:
    """Lower-cased words of a query, free of query-syntax characters; the index's analyzer
    then drops stop words and stems them."""
    words = [w.lower() for w in _WORD.findall(query)]
    # "and"/"or"/"not" are operators in tantivy's query language, and stop words anyway
    words = [w for w in words if w not in ("and", "or", "not")]
    return words[:MAX_QUERY_TERMS]


def _chroma_article_hashes(store: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    total = store.articles.count()
    for offset in range(0, total, 5000):
        got = store.articles.get(include=["metadatas"], limit=5000, offset=offset)
        for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            found[article_id] = str((meta or {}).get("content_hash", ""))
    return found


def _schema(tantivy: Any) -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", stored=False, tokenizer_name=ANALYZER, index_option="freq")
    builder.add_integer_field("published_key", indexed=True, fast=True)
    return builder.build()


def _analyzer(tantivy: Any) -> Any:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    for step in (tantivy.Filter.remove_long(40), tantivy.Filter.lowercase(),
                 tantivy.Filter.ascii_fold(), tantivy.Filter.stopword("english"),
                 tantivy.Filter.stemmer("english")):
        builder = builder.filter(step)
    return builder.build()
