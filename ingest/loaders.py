"""Read articles from files and folders: txt, md, html, json, jsonl, csv, feeds, pdf, docx.

Each loader yields ``Article`` records or ``IngestError`` values (never raises for bad input),
so one bad file or line never stops the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.cleaning import clean_field, clean_text
from ingest.documents import DOCUMENT_SUFFIXES, load_document
from ingest.errors import IngestError
from ingest.reading import read_text
from ingest.record_files import guard_record, load_csv, load_json, load_jsonl
from ingest.records import Article, IndexedArticles, KnownArticle

RECORD_FIELDS = ("id", "title", "source", "url", "published_at", "body")
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES | FEED_SUFFIXES | DOCUMENT_SUFFIXES
)
_SUFFIX_HINTS = {".doc": "; re-save old Word .doc files as .docx"}

LoadResult = Article | IngestError


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Files named, and supported files under folders (recursively, hidden ones skipped);
    a folder that cannot be read is reported and the rest of the walk goes on."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk_folder(path)
        elif path.is_file():
            yield path
        else:
            yield IngestError(str(path), "no such file or folder")


def _walk_folder(root: Path) -> Iterator[Path | IngestError]:
    errors: list[OSError] = []
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root, onerror=errors.append):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [
            Path(folder, name)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
        ]
    yield from sorted(p for p in found if p.is_file())
    for error in errors:
        reason = "permission denied" if isinstance(error, PermissionError) else error.strerror
        yield IngestError(str(error.filename), f"cannot read folder ({reason})")


def load_path(
    path: Path, *, index: IndexedArticles | None = None
) -> Iterator[LoadResult | KnownArticle]:
    """All articles of one file (a feed file's entries that ``index`` holds: ``KnownArticle``)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield IngestError(
            str(path),
            f"unsupported file type {suffix or '(none)'}; use one of "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
            + _SUFFIX_HINTS.get(suffix, ""),
        )
        return
    if suffix in DOCUMENT_SUFFIXES:
        yield from guard_record(str(path), load_document, path)
        return
    if suffix in FEED_SUFFIXES:
        yield from load_feed_file(path, index=index)
        return
    try:
        text = read_text(path)
    except IngestError as error:
        yield error
        return
    if suffix in TEXT_SUFFIXES:
        yield from guard_record(str(path), parse_text_article, text, origin=str(path))
    elif suffix in HTML_SUFFIXES:
        yield from guard_record(str(path), parse_html_article, text, origin=str(path))
    elif suffix == ".json":
        yield from load_json(text, str(path))
    elif suffix == ".csv":
        yield from load_csv(text, str(path))
    else:
        yield from load_jsonl(text, str(path))


def load_feed_file(
    path: Path, *, index: IndexedArticles | None = None
) -> Iterator[LoadResult | KnownArticle]:
    """A saved RSS/Atom feed: entries with full text as they are, others by their link."""
    from ingest.feeds import fetch_feed

    try:
        result = fetch_feed(str(path), index=index)
    except IngestError as error:
        yield error
        return
    yield from result.articles
    yield from result.known
    yield from result.failures


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
