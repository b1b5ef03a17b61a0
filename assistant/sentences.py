"""Sentence boundaries: see ``ingest.sentences`` (ingest stores sentence vectors too, so both
sides split the same way)."""

from ingest.sentences import sentence_spans

__all__ = ["sentence_spans"]
