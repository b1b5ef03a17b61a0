"""Answer-phrase candidates parsed once at ingest: stored with the sentence vectors, read by
``ask`` instead of parsing at question time, parsed again only where a read copy lacks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ingest.sentence_pieces as sentence_pieces
from assistant import NewsAssistant
from ingest.nlp import load_english
from ingest.sentence_pieces import decode_pieces, encode_pieces


def spacy_pieces(sentence: str) -> tuple[tuple[int, int, str], ...]:
    """Entities then noun chunks of a fresh parse, without the module's memo."""
    doc = load_english()(sentence)
    return tuple([(e.start_char, e.end_char, e.label_) for e in doc.ents]
                 + [(c.start_char, c.end_char, "CHUNK") for c in doc.noun_chunks])


@pytest.fixture(scope="module")
def demo_bot(tmp_path_factory, embedder):
    bot = NewsAssistant(index=tmp_path_factory.mktemp("pieces") / "index", llm="extractive",
                        embedder=embedder)
    report = bot.ingest_demo()
    assert report.ok and report.piece_seconds > 0
    return bot


@pytest.fixture
def no_parser(monkeypatch):
    """spaCy unavailable and the memo empty: any parse at question time fails loudly."""
    def refuse():
        raise AssertionError("parsed at question time")

    monkeypatch.setattr(sentence_pieces, "_memo", {})
    monkeypatch.setattr(sentence_pieces, "load_english", refuse)


def test_every_read_copy_carries_the_pieces_of_its_sentences(demo_bot):
    got = demo_bot.store.passages.get(include=["documents"])
    stored = demo_bot.store.lexical.fetch(got["ids"])
    assert stored.keys() == set(got["ids"])
    checked = 0
    for chunk_id, text in zip(got["ids"], got["documents"], strict=True):
        copy = stored[chunk_id]
        stored_pieces = decode_pieces(copy.sentence_pieces)
        assert stored_pieces is not None and len(stored_pieces) == len(copy.sentences)
        for (start, end), pieces in zip(copy.sentences, stored_pieces, strict=True):
            assert pieces == spacy_pieces(text[start:end])
            checked += 1
    assert checked > 50


def test_ask_reads_the_stored_pieces_instead_of_parsing(demo_bot, no_parser):
    answer = demo_bot.ask("Who won the Women's World Cup?")
    assert answer.text.startswith("**Spain** [1]")
    assert answer.answer_span is not None and answer.answer_span["text"] == "Spain"


def test_a_read_copy_without_pieces_is_parsed_at_question_time(tmp_path: Path, embedder,
                                                               monkeypatch):
    # an index written before pieces existed: the sentences are parsed when asked about
    monkeypatch.setattr("ingest.pipeline.with_pieces", lambda texts, found: list(found))
    bot = NewsAssistant(index=tmp_path / "index", llm="extractive", embedder=embedder)
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({
        "id": "p-1", "title": "Chess final", "source": "Desk", "published_at": "2024-05-02",
        "body": "Magnus Carlsen won the Norway Chess tournament in Stavanger on Friday. "
                "The event drew players from twelve countries."}) + "\n")
    assert bot.ingest([path]).ok
    copies = bot.store.lexical.fetch(bot.store.passages.get()["ids"])
    assert copies and all(c.sentence_pieces is None for c in copies.values())
    monkeypatch.undo()
    parsed: list[str] = []
    real = sentence_pieces.parse_pieces

    def counting(sentences):
        parsed.extend(sentences)
        return real(sentences)

    monkeypatch.setattr("assistant.answer_span.parse_pieces", counting)
    answer = bot.ask("Who won the Norway Chess tournament?")
    assert answer.answer_span is not None and answer.answer_span["text"] == "Magnus Carlsen"
    assert any("Carlsen" in s for s in parsed)


def test_updated_articles_carry_the_pieces_of_their_new_text(tmp_path: Path, embedder):
    bot = NewsAssistant(index=tmp_path / "index", llm="extractive", embedder=embedder)
    path = tmp_path / "one.jsonl"
    record = {"id": "u-1", "title": "Ferry", "source": "Desk",
              "body": "The ferry to Oban leaves at nine. It returns at noon."}
    path.write_text(json.dumps(record) + "\n")
    assert bot.ingest([path]).ok
    path.write_text(json.dumps(dict(record, body="Caledonian MacBrayne now sails at ten. "
                                                 "It no longer runs on Sundays.")) + "\n")
    assert bot.ingest([path]).updated == ["u-1"]
    got = bot.store.passages.get(where={"article_id": "u-1"}, include=["documents"])
    for chunk_id, text in zip(got["ids"], got["documents"], strict=True):
        copy = bot.store.lexical.fetch([chunk_id])[chunk_id]
        stored_pieces = decode_pieces(copy.sentence_pieces)
        assert stored_pieces is not None
        labels = [text[s + a : s + b] for (s, _), found in
                  zip(copy.sentences, stored_pieces, strict=True) for a, b, _ in found]
        assert any("Caledonian MacBrayne" in x for x in labels)
        assert not any("Oban" in x for x in labels)


def test_pieces_round_trip_and_malformed_ones_are_dropped():
    pieces = (((0, 5, "PERSON"), (6, 11, "CHUNK")), ())
    assert decode_pieces(encode_pieces(pieces)) == pieces
    assert decode_pieces(json.loads(encode_pieces(pieces))) == pieces  # lists, as parsed
    for bad in (None, "x", "[1", [[["a", 1]]], [[[0, 1]]], [1], 7):
        assert decode_pieces(bad) is None


def test_reindex_stores_the_pieces_an_older_index_lacks(tmp_path: Path, embedder, monkeypatch):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({
        "id": "r-1", "title": "Harbour", "source": "Desk", "published_at": "2024-05-02",
        "body": "Mayor Ana Ruiz opened the Tern Harbour bridge in Porto on Friday."}) + "\n")
    with monkeypatch.context() as patch:  # written as before pieces existed
        patch.setattr("ingest.pipeline.with_pieces", lambda texts, found: list(found))
        old = NewsAssistant(index=tmp_path / "index", llm="extractive", embedder=embedder)
        assert old.ingest([path]).ok
        old.store.flush()
    bot = NewsAssistant(index=tmp_path / "index", llm="extractive", embedder=embedder)
    assert all(c.sentence_pieces is None for c in bot.store.lexical.fetch(
        bot.store.passages.get()["ids"]).values())
    assert bot.reindex().ok
    copies = bot.store.lexical.fetch(bot.store.passages.get()["ids"])
    assert copies and all(decode_pieces(c.sentence_pieces) for c in copies.values())
