"""Error types shared by the whole project; messages name the file, line or URL at fault.

``NewsAssistantError`` is the base of every error a user can act on. It lives here because
``ingest`` may not import ``assistant``; ``assistant.errors`` re-exports it with the errors of
asking (``LLMError``, ``InvalidRequest``)."""

from __future__ import annotations


class NewsAssistantError(Exception):
    """Base of the errors the CLI and the UI report as one line (see ``assistant.errors``)."""


class IngestError(NewsAssistantError):
    """An input that cannot be ingested. ``where`` is a path (with ``:line``) or a URL."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class SourceError(IngestError):
    """A URL or feed that could not be fetched or parsed."""


class IndexOpenError(NewsAssistantError):
    """The index cannot be opened or is incompatible (e.g. built with another embedder)."""
