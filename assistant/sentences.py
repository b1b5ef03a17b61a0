"""Sentence boundaries: moved to ``ingest.sentences`` (ingest splits sentences too, to embed
them once; it may not import ``assistant``). Re-exported here for existing callers."""

from ingest.sentences import sentence_spans

__all__ = ["sentence_spans"]
