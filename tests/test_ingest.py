"""Ingest over a real Chroma index: formats, idempotence, changes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import NewsAssistant
from ingest.loaders import expand_paths, load_path


def _titles(bot) -> set[str]:
    return {m["title"] for m in bot.store.all_article_metadata()}


def test_every_format_is_loaded(loaded_bot, articles_dir: Path):
    assert _titles(loaded_bot) == {
        "Harbor Bridge Reopens After Two-Year Repair",
        "Glacier Survey Finds Record Summer Melt",
        "Night Trains Return Between Lisvik and Ormond",
        "Teenager Wins National Chess Title",
        "City Council Approves Rooftop Solar Grants",
        "Wheat Harvest Beats Forecasts",
        "Museum Returns Bronze Statues",
    }
    meta = {m["title"]: m for m in loaded_bot.store.all_article_metadata()}
    assert meta["Harbor Bridge Reopens After Two-Year Repair"]["source"] == "Coastline Courier"
    assert meta["Glacier Survey Finds Record Summer Melt"]["source"] == "Alpine Gazette"
    assert meta["City Council Approves Rooftop Solar Grants"]["published_at"].startswith(
        "2024-05-07T09:30:00"
    )
    html = loaded_bot.get_article(meta["Museum Returns Bronze Statues"]["id"])
    assert "eleven bronze statues" in html.body
    assert "Subscribe" not in html.body and "All rights reserved" not in html.body
    wheat = loaded_bot.get_article("fx-wheat")
    assert wheat.url == "https://example.org/farm/wheat" and wheat.source == "Farm Wire"


def test_chunk_offsets_point_into_the_stored_body(loaded_bot):
    got = loaded_bot.store.passages.get(include=["metadatas", "documents"])
    assert got["ids"]
    bodies = loaded_bot.store.get_articles(m["article_id"] for m in got["metadatas"])
    for chunk_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
        assert chunk_id == f"{meta['article_id']}#{meta['chunk_index']}"
        assert bodies[meta["article_id"]].body[meta["start"] : meta["end"]] == text


def test_reingest_unchanged_adds_nothing(loaded_bot, articles_dir: Path):
    before = loaded_bot.store.count()
    report = loaded_bot.ingest([articles_dir])
    assert (len(report.added), len(report.updated), len(report.unchanged)) == (0, 0, 7)
    assert report.chunks_written == 0
    assert loaded_bot.store.count() == before


def test_changed_article_replaces_its_chunks(loaded_bot, articles_dir: Path):
    long_body = " ".join(
        f"Sentence number {i} about the night train timetable." for i in range(120)
    )
    record = {"id": "fx-rail", "title": "Night Trains Return", "body": long_body}
    path = articles_dir / "records.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([json.dumps(record), lines[1]]) + "\n")
    report = loaded_bot.ingest([path])
    assert report.updated == ["fx-rail"] and report.unchanged == ["fx-chess"]
    chunks = loaded_bot.store.passages.get(where={"article_id": "fx-rail"}, include=["documents"])
    assert len(chunks["ids"]) > 1
    assert all("timetable" in doc for doc in chunks["documents"])
    # shrink it again: the now-surplus chunks must disappear
    record["body"] = "Night trains were cancelled again."
    path.write_text(json.dumps(record) + "\n")
    loaded_bot.ingest([path])
    chunks = loaded_bot.store.passages.get(where={"article_id": "fx-rail"})
    assert chunks["ids"] == ["fx-rail#0"]


@pytest.mark.parametrize(
    ("name", "content", "where", "reason"),
    [
        ("empty.txt", b"", "empty.txt", "empty file"),
        ("blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "blob.txt", "binary file"),
        (
            "latin.txt",
            b"Title\nOutlet\nCaf\xe9 society returns.\n",
            "latin.txt:3",
            "not valid UTF-8",
        ),
        (
            "bad.jsonl",
            b'{"body": "fine article text here"}\n{"body": broken\n',
            "bad.jsonl:2",
            "invalid JSON",
        ),
        ("nobody.jsonl", b'{"title": "no body"}\n', "nobody.jsonl:1", "missing or empty 'body'"),
        (
            "date.jsonl",
            b'{"body": "text", "published_at": "last Tuesday"}\n',
            "date.jsonl:1",
            "not an ISO 8601 date",
        ),
        ("wrong.csv", b"headline,text\nA,B\n", "wrong.csv:1", "'body' column"),
        ("notes.pdf", b"%PDF-1.4", "notes.pdf", "not a readable PDF"),
        ("notes.odt", b"PK", "notes.odt", "unsupported file type .odt"),
    ],
)
def test_bad_input_names_file_and_line_and_keeps_the_index(
    loaded_bot, tmp_path: Path, name: str, content: bytes, where: str, reason: str
):
    before = loaded_bot.store.count()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / name).write_bytes(content)
    good = tmp_path / "good.txt"
    good.write_text(
        "Ferry Strike Ends\nHarbour Wire\nFerry crews ended a three-day strike after a pay deal.\n"
    )
    report = loaded_bot.ingest([bad / name, good])
    assert len(report.failed) == 1
    error = report.failed[0]
    assert error.where.endswith(where), error.where
    assert reason in error.reason
    assert "Ferry Strike Ends" in _titles(loaded_bot)  # the good file still went in
    articles, passages = loaded_bot.store.count()
    assert articles == before[0] + len(report.added) and passages > before[1]


def test_missing_path_is_reported(bot, tmp_path: Path):
    report = bot.ingest([tmp_path / "nope"])
    assert [(e.reason) for e in report.failed] == ["no such file or folder"]


def test_folders_are_walked_recursively_skipping_hidden(tmp_path: Path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("T\nbody text")
    (tmp_path / "a" / ".git").mkdir()
    (tmp_path / "a" / ".git" / "y.txt").write_text("T\nbody")
    (tmp_path / "a" / "image.png").write_bytes(b"\x89PNG")
    assert [p.name for p in expand_paths([tmp_path / "a"])] == ["x.txt"]


def test_ids_are_stable_from_url_or_text(articles_dir: Path):
    first = [a for a in load_path(articles_dir / "records.json")]
    second = [a for a in load_path(articles_dir / "records.json")]
    assert first[0].id == second[0].id and len(first[0].id) == 16


def test_the_index_summary_is_read_once_until_the_index_changes(loaded_bot, tmp_path: Path):
    """Every abstention says what the index covers: its outlets and dates come from the
    lexical index's table of articles, once, and again only after a write."""
    store = loaded_bot.store
    reads = []
    coverage = store.lexical.coverage
    store.lexical.coverage = lambda: reads.append(1) or coverage()  # count the reads
    first = loaded_bot.stats()
    assert loaded_bot.stats() == first and len(reads) == 1
    # the same as reading every article's metadata (the path without a lexical index)
    metas = store.all_article_metadata()
    dates = sorted(str(m["published_at"])[:10] for m in metas if m.get("published_at"))
    assert first["sources"] == sorted({m["source"] for m in metas if m.get("source")})
    assert (first["first_date"], first["last_date"]) == (dates[0], dates[-1])

    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps({
        "id": "late-1", "title": "Ferry timetable changes", "source": "Late Herald",
        "published_at": "2031-02-03", "body": "The ferry will leave an hour earlier from "
        "March, the operator said on Monday, to meet the first train."}) + "\n")
    assert loaded_bot.ingest([late]).ok
    after = loaded_bot.stats()
    assert len(reads) == 2 and after["articles"] == first["articles"] + 1
    assert after["last_date"] == "2031-02-03" and "Late Herald" in after["sources"]
    assert loaded_bot.stats() == after and len(reads) == 2

    loaded_bot.delete(["late-1"])
    assert loaded_bot.stats() == first and len(reads) == 3

    lexical, store.lexical = store.lexical, None  # no lexical index: read from Chroma
    try:
        store._summary = None
        assert loaded_bot.stats() == first
    finally:
        store.lexical = lexical

    counts = []
    count = store.count
    store.count = lambda: counts.append(1) or count()
    # the counts are kept too: on local disk every write bumps the index's generation
    assert loaded_bot.stats()["passages"] == count()[1] and counts == []
    other = NewsAssistant(index=loaded_bot.settings.index, embedder=loaded_bot.embedder)
    assert other.ingest([late]).ok  # another writer of the same index
    seen = loaded_bot.stats()
    assert seen["articles"] == first["articles"] + 1 and len(counts) == 1 and len(reads) == 4
