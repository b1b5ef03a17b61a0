"""Every error a user can act on, under one base ``NewsAssistantError``.

The CLI maps each type to a one-line message and an exit code (``exit_code``); the UI shows
the message. ``InvalidRequest`` is also a ``ValueError`` (what callers caught before)."""

from __future__ import annotations

from ingest.errors import IndexOpenError, IngestError, NewsAssistantError, SourceError

__all__ = [
    "EXIT_CODES",
    "IndexOpenError",
    "IngestError",
    "InvalidRequest",
    "LLMError",
    "NewsAssistantError",
    "SourceError",
    "exit_code",
]


class InvalidRequest(NewsAssistantError, ValueError):
    """A request the API refuses: an empty question, unknown or malformed filters, a date
    span whose start is after its end, an unknown answer mode."""


class LLMError(NewsAssistantError):
    """The endpoint failed; the message names the endpoint and the cause.

    ``kind`` is one of ``unreachable``, ``timeout``, ``auth``, ``not_found``, ``context``,
    ``http``, ``broken``; ``context_tokens`` is the endpoint's context size when it said so;
    ``retryable``: another try may succeed (connection failures, 408, 409, 429, 5xx).
    """

    def __init__(
        self, message: str, kind: str, context_tokens: int = 0, *, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.context_tokens = context_tokens
        self.retryable = retryable


# most specific first: the CLI's exit code of each error type
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidRequest, 2),
    (IngestError, 3),
    (IndexOpenError, 4),
    (LLMError, 5),
    (NewsAssistantError, 1),
)


def exit_code(error: BaseException) -> int:
    """The CLI's exit code for ``error`` (2 for other ``ValueError``/``OSError``, else 1)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 2 if isinstance(error, (ValueError, OSError)) else 1
