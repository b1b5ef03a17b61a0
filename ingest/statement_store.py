"""The statements of the index: a Chroma collection of their own beside the passages.

One record per attributed statement (``ingest.statements``): the verbatim text as the
document, speaker, cue, kind, offsets and the article's outlet and date as metadata, and as
the vector the embedding of the statement's sentence with the article's headline (so that
"what did X say about Y" finds Y even where the quote itself only says "the issue").

Speaker look-up works on name keys: the lower-cased words of the resolved name and of the
titles the article gives the speaker ("Chinese President Xi Jinping" -> chinese, president,
xi, jinping), stored in metadata fields ``k0`` .. ``k11`` so that Chroma filters candidates
and the caller checks the match. Statements are written with their article (replaced when it
changes, deleted with it); record ids are ``<article id>~s<n>``, so a re-run is idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.statements import ExtractedStatement, strip_titles

STATEMENTS = "news_statements"
MAX_KEYS = 12
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents: 'Zelenskyy' == 'zelenskyy', 'Müller' == 'muller'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def name_words(text: str) -> list[str]:
    """Words of a name without titles: 'Chinese President Xi Jinping' -> ['xi', 'jinping']."""
    return [w for w in _WORD.findall(fold(strip_titles(text))) if w not in ("s",)]


def all_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in ("the", "a", "an", "s", "of")]


def speaker_keys(statement: ExtractedStatement) -> list[str]:
    """Name and title words a speaker can be asked for by."""
    words: list[str] = []
    for form in (statement.speaker, statement.speaker_as_written, *statement.aliases):
        words.extend(all_words(form))
    keys = [w for w in dict.fromkeys(words) if w not in _PRONOUNS]
    return keys[:MAX_KEYS]


_PRONOUNS = {"he", "she", "it", "they", "him", "her", "we", "i"}


@dataclass
class StatementWrite:
    """The statements of one article, ready to write (after its passages)."""

    article_id: str
    statements: list[ExtractedStatement]
    vectors: np.ndarray | None  # one row per statement
    meta: dict[str, Any]  # title, source, url, published_at, published_key, group_id


def embed_text(title: str, statement: ExtractedStatement) -> str:
    """What is embedded for a statement: headline and the sentence it sits in."""
    return f"{title}\n{statement.sentence}" if title else statement.sentence


class StatementStore:
    """Read and write statement records; ``client`` is the index's Chroma client."""

    def __init__(self, client: Any, *, namespace: str = "", metadata: dict[str, Any]) -> None:
        self.collection = client.get_or_create_collection(
            namespace + STATEMENTS, metadata=metadata
        )

    def replace(self, writes: Sequence[StatementWrite]) -> None:
        """Drop the articles' old statements and write the new ones."""
        ids = [w.article_id for w in writes]
        if not ids:
            return
        self.delete_articles(ids)
        records = [(w, i, s) for w in writes for i, s in enumerate(w.statements)]
        for start in range(0, len(records), 1000):
            part = records[start : start + 1000]
            if not part:
                continue
            self.collection.add(
                ids=[f"{w.article_id}~s{i}" for w, i, _ in part],
                documents=[s.text for _, _, s in part],
                metadatas=[_metadata(w, s) for w, _, s in part],
                embeddings=[
                    _row(w.vectors, i).tolist() for w, i, _ in part
                ],
            )

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(article_ids))
        for start in range(0, len(wanted), 500):
            self.collection.delete(where={"article_id": {"$in": wanted[start : start + 500]}})

    def count(self) -> int:
        return int(self.collection.count())

    def by_keys(self, keys: Sequence[str], *, limit: int = 5000) -> list[StoredStatement]:
        """Statements whose speaker has any of ``keys`` among its name/title words."""
        keys = list(dict.fromkeys(k for k in keys if k))
        if not keys:
            return []
        clauses = [{f"k{i}": {"$in": keys}} for i in range(MAX_KEYS)]
        got = self.collection.get(
            where={"$or": clauses}, include=["documents", "metadatas", "embeddings"],
            limit=limit,
        )
        return _stored(got)

    def nearest(
        self, vector: np.ndarray, k: int, *, where: dict[str, Any] | None = None
    ) -> list[StoredStatement]:
        """The ``k`` statements nearest to ``vector`` (topic search without a speaker)."""
        total = self.count()
        if not total:
            return []
        got = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(k, total), where=where,
            include=["documents", "metadatas", "embeddings"],
        )
        flat = {key: (got.get(key) or [[]])[0] for key in ("ids", "documents", "metadatas")}
        flat["embeddings"] = (got.get("embeddings") or [[]])[0]
        return _stored(flat)

    def for_article(self, article_id: str) -> list[StoredStatement]:
        got = self.collection.get(
            where={"article_id": article_id}, include=["documents", "metadatas", "embeddings"]
        )
        return sorted(_stored(got), key=lambda s: s.start)


@dataclass(frozen=True)
class StoredStatement:
    id: str
    text: str
    meta: dict[str, Any]
    vector: np.ndarray | None

    @property
    def start(self) -> int:
        return int(self.meta.get("start", 0))

    @property
    def end(self) -> int:
        return int(self.meta.get("end", 0))

    @property
    def aliases(self) -> tuple[str, ...]:
        raw = str(self.meta.get("aliases", ""))
        return tuple(a for a in raw.split("|") if a)


def _row(vectors: np.ndarray | None, index: int) -> np.ndarray:
    if vectors is None:
        raise ValueError("statements need vectors")
    return np.asarray(vectors[index], dtype=np.float32)


def _metadata(write: StatementWrite, statement: ExtractedStatement) -> dict[str, Any]:
    meta: dict[str, Any] = dict(write.meta)
    meta.update(
        article_id=write.article_id,
        speaker=statement.speaker,
        speaker_as_written=statement.speaker_as_written,
        speaker_type=statement.speaker_type,
        cue=statement.cue,
        kind=statement.kind,
        start=statement.start,
        end=statement.end,
        sentence=statement.sentence,
        sentence_start=statement.sentence_start,
        sentence_end=statement.sentence_end,
        aliases="|".join(statement.aliases),
        previous=statement.previous,
    )
    for i, key in enumerate(speaker_keys(statement)):
        meta[f"k{i}"] = key
    return {k: v for k, v in meta.items() if v is not None}


def _stored(got: dict[str, Any]) -> list[StoredStatement]:
    ids = list(got.get("ids") or [])
    docs = list(got.get("documents") or [None] * len(ids))
    metas = list(got.get("metadatas") or [None] * len(ids))
    raw = got.get("embeddings")
    vectors = list(raw) if raw is not None else [None] * len(ids)
    return [
        StoredStatement(
            i, d or "", dict(m or {}), None if v is None else np.asarray(v, dtype=np.float32)
        )
        for i, d, m, v in zip(ids, docs, metas, vectors, strict=False)
    ]
