"""Sentence vectors: embedded once at ingest, read back for answers, gone with their article."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant import NewsAssistant
from assistant.sentence_vectors import sentence_vectors
from ingest.sentences import sentence_spans


class Counting:
    """The session's MiniLM, counting the texts it embeds."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.max_tokens = inner, inner.name, inner.max_tokens
        self.count_tokens = inner.count_tokens
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_sentence_vectors_written_read_and_deleted_with_their_article(
    tmp_path: Path, embedder, articles_dir: Path
) -> None:
    counting = Counting(embedder)
    bot = NewsAssistant(index=tmp_path / "index", embedder=counting, llm="extractive")
    assert bot.ingest([articles_dir]).ok
    lexical = bot.store.lexical
    got = bot.store.passages.get(include=["documents", "metadatas"])
    stored = lexical.fetch(got["ids"])
    assert stored.keys() == set(got["ids"])
    for chunk_id, text in zip(got["ids"], got["documents"], strict=True):
        copy = stored[chunk_id]
        assert copy.sentences == tuple(sentence_spans(text))  # the split of the passage text
        assert copy.sentence_vectors is not None
        assert copy.sentence_vectors.shape == (len(copy.sentences), 384)
        expected = embedder.embed([text[s:e] for s, e in copy.sentences])
        np.testing.assert_allclose(copy.sentence_vectors, expected, atol=2e-3)  # float16

    # an answer reads them: the only text embedded at question time is the question
    counting.texts.clear()
    question = "How long is the new harbour bridge?"
    answer = bot.ask(question)
    assert answer.passages and all(p.sentences is not None for p in answer.passages)
    assert counting.texts == [question]
    # the same vectors as embedding them now (the fallback for passages without them)
    bare = [type(p)(**{**p.to_dict(), "also_reported_by": p.also_reported_by})
            for p in answer.passages[:2]]
    for (spans, rows), (spans2, rows2) in zip(sentence_vectors(answer.passages[:2], embedder),
                                              sentence_vectors(bare, embedder), strict=True):
        assert spans == spans2
        np.testing.assert_allclose(rows, rows2, atol=2e-3)

    # replaced with their article: an updated article's passages carry the new sentences
    record = {"id": "sv-1", "title": "Ferry timetable", "source": "Desk", "body":
              "The ferry leaves at nine. It returns at noon on weekdays."}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    bot.ingest([path])
    path.write_text(json.dumps(dict(record, body="The ferry now leaves at ten. "
                                                 "It no longer runs on Sundays.")) + "\n")
    assert bot.ingest([path]).updated == ["sv-1"]
    new = bot.store.passages.get(where={"article_id": "sv-1"}, include=["documents"])
    for chunk_id, text in zip(new["ids"], new["documents"], strict=True):
        copy = lexical.fetch([chunk_id])[chunk_id]
        assert "ten" in text and copy.sentences == tuple(sentence_spans(text))
        np.testing.assert_allclose(copy.sentence_vectors, embedder.embed(
            [text[s:e] for s, e in copy.sentences]), atol=2e-3)

    # deleted with their article
    article = str(got["metadatas"][0]["article_id"])
    own = [i for i, m in zip(got["ids"], got["metadatas"], strict=True)
           if m["article_id"] == article]
    bot.store.delete_article(article)
    assert lexical.fetch(own) == {}


def test_answers_reuse_the_spans_stored_at_ingest_unless_the_splitter_changed(
    tmp_path: Path, embedder, articles_dir: Path, monkeypatch
) -> None:
    import ingest.sentence_vectors as stored_spans
    import ingest.sentences as splitter

    bot = NewsAssistant(index=tmp_path / "index", embedder=embedder, llm="extractive")
    assert bot.ingest([articles_dir]).ok
    question = "How long is the new harbour bridge?"
    before = bot.ask(question)
    assert before.citations

    calls: list[str] = []
    real = splitter.blingfire.text_to_sentences_and_offsets

    def counted(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(splitter.blingfire, "text_to_sentences_and_offsets", counted)
    splitter._cached_spans.cache_clear()
    # stamped with this splitter's version: the spans are read, not split again
    found = bot.search(question, k=8)
    assert found and all(p.sentences.split == splitter.SPLIT_VERSION for p in found)
    same = bot.ask(question)
    assert calls == []
    assert same.text == before.text and same.citations == before.citations

    # a splitter changed since ingest splits the passages again, with the same answer here
    monkeypatch.setattr(stored_spans, "SPLIT_VERSION", "a newer splitter")
    splitter._cached_spans.cache_clear()
    again = bot.ask(question)
    assert {p.text for p in found[:3]} <= set(calls)
    assert again.text == before.text
