"""Sentence vectors computed once at ingest, so that an extractive answer does not embed the
sentences of its passages at question time (it spent ~70 % of its time doing so).

Each passage's sentences are found by ``ingest.sentences.sentence_spans`` on the passage text
(the same function, on the same text, as at question time) and embedded with the embedder's
``embed_sentences`` (``ingest.embedding``). The spans are stored with the vectors: a reader
whose splitting has changed since (new boundary rules) uses only the spans that still match
and embeds the rest. They live in the passage's read copy in the lexical index, so they are
deleted and replaced with their article. So are the sentences' answer-phrase candidates
(``ingest.sentence_pieces``), parsed here once instead of at every question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ingest.embedding import Embedder, embed_sentences
from ingest.sentence_pieces import Piece, decode_pieces, parse_pieces
from ingest.sentences import SPLIT_VERSION, sentence_spans


@dataclass(frozen=True)
class SentenceVectors:
    """The sentences of one passage: ``text[start:end]`` per span, one vector row each."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (len(spans), dimension), float32
    # per span, when parsed at ingest; as read from the index, still encoded (``lookup_pieces``
    # decodes them: most passages read are never quoted)
    pieces: object = None
    split: str = ""  # the splitter's SPLIT_VERSION that found the spans ("" when unknown)

    def lookup(self) -> dict[tuple[int, int], np.ndarray]:
        return {span: self.vectors[i] for i, span in enumerate(self.spans)}

    def lookup_pieces(self) -> dict[tuple[int, int], tuple[Piece, ...]]:
        pieces = self.pieces if isinstance(self.pieces, tuple) else decode_pieces(self.pieces)
        if pieces is None or len(pieces) != len(self.spans):
            return {}
        return dict(zip(self.spans, pieces, strict=True))


def embed_passage_sentences(texts: Sequence[str], embedder: Embedder) -> list[SentenceVectors]:
    """The sentence vectors of each passage text, from one embedder call for all of them
    (their pieces come from ``with_pieces``)."""
    spans = [tuple(sentence_spans(text)) for text in texts]
    sentences = [text[s:e] for text, found in zip(texts, spans, strict=True) for s, e in found]
    vectors = embed_sentences(embedder, sentences) if sentences else np.zeros((0, 0), "float32")
    out, offset = [], 0
    for found in spans:
        out.append(SentenceVectors(found, np.asarray(vectors[offset : offset + len(found)],
                                                     dtype=np.float32), split=SPLIT_VERSION))
        offset += len(found)
    return out


def spans_of(text: str, stored: SentenceVectors | None) -> list[tuple[int, int]]:
    """The sentence spans of a passage ``text``: the ones stored with it at ingest when the
    splitter has not changed since (splitting costs ~0.3 ms a passage, ~10 passages an
    answer), else ``sentence_spans(text)``."""
    if stored is not None and stored.split == SPLIT_VERSION:
        return list(stored.spans)
    return sentence_spans(text)


def with_pieces(texts: Sequence[str], found: Sequence[SentenceVectors]) -> list[SentenceVectors]:
    """``found`` (the sentences of each passage text) with every sentence's pieces, from one
    spaCy pass over all of them."""
    sentences = [text[s:e] for text, item in zip(texts, found, strict=True) for s, e in item.spans]
    pieces = parse_pieces(sentences) if sentences else []
    out, offset = [], 0
    for item in found:
        out.append(replace(item, pieces=tuple(pieces[offset : offset + len(item.spans)])))
        offset += len(item.spans)
    return out
