"""Read articles from files and folders: txt, md, html, json, jsonl, csv.

Each loader yields ``Article`` records or ``IngestError`` values (never raises for bad input),
so one bad file or line never stops the rest.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ingest.cleaning import clean_field, clean_text, normalise_date
from ingest.errors import IngestError
from ingest.records import Article

RECORD_FIELDS = ("id", "title", "source", "url", "published_at", "body")
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES | FEED_SUFFIXES

LoadResult = Article | IngestError


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Files named, and supported files under folders (recursively, hidden ones skipped)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        elif path.is_file():
            yield path
        else:
            yield IngestError(str(path), "no such file or folder")


def load_path(path: Path) -> Iterator[LoadResult]:
    """All articles of one file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield IngestError(
            str(path),
            f"unsupported file type {suffix or '(none)'}; use one of "
            + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
        return
    if suffix in FEED_SUFFIXES:
        yield from load_feed_file(path)
        return
    try:
        text = read_text(path)
    except IngestError as error:
        yield error
        return
    if suffix in TEXT_SUFFIXES:
        yield from _guard(str(path), parse_text_article, text, origin=str(path))
    elif suffix in HTML_SUFFIXES:
        yield from _guard(str(path), parse_html_article, text, origin=str(path))
    elif suffix == ".json":
        yield from load_json(text, str(path))
    elif suffix == ".csv":
        yield from load_csv(text, str(path))
    else:
        yield from load_jsonl(text, str(path))


def load_feed_file(path: Path) -> Iterator[LoadResult]:
    """A saved RSS/Atom feed: entries with full text as they are, others by their link."""
    from ingest.feeds import fetch_feed

    try:
        result = fetch_feed(str(path))
    except IngestError as error:
        yield error
        return
    yield from result.articles
    yield from result.failures


def read_text(path: Path) -> str:
    """File contents as text; empty, binary and non-UTF-8 files raise a clear ``IngestError``."""
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(str(path), "empty file")
    if b"\x00" in data[:8192]:
        raise IngestError(str(path), "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(
            f"{path}:{line}",
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); re-save the file as UTF-8",
        ) from None


def parse_text_article(text: str, *, origin: str) -> Article:
    """``.txt``/``.md``: first line the title, an optional short second line the outlet."""
    lines = text.strip().splitlines()
    title = clean_field(lines[0].lstrip("# "))
    rest = lines[1:]
    source = ""
    if len(rest) > 1 and _looks_like_outlet(rest[0]):
        source, rest = clean_field(rest[0]), rest[1:]
    body = clean_text("\n".join(rest))
    if not body:
        raise ValueError("no body text after the title line")
    return Article(body=body, title=title, source=source, origin=origin)


def _looks_like_outlet(line: str) -> bool:
    line = line.strip()
    return (
        0 < len(line) <= 60 and not line.endswith((".", "!", "?", ":")) and len(line.split()) <= 6
    )


def parse_html_article(html: str, *, origin: str, url: str = "") -> Article:
    """An HTML page: main text, title, outlet and date by extraction (see ``ingest.web``)."""
    from ingest.web import extract_html_article

    return extract_html_article(html, url=url, origin=origin)


def record_to_article(record: object, *, origin: str) -> Article:
    """A JSON/CSV record with the fields of DESIGN.md; raises ValueError naming the bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object with a 'body' field, got {type(record).__name__}")
    body = record.get("body")
    if not isinstance(body, str) or not body.strip():
        raise ValueError("missing or empty 'body'")
    fields: dict[str, str] = {}
    for name in ("id", "title", "source", "url", "published_at"):
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
        fields[name] = clean_field(value)
    fields["published_at"] = normalise_date(fields.get("published_at", ""))
    return Article(body=clean_text(body), origin=origin, **fields)


def load_jsonl(text: str, origin: str) -> Iterator[LoadResult]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield IngestError(where, f"invalid JSON ({error.msg} at column {error.colno})")
            continue
        yield from _guard(where, record_to_article, record, origin=where)


def load_json(text: str, origin: str) -> Iterator[LoadResult]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield IngestError(f"{origin}:{error.lineno}", f"invalid JSON ({error.msg})")
        return
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        where = f"{origin}[{index}]"
        yield from _guard(where, record_to_article, record, origin=where)


def load_csv(text: str, origin: str) -> Iterator[LoadResult]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "body" not in reader.fieldnames:
        yield IngestError(
            f"{origin}:1",
            f"CSV header must name a 'body' column (found: {', '.join(reader.fieldnames or [])})",
        )
        return
    for row in reader:
        where = f"{origin}:{reader.line_num}"
        if None in row:
            yield IngestError(where, "more cells than header columns")
            continue
        record = {k: v for k, v in row.items() if v not in (None, "")}
        yield from _guard(where, record_to_article, record, origin=where)


def _guard(
    where: str, make: Callable[..., Article], *args: Any, **kwargs: Any
) -> Iterator[LoadResult]:
    """``make(...)``, with a bad record turned into an ``IngestError`` naming ``where``."""
    try:
        yield make(*args, **kwargs)
    except IngestError as error:
        yield error
    except ValueError as error:
        yield IngestError(where, str(error))
