"""The BM25 side index over real indexes: it follows every ingest, re-ingest, change and
delete incrementally, persists with the index, and repairs itself from Chroma."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant import NewsAssistant
from ingest.lexical import cache_dir_for, query_terms
from tests.test_chroma_server import chroma_url  # noqa: F401  (the Chroma server fixture)

ARTICLES = [
    {"id": "lx-ferry", "title": "Ferry Strike Ends", "source": "Harbour Wire",
     "published_at": "2024-05-02", "body": "Ferry crews ended a three-day strike after a pay deal "
     "brokered by the mediator Annika Holmqvist."},
    {"id": "lx-bees", "title": "Beekeepers Count Losses", "source": "Farm Wire",
     "published_at": "2024-05-03", "body": "Beekeepers reported that a cold spring killed a third "
     "of the hives in the valley."},
    {"id": "lx-comet", "title": "Comet Visible Tonight", "source": "Sky Times",
     "published_at": "2024-05-04", "body": "The comet Tsuchinshan will be visible to the naked eye "
     "after sunset, astronomers said."},
]


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def lexical_ids(bot: NewsAssistant, query: str) -> list[str]:
    return [chunk_id for chunk_id, _ in bot.store.lexical.search(query, 10)]


def test_ingest_reingest_change_and_delete_update_the_index(bot, tmp_path: Path):
    path = write(tmp_path / "a.jsonl", ARTICLES)
    bot.ingest([path])
    lexical = bot.store.lexical
    assert lexical.count() == 3
    assert lexical_ids(bot, "Holmqvist mediator") == ["lx-ferry#0"]
    assert lexical.article_hashes().keys() == {"lx-ferry", "lx-bees", "lx-comet"}

    before = lexical.article_hashes()
    report = bot.ingest([path])  # unchanged: nothing rewritten
    assert report.chunks_written == 0 and lexical.count() == 3
    assert lexical.article_hashes() == before

    changed = dict(ARTICLES[0], body="Ferry crews walked out again; talks with the shipping "
                   "company Nordlys collapsed.")
    write(path, [changed, *ARTICLES[1:]])
    report = bot.ingest([path])
    assert report.updated == ["lx-ferry"]
    assert lexical_ids(bot, "Holmqvist") == []  # the old text is gone
    assert lexical_ids(bot, "Nordlys") == ["lx-ferry#0"]
    assert lexical.count() == 3
    assert lexical.article_hashes()["lx-ferry"] != before["lx-ferry"]

    bot.store.delete_article("lx-bees")
    assert lexical_ids(bot, "beekeepers hives") == []
    assert lexical.count() == 2 and "lx-bees" not in lexical.article_hashes()


def test_index_persists_and_grows_incrementally(bot, embedder, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES[:2])])
    reopened = NewsAssistant(index=bot.settings.index, embedder=embedder)
    assert lexical_ids(reopened, "comet") == []
    reopened.ingest([write(tmp_path / "b.jsonl", ARTICLES[2:])])
    assert lexical_ids(reopened, "comet sunset") == ["lx-comet#0"]
    assert lexical_ids(reopened, "ferry strike") == ["lx-ferry#0"]  # the old one is kept
    assert reopened.store.lexical.count() == 3


def test_long_article_chunks_are_replaced_when_it_shrinks(bot, tmp_path: Path):
    long = {"id": "lx-long", "title": "Budget", "published_at": "2024-05-01", "body": "\n\n".join(
        f"Paragraph {i} on the harbour budget and the dredging contract." for i in range(60))}
    path = write(tmp_path / "long.jsonl", [long, *ARTICLES])
    bot.ingest([path])
    many = bot.store.lexical.count()
    assert many > 4
    write(path, [dict(long, body="The dredging contract was cancelled."), *ARTICLES])
    bot.ingest([path])
    assert bot.store.lexical.count() == 4
    assert lexical_ids(bot, "dredging") == ["lx-long#0"]


def test_missing_or_stale_lexical_index_is_rebuilt_from_chroma(bot, embedder, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)])
    directory = Path(bot.settings.index) / "lexical"
    bot.store.lexical.close()
    shutil.rmtree(directory)  # e.g. an index built before the lexical index existed
    reopened = NewsAssistant(index=bot.settings.index, embedder=embedder)
    assert reopened.store.lexical.count() == 3
    assert lexical_ids(reopened, "Tsuchinshan") == ["lx-comet#0"]
    # an index that drifted (here: lost an article) is repaired when the counts differ
    reopened.store.lexical.delete_article("lx-comet")
    reopened.store.lexical.commit()
    assert lexical_ids(reopened, "Tsuchinshan") == []
    reopened.store.lexical.close()
    again = NewsAssistant(index=bot.settings.index, embedder=embedder)
    assert lexical_ids(again, "Tsuchinshan") == ["lx-comet#0"]
    # a run that stopped before its lexical commit leaves the "dirty" flag: resync, even
    # with equal counts (a changed article)
    again.store.lexical.close()
    with sqlite3.connect(directory / "state.sqlite") as state:
        state.execute("UPDATE articles SET hash = 'stale' WHERE id = 'lx-ferry'")
        state.execute("INSERT INTO flags VALUES ('dirty:12345:1')")  # a run that stopped
    last = NewsAssistant(index=bot.settings.index, embedder=embedder)
    assert not last.store.lexical.is_dirty()
    assert last.store.lexical.article_hashes()["lx-ferry"] != "stale"
    assert last.store.lexical.count() == 3


def test_source_and_date_filters(bot, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)])
    lexical = bot.store.lexical
    query = "ferry beekeepers comet"
    assert {c for c, _ in lexical.search(query, 10, sources=["Farm Wire"])} == {"lx-bees#0"}
    assert {c for c, _ in lexical.search(query, 10, since_key=20240503)} == {
        "lx-bees#0", "lx-comet#0"}
    assert {c for c, _ in lexical.search(query, 10, until_key=20240502)} == {"lx-ferry#0"}


def test_query_syntax_is_neutralised():
    assert query_terms('What "AND" (OR) NOT ferry:strike? -x +y') == [
        "what", "ferry", "strike", "x", "y"]
    assert query_terms("") == []


def test_cache_dir_is_keyed_by_server_url(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path))
    a = cache_dir_for("http://127.0.0.1:8000")
    assert a == cache_dir_for("http://127.0.0.1:8000/")
    assert a != cache_dir_for("http://127.0.0.1:8001")
    assert a.is_relative_to(tmp_path)


@pytest.mark.slow
@pytest.mark.server
def test_chroma_server_index_syncs_into_a_cache(chroma_url, embedder, monkeypatch,  # noqa: F811
                                                tmp_path: Path):
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache"))
    writer = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    writer.ingest([write(tmp_path / "a.jsonl", ARTICLES[:2])])
    assert lexical_ids(writer, "Holmqvist") == ["lx-ferry#0"]
    # another machine (its own cache) adds an article: this one catches up when it opens
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "other-cache"))
    NewsAssistant(chroma_url=chroma_url, embedder=embedder).ingest(
        [write(tmp_path / "b.jsonl", ARTICLES[2:])])
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache"))
    reader = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    assert lexical_ids(reader, "Tsuchinshan") == ["lx-comet#0"]
    assert reader.store.lexical.count() == 3
    assert reader.search("comet visible after sunset", k=3)[0].article_id == "lx-comet"
    # written by the other machine after this one opened: not in this cache, found through
    # Chroma (dense), with its text and outlet read from the server
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "other-cache"))
    NewsAssistant(chroma_url=chroma_url, embedder=embedder).ingest([write(
        tmp_path / "c.jsonl", [dict(LONG, id="lx-late", body=LONG["body"][:300])])])
    late = reader.search("council dredging contract and berth fees", k=3)
    assert late[0].article_id == "lx-late" and late[0].source == "Harbour Wire"
    assert "dredging contract" in late[0].text



LONG = {"id": "lx-harbour", "title": "Harbour Budget", "source": "Harbour Wire",
        "published_at": "2024-05-05", "body": "\n\n".join(
            f"Paragraph {i}: the council weighed the dredging contract and berth fees, "
            f"item {i * 7} of the harbour budget." for i in range(40))}


def test_read_copies_match_what_chroma_holds(bot, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", [*ARTICLES, LONG])])
    truth = bot.store.passages.get(include=["documents", "metadatas", "embeddings"])
    copies = bot.store.lexical.fetch(truth["ids"])
    assert copies.keys() == set(truth["ids"]) and len(truth["ids"]) > 4
    means = bot.store.articles.get(ids=["lx-harbour"], include=["embeddings"])["embeddings"][0]
    for chunk_id, text, meta, vector in zip(truth["ids"], truth["documents"], truth["metadatas"],
                                            truth["embeddings"], strict=True):
        copy = copies[chunk_id]
        assert copy.text == text and copy.meta == meta
        assert np.allclose(copy.vector, vector, atol=2e-3)  # float16
        if meta["article_id"] == "lx-harbour":
            assert np.allclose(copy.article_vector, means, atol=2e-3)
        else:  # one chunk: the article's vector is the chunk's own
            assert copy.article_vector is None
    assert bot.store.lexical.groups(["lx-ferry", "nope"]) == {"lx-ferry": "lx-ferry"}
    assert bot.store.lexical.members(["lx-bees"]) == {"lx-bees": [("lx-bees", "Farm Wire")]}


class ReadCounter:
    """Counts the reads of a real Chroma collection, passing every call through."""

    def __init__(self, collection) -> None:
        self.collection, self.gets, self.includes = collection, 0, []

    def get(self, *args, **kwargs):
        self.gets += 1
        return self.collection.get(*args, **kwargs)

    def query(self, *args, **kwargs):
        self.includes.append(kwargs.get("include"))
        return self.collection.query(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.collection, name)


def test_search_reads_only_neighbour_ids_from_chroma(bot, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", [*ARTICLES, LONG])])
    passages = bot.store.passages = ReadCounter(bot.store.passages)
    articles = bot.store.articles = ReadCounter(bot.store.articles)
    found = bot.search("Which mediator ended the ferry strike?", k=3, as_of="2024-05-06")
    assert found[0].article_id == "lx-ferry" and "Holmqvist" in found[0].text
    assert found[0].source == "Harbour Wire" and found[0].published_at == "2024-05-02"
    assert passages.includes == [["distances"]]
    assert passages.gets == 0 and articles.gets == 0


def test_a_passage_missing_from_the_read_copies_comes_from_chroma(bot, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)])
    expected = bot.search("comet visible to the naked eye after sunset", k=3)
    bot.store.lexical.delete_article("lx-comet")  # as if written by another Chroma client
    bot.store.lexical.commit()
    passages = bot.store.passages = ReadCounter(bot.store.passages)
    found = bot.search("comet visible to the naked eye after sunset", k=3)
    assert found[0].article_id == "lx-comet" and passages.gets == 1
    assert found[0].text == expected[0].text and found[0].title == "Comet Visible Tonight"


def test_an_index_of_the_older_format_is_rebuilt(bot, embedder, tmp_path: Path):
    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)])
    directory = Path(bot.settings.index) / "lexical"
    bot.store.lexical.close()
    with sqlite3.connect(directory / "state.sqlite") as state:  # the first format had no info
        state.execute("DROP TABLE info")
    reopened = NewsAssistant(index=bot.settings.index, embedder=embedder)
    assert reopened.store.lexical.count() == 3
    assert reopened.store.lexical.fetch(["lx-bees#0"])["lx-bees#0"].vector is not None
    assert lexical_ids(reopened, "Tsuchinshan") == ["lx-comet#0"]


def test_runs_of_one_query_read_each_passage_once(bot, tmp_path: Path, monkeypatch):
    """An answer's window run finds mostly what its main run found: one searcher serves
    both, each passage read once, with the same hits as separate searches."""
    import ingest.lexical as lexical_module
    from ingest.cleaning import date_key
    from ingest.lexical import LexicalRun

    bot.ingest([write(tmp_path / "a.jsonl", ARTICLES)])
    lexical = bot.store.lexical
    query = "ferry strike beekeepers comet"
    since = date_key("2024-05-03")
    separate = [lexical.search_loaded(query, 10), lexical.search_loaded(query, 2, since_key=since),
                lexical.search_loaded(query, 5, sources=["Sky Times"])]
    reads = []
    real = lexical_module._stored_passage
    monkeypatch.setattr(lexical_module, "_stored_passage",
                        lambda doc: reads.append(1) or real(doc))
    runs = lexical.search_runs(query, [LexicalRun(10), LexicalRun(2, since_key=since),
                                       LexicalRun(5, ("Sky Times",))])
    assert [[(i, s) for i, s, _ in run] for run in runs] == [
        [(i, s) for i, s, _ in run] for run in separate]
    assert [len(run) for run in runs] == [3, 2, 1]
    assert len(reads) == 3  # each of the three passages once
    assert all(stored.text for run in runs for _, _, stored in run)
    assert {i for i, _, _ in runs[1]} == {"lx-bees#0", "lx-comet#0"}
