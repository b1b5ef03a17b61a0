"""Sentence vectors computed once at ingest, so that an extractive answer does not embed the
sentences of its passages at question time (it spent ~70 % of its time doing so).

Each passage's sentences are found by ``ingest.sentences.sentence_spans`` on the passage text
(the same function, on the same text, as at question time) and embedded with the embedder's
``embed_sentences`` (``ingest.embedding``). The spans are stored with the vectors: a reader
whose splitting has changed since (new boundary rules) uses only the spans that still match
and embeds the rest. They live in the passage's read copy in the lexical index, so they are
deleted and replaced with their article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.embedding import Embedder, embed_sentences
from ingest.sentences import sentence_spans


@dataclass(frozen=True)
class SentenceVectors:
    """The sentences of one passage: ``text[start:end]`` per span, one vector row each."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (len(spans), dimension), float32

    def lookup(self) -> dict[tuple[int, int], np.ndarray]:
        return {span: self.vectors[i] for i, span in enumerate(self.spans)}


def embed_passage_sentences(texts: Sequence[str], embedder: Embedder) -> list[SentenceVectors]:
    """The sentence vectors of each passage text, from one embedder call for all of them."""
    spans = [tuple(sentence_spans(text)) for text in texts]
    sentences = [text[s:e] for text, found in zip(texts, spans, strict=True) for s, e in found]
    vectors = embed_sentences(embedder, sentences) if sentences else np.zeros((0, 0), "float32")
    out, offset = [], 0
    for found in spans:
        out.append(SentenceVectors(found, np.asarray(vectors[offset : offset + len(found)],
                                                     dtype=np.float32)))
        offset += len(found)
    return out
