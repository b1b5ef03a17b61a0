"""PDF and Word files: extracted, titled and dated from their metadata, cited verbatim; a scan
without a text layer, a broken file and an old .doc are each reported alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.documents import reflow
from ingest.loaders import load_path
from tests.documents_maker import write_docx, write_pdf

REPORT_LINES = [
    "The Port Alder harbour authority reported that cargo volumes rose by twelve percent",
    "in 2024, the best year since the container terminal opened in 1998.",
    "",
    "The authority's chair, Marta Lindqvist, said a second electric crane would arrive",
    "in May and that night shifts would resume at the grain quay.",
]
NOTICE = [
    "The island council voted to freeze ferry fares on the Greywick route for all of 2025.",
    "Councillor Ade Okafor said the freeze would cost the council 180,000 pounds a year.",
]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "report.pdf", [REPORT_LINES[:2], REPORT_LINES[3:]],
              title="Harbour cargo volumes hit a record", created=datetime(2025, 1, 20, 9, 30))
    write_docx(folder / "notice.docx", "Ferry fares frozen for 2025", NOTICE,
               created=datetime(2024, 11, 2, 8, 0, tzinfo=UTC),
               table=[["Route", "Fare"], ["Greywick", "4.50"]])
    write_pdf(folder / "scan.pdf", None)
    (folder / "other.txt").write_text(
        "Library Reopens\nHarbor Times\nThe Greywick library reopened with a shelf of seeds.\n")
    return folder


def _only(bot, title: str):
    meta = next(m for m in bot.store.all_article_metadata() if m["title"] == title)
    return bot.store.get_articles([meta["id"]])[meta["id"]]


def test_pdf_and_docx_are_ingested_and_cited_verbatim(bot, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    report = bot.ingest([folder])
    assert [(e.where, e.reason) for e in report.failed] == [
        (str(folder / "scan.pdf"), "no text layer (scanned?); run OCR on it first")]
    assert len(report.added) == 3

    pdf = _only(bot, "Harbour cargo volumes hit a record")
    assert pdf.published_at == "2025-01-20T09:30:00+00:00"
    assert pdf.body.startswith("The Port Alder harbour authority reported that cargo volumes")
    assert "rose by twelve percent in 2024" in pdf.body  # the layout line break is a space
    docx = _only(bot, "Ferry fares frozen for 2025")
    assert docx.published_at == "2024-11-02T08:00:00+00:00"
    assert docx.body.split("\n\n") == [*NOTICE, "Route | Fare", "Greywick | 4.50"]

    for question, article in (
        ("By how much did cargo volumes rise at the Port Alder harbour in 2024?", pdf),
        ("What did Ade Okafor say the ferry fare freeze would cost?", docx),
    ):
        answer = bot.ask(question)
        assert not answer.abstained, question
        cited = [c for c in answer.citations if c.article_id == article.id]
        assert cited, (question, answer.text)
        for citation in cited:
            assert article.body[citation.start : citation.end] == citation.quote
            assert citation.title == article.title


def test_pdf_without_title_metadata_takes_its_first_line(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "plain.pdf", [["Harbour Report", *REPORT_LINES]])
    (article,) = load_path(path)
    assert article.title == "Harbour Report" and article.published_at == ""
    assert article.body.startswith("The Port Alder harbour authority")


def test_docx_title_metadata_wins_over_the_heading(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "t.docx", "A heading", NOTICE, title="Fares frozen")
    (article,) = load_path(path)
    assert article.title == "Fares frozen"
    assert article.body.startswith("A heading\n\n")  # the heading stays text of the body
    assert article.published_at == ""  # python-docx's blank-template date is not the document's


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<<", "not a readable PDF"),
        ("empty.pdf", b"", "empty file"),
        ("zip.docx", b"PK\x03\x04 not really a zip", "not a readable Word document"),
        ("old.doc", b"\xd0\xcf\x11\xe0", "re-save old Word .doc files as .docx"),
    ],
)
def test_broken_documents_fail_alone(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    (error,) = load_path(path)
    assert error.where == str(path) and reason in error.reason  # type: ignore[union-attr]


def test_docx_without_text(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    (error,) = load_path(path)
    assert error.reason == "no text in the document"  # type: ignore[union-attr]


def test_uploads_accept_pdf_and_docx(bot, tmp_path: Path) -> None:
    from ui.uploads import ALLOWED_SUFFIXES, add_news

    assert {".pdf", ".docx"} <= set(ALLOWED_SUFFIXES)
    folder = _folder(tmp_path)
    result = add_news(bot, [folder / "report.pdf", folder / "notice.docx", folder / "scan.pdf"], "")
    assert result.counts["added"] == 2
    assert result.failed == [("scan.pdf", "no text layer (scanned?); run OCR on it first")]


def test_reflow_joins_layout_lines_and_keeps_headings() -> None:
    page = "\n".join(["Heading", "A long line of a paragraph that goes on and on until the",
                      "margin, then ends here.", "", "Next paragraph."])
    assert reflow(page) == [
        "Heading",
        "A long line of a paragraph that goes on and on until the margin, then ends here.",
        "Next paragraph.",
    ]
