"""The NLP stage of ingest: statements of a batch of articles and the texts their vectors
come from.

A statement's vector is the embedding of its sentence under the article's headline; where
that sentence is most of a passage (short articles, one-sentence items), the passage's own
vector (headline + passage, embedded anyway) stands in for it, which saves embedding nearly
the same text twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.records import Article
from ingest.statement_store import embed_text
from ingest.statements import ExtractedStatement, extract_many

SHARE_PASSAGE_VECTOR = 0.6  # the sentence covers at least this share of the passage


@dataclass
class StatementVectors:
    """Where each statement's vector comes from: a passage (index into the batch's passage
    texts) or a text of its own (appended after them)."""

    texts: list[str] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)  # ("passage" | "own", index)

    def take(self, vectors: np.ndarray, n_passages: int) -> np.ndarray:
        rows = [vectors[i] if kind == "passage" else vectors[n_passages + i]
                for kind, i in self.sources]
        return np.asarray(rows) if rows else np.zeros((0, vectors.shape[1]), dtype=vectors.dtype)


def extract_batch(batch: Sequence[tuple[Article, list[Any]]]) -> list[list[ExtractedStatement]]:
    return extract_many([article.body for article, _ in batch])


def plan_vectors(
    batch: Sequence[tuple[Article, list[Any]]], said: Sequence[Sequence[ExtractedStatement]]
) -> StatementVectors:
    plan = StatementVectors()
    first_chunk = 0
    for (article, chunks), found in zip(batch, said, strict=True):
        for statement in found:
            index = _covering_chunk(chunks, statement)
            if index is not None:
                plan.sources.append(("passage", first_chunk + index))
            else:
                plan.sources.append(("own", len(plan.texts)))
                plan.texts.append(embed_text(article.title, statement))
        first_chunk += len(chunks)
    return plan


def _covering_chunk(chunks: Sequence[Any], statement: ExtractedStatement) -> int | None:
    sentence = statement.sentence_end - statement.sentence_start
    for i, chunk in enumerate(chunks):
        if chunk.start <= statement.sentence_start and statement.sentence_end <= chunk.end:
            return i if sentence >= SHARE_PASSAGE_VECTOR * (chunk.end - chunk.start) else None
    return None
