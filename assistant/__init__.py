"""news-assistant: cited answers over news articles.

Names load on first use, so the CLI's ``--help`` does not pay for Chroma or the model."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
_EXPORTS = {
    "NewsAssistant": "assistant.api",
    "Chat": "assistant.api",
    "Settings": "assistant.config",
    "RetrievalConfig": "assistant.config",
    "Answer": "assistant.results",
    "Citation": "assistant.results",
    "Passage": "assistant.results",
    "StreamEvent": "assistant.results",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
