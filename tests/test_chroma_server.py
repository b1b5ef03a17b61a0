"""Sharing an index on a real Chroma server (``chroma run``) started by the tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import NewsAssistant
from ingest.pipeline import DEMO_CORPUS
from tests.conftest import ARTICLES
from tests.fixture_server import FixtureServer

CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """A fresh ``chroma run`` on 127.0.0.1, up once its heartbeat answers."""
    port = free_port()
    log = (tmp_path / "chroma.log").open("w")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "chroma-data"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "chroma.log").read_text()[-2000:]
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chroma run did not come up in 90 s"
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def cli(*args: str, cwd: Path, cache: Path, **env: str) -> subprocess.Popen[str]:
    """``python -m assistant ...`` as its own process, with its own lexical cache directory
    (a different cache is what a second machine has)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args], cwd=cwd,
        env={**clean, "NEWS_ASSISTANT_CACHE": str(cache), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return out


def index_summary(bot: NewsAssistant) -> dict[str, tuple[str, int]]:
    """article id -> (content hash, passages actually stored for it)."""
    passages = bot.store.passages.get(include=["metadatas"])
    stored = Counter(m["article_id"] for m in passages["metadatas"])
    return {m["id"]: (m["content_hash"], stored[m["id"]])
            for m in bot.store.all_article_metadata()}


@pytest.mark.server
@pytest.mark.slow
def test_ingest_ask_and_reingest_on_a_server(chroma_url: str, tmp_path: Path, embedder,
                                            monkeypatch: pytest.MonkeyPatch,
                                            web_server: FixtureServer) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache-1"))
    bot = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    report = bot.ingest([ARTICLES])
    assert report.ok and len(report.added) == 7
    articles, passages = bot.store.count()
    assert articles == 7 and passages == report.chunks_written

    answer = bot.ask("Who won the national chess championship?")
    assert not answer.abstained and "Okafor" in answer.text and answer.citations
    bot.feeds.add("https://example.org/feed.rss")

    # another machine: nothing local but a cache, which it rebuilds from the server
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache-2"))
    other = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    again = other.ingest([ARTICLES])
    assert (len(again.added), len(again.unchanged), again.chunks_written) == (0, 7, 0)
    assert other.store.count() == (articles, passages)
    assert other.store.lexical.count() == passages
    assert other.search("wheat harvest", k=3)[0].article_id == "fx-wheat"
    assert [f.url for f in other.feeds.list()] == ["https://example.org/feed.rss"]
    assert not (tmp_path / "news-index").exists()  # nothing went to a local index

    # the CLI, with the server given by the environment variable
    asked = cli("ask", "Who won the national chess championship?", "--json", cwd=tmp_path,
                cache=tmp_path / "cache-3", NEWS_ASSISTANT_CHROMA_URL=chroma_url)
    assert "Okafor" in json.loads(finish(asked))["answer"]

    # following a feed: the list and each feed's state live on the server
    feed = web_server.url("/feeds/harbor.rss")
    watched = finish(cli("watch", feed, "--once", "--chroma-url", chroma_url, cwd=tmp_path,
                         cache=tmp_path / "cache-3"))
    assert "3 added" in watched
    listed = json.loads(finish(cli("feeds", "list", "--json", "--chroma-url", chroma_url,
                                   cwd=tmp_path, cache=tmp_path / "cache-4")))
    assert {(f["url"], f["kind"]) for f in listed["feeds"]} == {
        ("https://example.org/feed.rss", ""), (feed, "feed")}
    assert other.feeds.get(feed).state.etag
    assert other.store.count()[0] == 10


def concurrent_ingest(chroma_url: str, tmp_path: Path, caches: tuple[Path, Path]) -> None:
    """Two processes ingest overlapping sets at once: all of the demo corpus, and the second
    half of it plus the fixture articles."""
    demo = DEMO_CORPUS.read_text(encoding="utf-8").splitlines()
    second_half = tmp_path / "second-half.jsonl"
    second_half.write_text("\n".join(demo[8:]) + "\n", encoding="utf-8")
    first = cli("ingest", str(DEMO_CORPUS), "--chroma-url", chroma_url, "--json",
                cwd=tmp_path, cache=caches[0])
    second = cli("ingest", str(second_half), str(ARTICLES), "--chroma-url", chroma_url,
                 "--json", cwd=tmp_path, cache=caches[1])
    reports = [json.loads(finish(first)), json.loads(finish(second))]
    assert all(r["failed"] == [] for r in reports), reports
    assert reports[0]["added"] + reports[0]["unchanged"] + reports[0]["updated"] == 22


def check_same_as_sequential(chroma_url: str, tmp_path: Path, embedder,
                             monkeypatch: pytest.MonkeyPatch) -> NewsAssistant:
    """The server index equals one built by a single process from the same articles."""
    reference = NewsAssistant(index=tmp_path / "reference", embedder=embedder)
    reference.ingest([DEMO_CORPUS, ARTICLES])
    expected = index_summary(reference)
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache-check"))
    shared = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    got = index_summary(shared)
    assert len(got) == 29 and got == expected  # nothing lost, nothing twice
    assert shared.store.count() == reference.store.count()
    return shared


@pytest.mark.server
@pytest.mark.slow
def test_two_processes_ingest_into_one_server_index(chroma_url: str, tmp_path: Path, embedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "unused"))
    concurrent_ingest(chroma_url, tmp_path, (tmp_path / "machine-a", tmp_path / "machine-b"))
    shared = check_same_as_sequential(chroma_url, tmp_path, embedder, monkeypatch)
    passages = shared.store.count()[1]
    assert shared.store.lexical.count() == passages  # rebuilt from the server

    # each machine's cached BM25 index catches up with the other's writes when it next opens
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "machine-a"))
    assert NewsAssistant(chroma_url=chroma_url, embedder=embedder).store.lexical.count() == passages

    answer = cli("ask", "Where was totality longest during the April 2024 solar eclipse?",
                 "--json", "--chroma-url", chroma_url, cwd=tmp_path, cache=tmp_path / "machine-b")
    result = json.loads(finish(answer))
    assert not result["abstained"] and result["citations"]


def _lexical_waits_for_the_writer_lock() -> bool:
    import ingest.lexical

    return hasattr(ingest.lexical, "WRITER_WAIT_SECONDS")


NEEDS_WRITER_WAIT = pytest.mark.skipif(
    not _lexical_waits_for_the_writer_lock(),
    reason="processes sharing one BM25 cache need ingest/lexical.py to wait for tantivy's "
           "writer lock (WRITER_WAIT_SECONDS); see the helper's report")

HOLD_THE_WRITER = """
import sys, time
from ingest.lexical import LexicalIndex
index = LexicalIndex(sys.argv[1])
index.replace_article("held", "h1", ["held#0"], ["written by the other process"], [{}])
print("holding", flush=True)
time.sleep(2)
index.commit()
"""


@NEEDS_WRITER_WAIT
def test_a_second_writer_on_the_bm25_cache_waits_for_the_first(tmp_path: Path) -> None:
    from ingest.lexical import LexicalIndex

    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_WRITER, str(tmp_path / "lexical")],
                              cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        index = LexicalIndex(tmp_path / "lexical")
        index.replace_article("mine", "h2", ["mine#0"], ["written by this process"], [{}])
        index.commit()
    finally:
        holder.wait(timeout=60)
    assert holder.returncode == 0
    index.index.reload()
    assert index.count() == 2
    assert index.article_hashes() == {"held": "h1", "mine": "h2"}


@pytest.mark.server
@pytest.mark.slow
@NEEDS_WRITER_WAIT
def test_two_processes_on_one_machine_share_the_bm25_cache(
    chroma_url: str, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "unused"))
    concurrent_ingest(chroma_url, tmp_path, (tmp_path / "cache", tmp_path / "cache"))
    shared = check_same_as_sequential(chroma_url, tmp_path, embedder, monkeypatch)
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path / "cache"))
    same_machine = NewsAssistant(chroma_url=chroma_url, embedder=embedder)
    assert same_machine.store.lexical.count() == shared.store.count()[1]
