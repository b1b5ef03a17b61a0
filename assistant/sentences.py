"""Sentence boundaries: in ``ingest.sentences`` (ingest splits sentences too, to embed them
once; it may not import ``assistant``), re-exported here, and a retrieved passage's."""

from __future__ import annotations

from assistant.results import Passage
from ingest.sentence_vectors import spans_of
from ingest.sentences import sentence_spans

__all__ = ["passage_spans", "sentence_spans"]


def passage_spans(passage: Passage) -> list[tuple[int, int]]:
    """``sentence_spans(passage.text)``, read from the spans stored at ingest when the
    splitter is unchanged since."""
    return spans_of(passage.text, passage.sentences)
