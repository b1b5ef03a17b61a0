"""Error types of ingest; messages name the file, line or URL at fault."""

from __future__ import annotations


class IngestError(Exception):
    """An input that cannot be ingested. ``where`` is a path (with ``:line``) or a URL."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class SourceError(IngestError):
    """A URL or feed that could not be fetched or parsed."""
