"""Text clean-up shared by all loaders: the body the index stores and citations point into."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str) -> str:
    """NFC-normalise, drop control characters, collapse spaces; paragraphs stay ``\\n\\n`` apart."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_field(value: object) -> str:
    """A one-line metadata field (title, source, url)."""
    return _SPACES.sub(" ", str(value).replace("\n", " ")).strip()


def normalise_date(value: str) -> str:
    """An ISO 8601 date or date-time, as given but validated; raises ValueError otherwise."""
    value = value.strip()
    if not value:
        return ""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise ValueError(f"published_at {value!r} is not an ISO 8601 date") from None


def date_key(value: str) -> int:
    """``2024-05-17`` -> ``20240517`` (0 when unknown): an integer Chroma can range-filter."""
    return int(value[:10].replace("-", "")) if value else 0
