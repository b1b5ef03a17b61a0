"""PDF (text layer, with pypdf) and Word ``.docx`` (python-docx) files as articles.

The body is the extracted text after the same clean-up as every other loader; passages and
citations point into it, so a quote is always ``body[start:end]``. The title comes from the
document's metadata, else its first heading (PDF: its first line); the date from the metadata.
Problems raise ``IngestError`` naming the file (and the page, for a PDF page that fails).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.cleaning import clean_field, clean_text
from ingest.errors import IngestError
from ingest.reading import read_bytes
from ingest.records import Article

DOCUMENT_SUFFIXES = {".pdf", ".docx"}
MAX_TITLE_CHARS = 200
# Titles some writers put in the metadata that name no document
_JUNK_TITLE = re.compile(r"^(untitled|document\d*|microsoft word - .*|.*\.(docx?|pdf|txt))$", re.I)
_SENTENCE_END = (".", "!", "?", ":", '"', "\u201d")
# python-docx's blank template says it was created then: not the document's date
_DOCX_TEMPLATE_CREATED = datetime.fromisoformat("2013-12-23T23:15:00+00:00")


def load_document(path: Path) -> Article:
    """A ``.pdf`` or ``.docx`` file as one article."""
    data = read_bytes(path)
    if not data.strip():
        raise IngestError(str(path), "empty file")
    if path.suffix.lower() == ".pdf":
        return pdf_article(data, origin=str(path))
    return docx_article(data, origin=str(path))


# ---- PDF ---------------------------------------------------------------------------------


def pdf_article(data: bytes, *, origin: str) -> Article:
    """The text layer of a PDF; a PDF without one (a scan) raises ``IngestError``."""
    reader = _open_pdf(data, origin)
    pages = [_page_text(page, number, origin) for number, page in enumerate(reader.pages, 1)]
    paragraphs = [p for text in pages for p in reflow(text)]
    if not paragraphs:
        raise IngestError(origin, "no text layer (scanned?); run OCR on it first")
    info: Any = reader.metadata or {}
    title = _metadata_title(getattr(info, "title", None))
    if not title and len(paragraphs) > 1 and len(paragraphs[0]) <= MAX_TITLE_CHARS:
        title = paragraphs[0]
    if title and clean_field(paragraphs[0]).casefold() == title.casefold():
        paragraphs = paragraphs[1:]  # the headline is the title, not the first paragraph
    return Article(
        body=clean_text("\n\n".join(paragraphs)),
        title=title,
        published_at=_iso(_pdf_date(info)),
        origin=origin,
    )


def _open_pdf(data: bytes, origin: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf logs every repair it makes ("EOF marker not found"); failures are raised anyway
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(origin, "the PDF is password-protected")
        len(reader.pages)  # reads the page tree: a broken one fails here, not half-way
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError) as error:
        raise IngestError(origin, f"not a readable PDF ({type(error).__name__}: {error})") from None
    return reader


def _page_text(page: Any, number: int, origin: str) -> str:
    try:
        return str(page.extract_text() or "")
    except Exception as error:  # pypdf raises many kinds on a damaged page
        raise IngestError(
            f"{origin} (page {number})", f"cannot extract text ({type(error).__name__})"
        ) from None


def reflow(page_text: str) -> list[str]:
    """Paragraphs of a page's text: layout line breaks inside a paragraph become spaces.

    A paragraph ends at a blank line, or at a line that ends a sentence and is clearly shorter
    than the page's full lines (the last line of a paragraph rarely reaches the margin).
    """
    lines = [" ".join(line.split()) for line in page_text.splitlines()]
    full = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        if current and (not line or _ends_paragraph(line, full)):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _ends_paragraph(line: str, full: int) -> bool:
    """A sentence end on a short line, or a short line without one (a heading)."""
    if line.endswith(_SENTENCE_END):
        return len(line) < 0.8 * full
    return len(line) < 0.6 * full and not line.endswith((",", ";", "-"))


def _pdf_date(info: Any) -> datetime | None:
    for name in ("creation_date", "modification_date"):
        try:
            value = getattr(info, name, None)
        except (ValueError, TypeError):  # a malformed date string in the metadata
            continue
        if isinstance(value, datetime):
            return value
    return None


# ---- Word --------------------------------------------------------------------------------


def docx_article(data: bytes, *, origin: str) -> Article:
    """The paragraphs (and table rows) of a Word document, in document order."""
    document = _open_docx(data, origin)
    blocks = list(_docx_blocks(document.iter_inner_content()))
    props = document.core_properties
    title = _metadata_title(props.title)
    texts = [text for text, _ in blocks]
    heading = next((text for text, style in blocks if _is_heading(style)), "")
    if not heading and len(texts) > 1 and not texts[0].rstrip().endswith(_SENTENCE_END):
        heading = texts[0]  # a first short line without a heading style
    title = title or clean_field(heading)[:MAX_TITLE_CHARS]
    if title and texts and clean_field(texts[0]).casefold() == title.casefold():
        texts = texts[1:]
    body = clean_text("\n\n".join(texts))
    if not body:
        raise IngestError(origin, "no text in the document")
    return Article(body=body, title=title, published_at=_iso(_docx_date(props)), origin=origin)


def _open_docx(data: bytes, origin: str) -> Any:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        reason = "not a Word .docx file (an old .doc? re-save it as .docx)"
        if not isinstance(error, PackageNotFoundError):
            reason = f"not a readable Word document ({type(error).__name__}: {error})"
        raise IngestError(origin, reason) from None


def _docx_blocks(items: Iterable[Any]) -> Iterable[tuple[str, str]]:
    """(text, style name) of each non-empty paragraph, and of each table row (cells joined)."""
    for item in items:
        if hasattr(item, "rows"):
            for row in item.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                text = " | ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat
                if text:
                    yield text, "table"
        elif item.text.strip():
            yield item.text, str(getattr(item.style, "name", "") or "")


def _is_heading(style: str) -> bool:
    return style == "Title" or style.startswith("Heading")


def _docx_date(props: Any) -> datetime | None:
    for value in (props.created, props.modified):
        if isinstance(value, datetime) and value != _DOCX_TEMPLATE_CREATED:
            return value
    return None


# ---- shared ------------------------------------------------------------------------------


def _metadata_title(value: object) -> str:
    title = clean_field(value or "")[:MAX_TITLE_CHARS]
    return "" if _JUNK_TITLE.match(title) else title


def _iso(value: datetime | None) -> str:
    """ISO 8601 of a metadata date; a date-time without zone is kept without one."""
    return value.replace(microsecond=0).isoformat() if value is not None else ""
