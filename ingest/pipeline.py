"""Ingest: load -> clean -> chunk -> embed -> upsert, with a summary of what happened."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.chunking import chunk_article, make_splitter
from ingest.cleaning import date_key
from ingest.embedding import Embedder
from ingest.errors import IngestError
from ingest.loaders import expand_paths, load_path
from ingest.records import Article, IndexedArticles, KnownArticle
from ingest.sentence_vectors import embed_passage_sentences, with_pieces
from ingest.statement_stage import extract_batch, plan_vectors
from ingest.statement_store import StatementWrite
from ingest.store import ArticleWrite, NewsStore

if TYPE_CHECKING:  # datasketch costs ~0.5 s to import: only ingest pays for it
    from ingest.dedup import DuplicateFinder, Syndication

EMBED_BATCH_CHUNKS = 256
DEMO_CORPUS = Path(__file__).parent / "demo" / "articles.jsonl"


@dataclass
class IngestReport:
    """What an ingest run did. ``failed`` holds one error per bad file, line or URL."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[IngestError] = field(default_factory=list)
    # added or updated articles that are copies of a story already indexed (see ingest.dedup)
    syndicated: list[str] = field(default_factory=list)
    chunks_written: int = 0
    statements_written: int = 0
    seconds: float = 0.0
    statement_seconds: float = 0.0  # the NLP stage: extracting statements (not embedding)
    piece_seconds: float = 0.0  # the NLP stage: parsing sentences for answer phrases

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "failed": [{"where": e.where, "reason": e.reason} for e in self.failed],
            "syndicated": len(self.syndicated),
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 2),
        }

    def summary(self) -> str:
        copies = f", {len(self.syndicated)} syndicated copies" if self.syndicated else ""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed "
            f"({self.chunks_written} passages written in {self.seconds:.1f} s{copies})"
        )


ProgressHook = Callable[[int, int], None]  # (articles done, articles total)


SourceItem = Article | IngestError | KnownArticle


@dataclass(frozen=True)
class SourceReader:
    """Files, folders and URLs to read (``collect_articles``). Iterating reads them; ``read``
    with an index lets feeds skip the entries it already holds (same link and date)."""

    sources: tuple[str | Path, ...]

    def __iter__(self) -> Iterator[SourceItem]:
        return self.read(None)

    def read(self, index: IndexedArticles | None) -> Iterator[SourceItem]:
        for source in self.sources:
            text = str(source)
            if text.startswith(("http://", "https://")):
                from ingest.remote import load_url

                yield from load_url(text, index=index)
                continue
            for path in expand_paths([source]):
                if isinstance(path, IngestError):
                    yield path
                else:
                    yield from load_path(path, index=index)


def collect_articles(sources: Iterable[str | Path]) -> SourceReader:
    """Articles from files, folders and URLs; bad inputs come back as ``IngestError``."""
    return SourceReader(tuple(sources))


def ingest_articles(
    items: Iterable[SourceItem],
    store: NewsStore,
    embedder: Embedder,
    *,
    on_progress: ProgressHook | None = None,
    statements: bool = True,
    pieces: bool = True,
) -> IngestReport:
    """Index articles; unchanged ones (same content hash) are skipped, changed ones replaced.

    Given ``collect_articles(...)``, the sources are read with ``store`` at hand, so a feed's
    entries already indexed (same link and date) are counted unchanged without fetching them.
    Sources are read first; then the run holds the index's write lock (``NewsStore.write_lock``):
    a second ingest of the same index waits for this one and finds its articles unchanged.
    ``statements`` and ``pieces`` (answer-phrase candidates) are the NLP stage's two parts;
    without them, who-said-what finds nothing new and answers parse their sentences when
    asked."""
    started = time.perf_counter()
    report = IngestReport()
    articles: dict[str, Article] = {}
    already: list[str] = []
    for item in items.read(store) if isinstance(items, SourceReader) else items:
        if isinstance(item, IngestError):
            report.failed.append(item)
        elif isinstance(item, KnownArticle):
            already.append(item.id)
        else:
            articles[item.id] = item  # a repeated id in one run: the last one wins
    report.unchanged += [i for i in dict.fromkeys(already) if i not in articles]
    with store.write_lock():
        if store.lexical is not None:
            from ingest.lexical import repair_if_needed

            repair_if_needed(store.lexical, store)  # a writer before may have stopped half-way
        _index_articles(articles, store, embedder, report, on_progress, statements=statements,
                        pieces=pieces)
    report.seconds = time.perf_counter() - started
    return report


def _index_articles(
    articles: dict[str, Article],
    store: NewsStore,
    embedder: Embedder,
    report: IngestReport,
    on_progress: ProgressHook | None,
    *,
    statements: bool = True,
    pieces: bool = True,
) -> None:
    total = len(articles) + len(report.unchanged)  # feed entries known already are counted
    known = store.article_hashes(list(articles))
    todo: list[Article] = []
    for article in articles.values():
        if known.get(article.id) == article.content_hash:
            report.unchanged.append(article.id)
        else:
            todo.append(article)
    done = len(report.unchanged)
    if on_progress:
        on_progress(done, total)
    splitter = make_splitter(embedder.count_tokens)
    from ingest.dedup import DuplicateFinder

    finder = DuplicateFinder(store)
    copies = finder.exact_copies(todo)  # not embedded: they share another copy's passages
    # Writing batch n (Chroma, lexical index) overlaps embedding batch n + 1; writes stay in
    # order, one at a time, so an article's record is still committed after its passages.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer") as writer:
        pending: Future[None] | None = None
        pending_batch: list[tuple[Article, list[Any], Syndication]] = []
        for batch in _batches([a for a in todo if a.id not in copies], splitter):
            texts = [embed_text(a, c.text) for a, chunks in batch for c in chunks]
            said = _extract(batch, report) if statements else [[] for _ in batch]
            plan = plan_vectors(batch, said)
            vectors = embedder.embed(texts + plan.texts)
            said_vectors, vectors = plan.take(vectors, len(texts)), vectors[: len(texts)]
            chunk_texts = [c.text for _, cs in batch for c in cs]
            sentences = embed_passage_sentences(chunk_texts, embedder)
            if pieces:
                started = time.perf_counter()
                sentences = with_pieces(chunk_texts, sentences)
                report.piece_seconds += time.perf_counter() - started
            previous = store.chunk_counts([a.id for a, _ in batch if a.id in known])
            parts, sentence_parts, offset = [], [], 0
            for _, chunks in batch:
                parts.append(vectors[offset : offset + len(chunks)])
                sentence_parts.append(sentences[offset : offset + len(chunks)])
                offset += len(chunks)
            places = finder.place([(a, v) for (a, _), v in zip(batch, parts, strict=True)])
            writes = [
                _article_write(a, chunks, v, previous.get(a.id, 0), syn, sv)
                for (a, chunks), v, syn, sv in zip(batch, parts, places, sentence_parts,
                                                   strict=True)
            ]
            _attach_statements(writes, said, said_vectors, report)
            if pending is not None:
                pending.result()
                done = _account(pending_batch, known, report, done, total, on_progress)
            pending = writer.submit(_write_and_flush, store, writes)
            pending_batch = [(a, c, syn) for (a, c), syn in zip(batch, places, strict=True)]
        if pending is not None:
            pending.result()
            done = _account(pending_batch, known, report, done, total, on_progress)
    if copies:
        _write_copies([a for a in todo if a.id in copies], copies, finder, store, known, report)
        if on_progress:
            on_progress(total, total)
        store.flush()


def _extract(batch: list[tuple[Article, list[Any]]], report: IngestReport) -> list[list[Any]]:
    started = time.perf_counter()
    found = extract_batch(batch)
    report.statement_seconds += time.perf_counter() - started
    return found


def _attach_statements(
    writes: list[ArticleWrite], said: list[list[Any]], vectors: Any, report: IngestReport
) -> None:
    """Each article's statements (and their vectors) go with its write."""
    offset = 0
    for write, found in zip(writes, said, strict=True):
        keep = ("title", "source", "url", "published_at", "published_key", "group_id")
        meta = {k: write.meta[k] for k in keep if k in write.meta}
        part = vectors[offset : offset + len(found)]
        write.statements = StatementWrite(write.meta["article_id"], found, part, meta)
        offset += len(found)
        report.statements_written += len(found)


def _write_and_flush(store: NewsStore, writes: list[ArticleWrite]) -> None:
    store.write_batch(writes)
    store.flush()


def _account(
    batch: list[tuple[Article, list[Any], Syndication]],
    known: dict[str, str],
    report: IngestReport,
    done: int,
    total: int,
    on_progress: ProgressHook | None,
) -> int:
    """Count a written batch in the report; returns the new number of articles done."""
    for article, chunks, syn in batch:
        (report.updated if article.id in known else report.added).append(article.id)
        report.chunks_written += len(chunks)
        if syn.group_id != article.id:
            report.syndicated.append(article.id)
    done += len(batch)
    if on_progress:
        on_progress(done, total)
    return done


def embed_text(article: Article, chunk_text: str) -> str:
    """What gets embedded: the headline gives short chunks their topic."""
    return f"{article.title}\n{chunk_text}" if article.title else chunk_text


def _batches(todo: list[Article], splitter: Any) -> Iterator[list[tuple[Article, list[Any]]]]:
    batch: list[tuple[Article, list[Any]]] = []
    size = 0
    for article in todo:
        chunks = chunk_article(article.body, splitter)
        batch.append((article, chunks))
        size += len(chunks)
        if size >= EMBED_BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _write_copies(
    articles: list[Article],
    copies: dict[str, Syndication],
    finder: DuplicateFinder,
    store: NewsStore,
    known: dict[str, str],
    report: IngestReport,
) -> None:
    """Article records of exact copies, written after the copies they point at: the text,
    outlet and the shared mean vector, no passages (old ones of the article are dropped)."""
    previous = store.chunk_counts([a.id for a in articles if a.id in known])
    writes = []
    for article in articles:
        syn = finder.resolve(copies[article.id])
        vector = finder.copy_vector(syn)
        if vector is None:  # the copy was deleted meanwhile; the next run embeds this one
            report.failed.append(IngestError(
                article.origin or article.id,
                f"its identical copy {syn.duplicate_of} vanished during ingest; ingest again"))
            continue
        old_chunks = previous.get(article.id, 0)
        writes.append(_article_write(article, [], vector[None, :], old_chunks, syn))
        (report.updated if article.id in known else report.added).append(article.id)
        report.syndicated.append(article.id)
    for start in range(0, len(writes), EMBED_BATCH_CHUNKS):
        store.write_batch(writes[start : start + EMBED_BATCH_CHUNKS])


def _article_write(
    article: Article, chunks: list[Any], vectors: Any, previous: int, syndication: Syndication,
    sentences: list[Any] | None = None,
) -> ArticleWrite:
    common = {
        "article_id": article.id,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published_at": article.published_at,
        "published_key": date_key(article.published_at),
        "group_id": syndication.group_id,  # one group per story, across outlets' copies
    }
    return ArticleWrite(
        meta=dict(
            common,
            content_hash=article.content_hash,
            n_chunks=len(chunks),
            origin=article.origin[:500],
            body_key=syndication.body_key,
            duplicate_of=syndication.duplicate_of,
        ),
        body=article.body,
        chunk_ids=[f"{article.id}#{c.index}" for c in chunks],
        chunk_texts=[c.text for c in chunks],
        chunk_metas=[dict(common, chunk_index=c.index, start=c.start, end=c.end) for c in chunks],
        vectors=vectors,
        previous_chunks=previous,
        sentences=sentences,
    )
