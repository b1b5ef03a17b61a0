"""The "Add news" tab's work: check uploads and URLs, then hand them to ``NewsAssistant.ingest``.

Every input is judged on its own, so one bad file or URL is reported and the rest still go in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.loaders import SUPPORTED_SUFFIXES

# The formats ingest reads; anything else is refused before it reaches the index. Uploads are
# handed to ingest by path, so binary files (PDF, Word) go in as they are.
ALLOWED_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))
DEFAULT_MAX_MB = 10.0
MAX_URLS = 20

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class AddNewsResult:
    """Counts over all inputs, and one (where, reason) line per refused or failed input."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "updated": 0, "unchanged": 0})
    failed: list[tuple[str, str]] = field(default_factory=list)

    def absorb(self, report: Any, names: dict[str, str]) -> None:
        """Add an ``IngestReport``; temp upload paths in its errors become the file's name."""
        for key in self.counts:
            self.counts[key] += len(getattr(report, key))
        for error in report.failed:
            self.failed.append((_rename(error.where, names), _rename(error.reason, names)))

    def to_dict(self) -> dict[str, Any]:
        return {**self.counts, "failed": [{"where": w, "reason": r} for w, r in self.failed]}


def _rename(text: str, names: dict[str, str]) -> str:
    for path, name in names.items():
        text = text.replace(path, name)
    return text


def check_file(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` may not be ingested, or None when it may."""
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        return (f"file type {path.suffix or '(none)'} is not accepted; use "
                + " ".join(ALLOWED_SUFFIXES))
    size = path.stat().st_size
    if size > max_bytes:
        return f"file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB"
    if size == 0:
        return "file is empty"
    return None


def split_urls(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """URLs from pasted text (one per line or space-separated) and the entries refused."""
    urls: list[str] = []
    refused: list[tuple[str, str]] = []
    for token in (text or "").split():
        if not token.lower().startswith(("http://", "https://")):
            refused.append((token, "not a URL: give an http:// or https:// address"))
        elif token not in urls:
            urls.append(token)
    if len(urls) > MAX_URLS:
        refused += [(u, f"more than {MAX_URLS} URLs at once") for u in urls[MAX_URLS:]]
        urls = urls[:MAX_URLS]
    return urls, refused


def add_news(
    bot: Any, files: Sequence[str | Path], url_text: str, *,
    max_mb: float = DEFAULT_MAX_MB, on_progress: Progress | None = None,
) -> AddNewsResult:
    """Ingest uploaded ``files`` and pasted URLs into ``bot``'s index; never raises for bad
    input, so a broken file shows up in the summary instead of breaking the app."""
    result = AddNewsResult()
    names: dict[str, str] = {}
    accepted: list[str] = []
    for item in files or []:
        path = Path(item)
        names[str(path)] = path.name  # Gradio keeps the uploaded name as the temp file's name
        reason = check_file(path, int(max_mb * 1e6))
        if reason:
            result.failed.append((path.name, reason))
        else:
            accepted.append(str(path))
    urls, refused = split_urls(url_text)
    result.failed += refused
    batches: list[list[str]] = ([accepted] if accepted else []) + [[u] for u in urls]
    for batch in batches:
        try:
            result.absorb(bot.ingest(batch, on_progress=on_progress), names)
        except Exception as error:  # an ingest bug must not take the app down; say what failed
            log.exception("ingest of %s failed", batch)
            where = ", ".join(names.get(b, b) for b in batch)
            result.failed.append((where, _rename(f"{type(error).__name__}: {error}", names)))
    return result
