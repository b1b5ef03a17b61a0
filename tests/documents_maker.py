"""Fixture documents made by the tests themselves: a minimal PDF writer (text in Helvetica, or
a page with no text at all, as a scan has), and Word files through python-docx."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def _text_content(lines: list[str]) -> bytes:
    parts = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
    for number, line in enumerate(lines):
        parts.append((b"T* " if number else b"") + _pdf_string(line) + b" Tj")
    parts.append(b"ET")
    return b"\n".join(parts)


SCAN_CONTENT = b"0.5 g 72 72 468 648 re f"  # a grey rectangle: what a scan's image leaves


def write_pdf(
    path: Path,
    pages: list[list[str]] | None,
    *,
    title: str = "",
    created: datetime | None = None,
) -> Path:
    """A PDF with one text page per list of lines; ``pages=None``: one page without text."""
    contents = [SCAN_CONTENT] if pages is None else [_text_content(lines) for lines in pages]
    n = len(contents)
    # 1 catalog, 2 page tree, 3 font, 4 info, then a page and its content stream per page
    page_ids = [5 + 2 * i for i in range(n)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids)
        + b"] /Count %d >>" % n,
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: _info(title, created),
    }
    for page_id, content in zip(page_ids, contents, strict=True):
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
    path.write_bytes(_assemble(objects))
    return path


def _info(title: str, created: datetime | None) -> bytes:
    entries = [b"/Producer (news-assistant tests)"]
    if title:
        entries.append(b"/Title " + _pdf_string(title))
    if created is not None:
        entries.append(b"/CreationDate (D:" + created.strftime("%Y%m%d%H%M%S").encode() + b"Z)")
    return b"<< " + b" ".join(entries) + b" >>"


def _assemble(objects: dict[int, bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, xref)
    return bytes(out)


def write_docx(
    path: Path,
    heading: str,
    paragraphs: list[str],
    *,
    title: str = "",
    created: datetime | None = None,
    table: list[list[str]] | None = None,
) -> Path:
    """A Word document: a Heading 1, paragraphs, optionally a table; metadata as given."""
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.core_properties.title = title
    if created is not None:
        document.core_properties.created = created
    document.save(str(path))
    return path
