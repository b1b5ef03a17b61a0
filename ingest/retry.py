"""Bounded retries of Chroma calls that fail for a moment: a Chroma server that is busy,
restarting or briefly unreachable (500 "InternalError", 429, a dropped connection). Our writes
are upserts and deletes by id, so repeating one is harmless. Anything else (a bad argument, a
missing collection, a wrong dimension) is raised at once.

A local index has no such moments once writers hold its lock (``ingest.locking``); there, the
one transient failure is a client that cached a collection before another process filled it
("Nothing found on disk"), which ``on_retry`` repairs by reopening the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

ATTEMPTS = 4  # tries in all
BACKOFF = 0.25  # seconds before the first retry, doubled each time: at most ~1.75 s waiting
STALE_READER = "Nothing found on disk"


def is_transient(error: BaseException) -> bool:
    """Whether trying the same Chroma call again may succeed."""
    import httpx
    from chromadb.errors import InternalError, RateLimitError

    if isinstance(error, (InternalError, RateLimitError, httpx.TransportError)):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in (429, 502, 503, 504)
    return False


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    on_retry: Callable[[BaseException], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, tried up to ``attempts`` times while it fails transiently, with backoff;
    ``on_retry(error)`` runs before each new try. The last error is raised unchanged."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if attempt == attempts - 1 or not is_transient(error):
                raise
            if on_retry is not None:
                on_retry(error)
            sleep(BACKOFF * 2**attempt)
    raise AssertionError("unreachable")  # the loop returns or raises
