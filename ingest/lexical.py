"""BM25 over the passages: a persistent, incremental inverted index (tantivy) beside Chroma,
which also keeps a read copy of each passage (text, metadata, vector as float16) and a table
of articles (outlet, date, story group), so that a search needs nothing from Chroma but the
nearest-neighbour ids: Chroma spends ~4 ms fetching the documents and metadata of 50 results at
100k passages and ~5-10 ms per lookup by id, tantivy ~0.5 ms for both (docs/benchmarks.md).

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

Consistency: Chroma is the source of truth; whatever is missing here is read from Chroma.
``state.sqlite`` records the content hash (and outlet, date, story group) of each article the
index holds, plus a "dirty" flag set while writes are not yet committed. At open, a local index
is re-synced from Chroma when the flag is set (a run that stopped half-way) or when the article
counts differ; a server-backed one is always compared. An index in an older format (no read
copies) is deleted and rebuilt from Chroma.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.locking import index_write_lock, is_locked
from ingest.sentence_pieces import encode_pieces

ANALYZER = "news_en"
MAX_QUERY_TERMS = 64
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
SYNC_PAGE = 500  # articles fetched from Chroma per request while syncing
FORMAT = "3"  # of the files in the directory; another format is rebuilt from Chroma
WRITER_WAIT_SECONDS = 120.0  # another process holding tantivy's writer lock: wait this long


def cache_dir_for(chroma_url: str, namespace: str = "") -> Path:
    """The local home of the lexical index of a Chroma server."""
    root = Path(os.environ.get("NEWS_ASSISTANT_CACHE") or Path.home() / ".cache" / "news-assistant")
    key = hashlib.sha1(f"{chroma_url.rstrip('/')}|{namespace}".encode()).hexdigest()[:16]
    return root / "lexical" / key


def lexical_text(title: str, text: str) -> str:
    """What is indexed for a passage: the same "title\\nchunk" the embedder sees."""
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class StoredPassage:
    """The read copy of a passage: what Chroma holds for it, vectors as float16."""

    text: str
    meta: dict[str, Any]
    vector: np.ndarray | None  # the chunk's
    article_vector: np.ndarray | None  # its article's mean; None when that is the chunk's own
    sentences: tuple[tuple[int, int], ...] = ()  # spans in ``text`` of the sentence vectors
    sentence_vectors: np.ndarray | None = None  # one row per span (written at ingest)
    # per span, parsed at ingest, still encoded (``ingest.sentence_pieces.decode_pieces``)
    sentence_pieces: object = None
    sentence_split: str = ""  # the splitter version that found ``sentences``


@dataclass(frozen=True)
class LexicalRun:
    """One BM25 run of ``LexicalIndex.search_runs``: its ``k`` best under these filters
    (date keys as ``YYYYMMDD``; 0: unbounded)."""

    k: int
    sources: tuple[str, ...] = ()
    since_key: int = 0
    until_key: int = 0


ArticleRow = tuple[str, int, str, str, str]  # hash, chunks, group id, outlet, published_at


class LexicalIndex:
    """BM25 (k1=1.2, b=0.75) over passages, with source and date filters, and the passages'
    read copies (``fetch``) and story groups (``groups``, ``members``).

    Writes are buffered until ``commit()``; a search sees the last commit.
    """

    def __init__(self, directory: str | Path) -> None:
        import tantivy

        self.directory = Path(directory)
        with _opening(self.directory):
            self._open(tantivy)
        self._pending: dict[str, ArticleRow | None] = {}  # article id -> its row | deleted
        self._flag = f"dirty:{os.getpid()}:{id(self)}"  # set while this writer has uncommitted work

    def _open(self, tantivy: Any) -> None:
        _clear_other_format(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._tantivy = tantivy
        self._schema = _schema(tantivy)
        self.index = tantivy.Index(self._schema, path=str(self.directory), reuse=True)
        self.index.register_tokenizer(ANALYZER, _analyzer(tantivy))
        self._writer: Any = None
        self._state = sqlite3.connect(str(self.directory / "state.sqlite"), check_same_thread=False)
        with self._state:
            self._state.execute(
                "CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, hash TEXT, chunks INT, "
                "group_id TEXT, source TEXT, published_at TEXT)"
            )
            self._state.execute("CREATE INDEX IF NOT EXISTS by_group ON articles (group_id)")
            self._state.execute("CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY)")
            self._state.execute(
                "CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT)")
            self._state.execute("INSERT OR IGNORE INTO info VALUES ('format', ?)", (FORMAT,))

    # ---- writes ------------------------------------------------------------------------
    def replace_article(
        self, article_id: str, content_hash: str, chunk_ids: Sequence[str],
        texts: Sequence[str], metas: Sequence[dict[str, Any]], *,
        vectors: np.ndarray | None = None, article_vector: np.ndarray | None = None,
        article_meta: Mapping[str, Any] | None = None, sentences: Sequence[Any] | None = None,
    ) -> None:
        """Drop an article's passages and add the given ones (buffered until ``commit``).
        ``vectors`` are the chunks' embeddings, ``article_vector`` the article's mean,
        ``article_meta`` its record (outlet, date, group), as written to Chroma, and
        ``sentences`` each chunk's sentence vectors (``ingest.sentence_vectors``)."""
        writer = self._open_writer()
        writer.delete_documents_by_term("article_id", article_id)
        several = article_vector is not None and len(chunk_ids) > 1
        for i, (chunk_id, text, meta) in enumerate(zip(chunk_ids, texts, metas, strict=True)):
            doc = self._tantivy.Document(
                chunk_id=chunk_id, article_id=article_id,
                text=lexical_text(str(meta.get("title", "")), text),
                source=str(meta.get("source", "")),
                published_key=int(meta.get("published_key", 0) or 0),
            )
            record: dict[str, Any] = {"text": text, "meta": meta}
            if sentences is not None and len(sentences[i].spans):
                record["sentences"] = [list(span) for span in sentences[i].spans]
                if getattr(sentences[i], "split", ""):
                    record["split"] = sentences[i].split
                pieces = sentences[i].pieces
                if pieces is not None:
                    record["pieces"] = pieces if isinstance(pieces, str) else encode_pieces(pieces)
                doc.add_bytes("sentence_vectors", _f16(sentences[i].vectors.reshape(-1)))
            doc.add_bytes("passage", json.dumps(record).encode())
            if vectors is not None:
                doc.add_bytes("vector", _f16(vectors[i]))
            if several:
                doc.add_bytes("article_vector", _f16(article_vector))
            writer.add_document(doc)
        record = dict(article_meta or (metas[0] if metas else {}))
        self._pending[article_id] = (
            content_hash, len(chunk_ids), str(record.get("group_id") or article_id),
            str(record.get("source", "")), str(record.get("published_at", "")))

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
                    self._state.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                                        (article_id, *entry))
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
        return [(chunk_id, score) for chunk_id, score, _ in self.search_loaded(
            query, k, sources=sources, since_key=since_key, until_key=until_key)]

    def search_loaded(
        self, query: str, k: int, *, sources: Iterable[str] = (), since_key: int = 0,
        until_key: int = 0,
    ) -> list[tuple[str, float, StoredPassage | None]]:
        """``search`` with each passage's read copy (read from the same document)."""
        return self.search_runs(query, [LexicalRun(k, tuple(sources), since_key, until_key)])[0]

    def search_runs(
        self, query: str, runs: Sequence[LexicalRun],
    ) -> list[list[tuple[str, float, StoredPassage | None]]]:
        """``search_loaded`` of one query under each run's filters, from one searcher: a
        passage several runs find is read once (an answer's window run finds mostly the
        passages its main run did, and reading a passage costs more than finding it)."""
        words = query_terms(query)
        if not words:
            return [[] for _ in runs]
        tantivy = self._tantivy
        parsed = self.index.parse_query(" ".join(words), ["text"])
        searcher = self.index.searcher()
        read: dict[tuple[int, int], tuple[str, StoredPassage | None]] = {}
        out: list[list[tuple[str, float, StoredPassage | None]]] = []
        for run in runs:
            if run.k < 1:
                out.append([])
                continue
            clauses = [(tantivy.Occur.Must, parsed)]
            sources = [s for s in run.sources if s]
            if sources:
                clauses.append((tantivy.Occur.Must,
                                tantivy.Query.term_set_query(self._schema, "source", sources)))
            if run.since_key or run.until_key:
                clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
                    self._schema, "published_key", tantivy.FieldType.Integer,
                    run.since_key or 0, run.until_key or 99_999_999)))
            hits = searcher.search(tantivy.Query.boolean_query(clauses), run.k, count=False).hits
            found: list[tuple[str, float, StoredPassage | None]] = []
            for score, address in hits:
                key = (address.segment_ord, address.doc)
                if key not in read:
                    doc = searcher.doc(address)
                    read[key] = (str(doc.get_first("chunk_id")), _stored_passage(doc))
                chunk_id, stored = read[key]
                found.append((chunk_id, float(score), stored))
            out.append(found)
        return out

    def fetch(self, chunk_ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Read copies of these passages (those this index holds)."""
        if not chunk_ids:
            return {}
        tantivy = self._tantivy
        searcher = self.index.searcher()
        query = tantivy.Query.term_set_query(self._schema, "chunk_id", list(chunk_ids))
        found: dict[str, StoredPassage] = {}
        for _, address in searcher.search(query, len(chunk_ids), count=False).hits:
            doc = searcher.doc(address)
            stored = _stored_passage(doc)
            if stored is not None:
                found[str(doc.get_first("chunk_id"))] = stored
        return found

    def groups(self, article_ids: Iterable[str]) -> dict[str, str]:
        """article id -> story group of the articles this index knows among ``article_ids``."""
        rows = self._rows_where_in("SELECT id, group_id FROM articles WHERE id IN ({})",
                                   article_ids)
        return {a: g or a for a, g in rows}

    def members(self, groups: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """group -> [(article id, outlet)] of all its copies, oldest first."""
        return {g: [(a, s) for a, s, _, _ in rows] for g, rows in self.member_rows(groups).items()}

    def member_rows(self, groups: Iterable[str]) -> dict[str, list[tuple[str, str, str, int]]]:
        """group -> [(article id, outlet, published_at, passages)] of all its copies, oldest
        first (an exact copy has no passages of its own)."""
        found: dict[str, list[tuple[str, str, str, int]]] = {}
        for group, article_id, source, published, chunks in sorted(self._rows_where_in(
                "SELECT group_id, id, source, published_at, chunks FROM articles "
                "WHERE group_id IN ({})", groups), key=lambda r: (r[3] or "", r[1])):
            found.setdefault(group, []).append(
                (article_id, source or "", published or "", int(chunks or 0)))
        return found

    def _rows_where_in(self, sql: str, values: Iterable[str]) -> list[tuple[Any, ...]]:
        """``sql`` with its ``IN ({})`` filled for ``values``, 500 at a time (SQLite's limit
        on parameters is 999 in older builds)."""
        wanted = list(dict.fromkeys(values))
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            with closing(self._state.execute(sql.format(",".join("?" * len(part))), part)) as got:
                rows.extend(got.fetchall())
        return rows

    def coverage(self) -> tuple[list[str], str, str]:
        """The outlets of the articles this index holds, and their first and last day."""
        with closing(self._state.execute(
                "SELECT DISTINCT source FROM articles WHERE source != ''")) as rows:
            sources = sorted(str(r[0]) for r in rows.fetchall())
        with closing(self._state.execute(
                "SELECT MIN(substr(published_at, 1, 10)), MAX(substr(published_at, 1, 10)) "
                "FROM articles WHERE published_at != ''")) as rows:
            first, last = rows.fetchone()
        return sources, str(first or ""), str(last or "")

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
        records = store.article_records()
        truth = {a: str(m.get("content_hash", "")) for a, m in records.items()}
        mine = self.article_hashes()
        gone = [a for a in mine if a not in truth]
        todo = [a for a, h in truth.items() if mine.get(a) != h]
        for article_id in gone:
            self.delete_article(article_id)
        for start in range(0, len(todo), SYNC_PAGE):
            batch = todo[start : start + SYNC_PAGE]
            by_article: dict[str, list[tuple[int, str, str, dict[str, Any], Any]]] = {}
            for record in store.passages_of(batch, with_vectors=True):
                meta = dict(record.meta)
                by_article.setdefault(str(meta.get("article_id", "")), []).append(
                    (int(meta.get("chunk_index", 0)), record.chunk_id, record.text, meta,
                     record.vector))
            several = [a for a in batch if len(by_article.get(a, [])) > 1]
            mean_of = store.article_vectors(several)
            for article_id in batch:
                rows = sorted(by_article.get(article_id, []), key=lambda r: r[0])
                chunk_vectors = (np.asarray([r[4] for r in rows], dtype=np.float32)
                                 if rows and all(r[4] is not None for r in rows) else None)
                mean = mean_of.get(article_id)
                self.replace_article(
                    article_id, truth[article_id], [r[1] for r in rows], [r[2] for r in rows],
                    [r[3] for r in rows], vectors=chunk_vectors,
                    article_vector=None if mean is None else np.asarray(mean, dtype=np.float32),
                    article_meta=records[article_id])
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
    directory = Path(path or "news-index")
    lexical = LexicalIndex(directory / "lexical")
    # A live writer's uncommitted work is no drift: repair only what an ended one left, under
    # the index's write lock (a repair racing a writer would copy a half-written snapshot).
    if _drifted(lexical, store) and not is_locked(directory):
        with index_write_lock(directory):
            repair_if_needed(lexical, store)
    return lexical


def repair_if_needed(lexical: LexicalIndex, store: Any) -> int:
    """``sync`` when the index may have drifted from Chroma (call holding the write lock)."""
    return lexical.sync(store) if _drifted(lexical, store) else 0


def _drifted(lexical: LexicalIndex, store: Any) -> bool:
    return lexical.is_dirty() or len(lexical.article_hashes()) != store.count()[0]


def query_terms(query: str) -> list[str]:
    """Lower-cased words of a query, free of query-syntax characters; the index's analyzer
    then drops stop words and stems them."""
    words = [w.lower() for w in _WORD.findall(query)]
    # "and"/"or"/"not" are operators in tantivy's query language, and stop words anyway
    words = [w for w in words if w not in ("and", "or", "not")]
    return words[:MAX_QUERY_TERMS]


def _stored_passage(doc: Any) -> StoredPassage | None:
    payload = doc.get_first("passage")
    if payload is None:  # written without one (by a test or an old writer)
        return None
    record = json.loads(bytes(payload))
    spans = tuple((int(s), int(e)) for s, e in record.get("sentences", ()))
    rows = _vector(doc.get_first("sentence_vectors")) if spans else None
    pieces = record.get("pieces") if spans else None  # decoded when quoted, if ever
    return StoredPassage(record["text"], record["meta"], _vector(doc.get_first("vector")),
                         _vector(doc.get_first("article_vector")), spans,
                         rows.reshape(len(spans), -1) if rows is not None else None,
                         pieces, str(record.get("split", "")) if spans else "")


def _f16(vector: Any) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def _vector(raw: Any) -> np.ndarray | None:
    if raw is None:
        return None
    return np.frombuffer(bytes(raw), dtype="<f2").astype(np.float32)


@contextmanager
def _opening(directory: Path) -> Iterator[None]:
    """One opener at a time per lexical index (across processes and threads): a second one
    could find the first's new state.sqlite before its tables, take it for another format and
    remove it under the first one's feet."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory.parent / f".{directory.name}.open.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _clear_other_format(directory: Path) -> None:
    """Remove an index written in another format (it is rebuilt from Chroma at open)."""
    state = directory / "state.sqlite"
    if not state.exists():
        return
    with closing(sqlite3.connect(str(state))) as db:
        try:
            row = db.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
        except sqlite3.OperationalError:  # no info table: the first format
            row = None
    if row is None or row[0] != FORMAT:
        shutil.rmtree(directory)


def _schema(tantivy: Any) -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", stored=False, tokenizer_name=ANALYZER, index_option="freq")
    builder.add_integer_field("published_key", indexed=True, fast=True)
    builder.add_bytes_field("passage", stored=True)  # JSON {"text", "meta"}
    builder.add_bytes_field("vector", stored=True)  # float16, little-endian
    builder.add_bytes_field("article_vector", stored=True)  # only for articles of 2+ chunks
    builder.add_bytes_field("sentence_vectors", stored=True)  # float16, one row per sentence
    return builder.build()


def _analyzer(tantivy: Any) -> Any:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    for step in (tantivy.Filter.remove_long(40), tantivy.Filter.lowercase(),
                 tantivy.Filter.ascii_fold(), tantivy.Filter.stopword("english"),
                 tantivy.Filter.stemmer("english")):
        builder = builder.filter(step)
    return builder.build()
