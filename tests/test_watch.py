"""Following feeds: the feed list kept with the index, refresh rounds, and ``watch``."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant import NewsAssistant
from ingest.feedlist import ChromaFeedList, LocalFeedList
from ingest.feeds import FeedState
from tests.fixture_server import FIXTURES_WEB, FixtureServer

HARBOR_PAGES = {"/articles/ferry-resumes.html", "/articles/bridge-vote.html",
                "/articles/library-reopens.html"}


def feed_text(name: str) -> str:
    return (FIXTURES_WEB / "feeds" / name).read_text()


def without_first_item(text: str) -> str:
    return text.replace(text[text.index("<item>") : text.index("</item>") + 7], "", 1)


# ---- the feed list -------------------------------------------------------------------------
def test_local_feed_list_add_list_remove(tmp_path: Path) -> None:
    feeds = LocalFeedList(tmp_path / "index")
    assert feeds.list() == []
    assert feeds.add("https://example.org/feed.xml") is True
    assert feeds.add("https://example.org/feed.xml") is False
    assert feeds.add(str(tmp_path / "feeds" / ".." / "local.rss")) is True
    assert [f.url for f in feeds.list()] == [
        "https://example.org/feed.xml", str(tmp_path / "local.rss")]
    saved = feeds.get("https://example.org/feed.xml")
    assert saved is not None and saved.added_at
    stored = json.loads((tmp_path / "index" / "feeds.json").read_text())
    assert [f["url"] for f in stored["feeds"]] == [f.url for f in feeds.list()]
    assert feeds.remove("https://example.org/feed.xml") is True
    assert feeds.remove("https://example.org/feed.xml") is False
    # saving the state of a feed removed meanwhile does not bring it back
    assert feeds.save(saved) is False
    assert [f.url for f in feeds.list()] == [str(tmp_path / "local.rss")]


def test_local_feed_list_loses_no_update_under_concurrent_writers(tmp_path: Path) -> None:
    directory = tmp_path / "index"

    def writer(n: int) -> None:
        feeds = LocalFeedList(directory)  # each thread opens the file on its own, like a process
        for i in range(25):
            feeds.add(f"https://example.org/{n}/{i}.xml")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(LocalFeedList(directory).list()) == 100
    assert sorted(p.name for p in directory.iterdir()) == ["feeds.json", "feeds.lock"]


def test_chroma_feed_list_keeps_state_without_any_embedding_function(tmp_path: Path) -> None:
    from ingest.store import open_client

    # sockets are closed to all but loopback: a default embedding function would fail here
    feeds = ChromaFeedList(open_client(path=tmp_path / "index"))
    assert feeds.add("https://example.org/a.rss") and not feeds.add("https://example.org/a.rss")
    feed = feeds.get("https://example.org/a.rss")
    assert feed is not None
    state = FeedState(etag='"abc"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
                      seen={"entry-1": "2024-01-01"})
    assert feeds.save(feed.__class__(**{**feed.__dict__, "kind": "feed", "state": state}))
    again = ChromaFeedList(open_client(path=tmp_path / "index")).get("https://example.org/a.rss")
    assert again is not None and again.state == state and again.kind == "feed"
    assert again.added_at == feed.added_at
    assert feeds.remove("https://example.org/a.rss") and feeds.list() == []


# ---- refresh rounds ------------------------------------------------------------------------
def test_refresh_ingests_then_asks_only_for_changes(bot: NewsAssistant,
                                                    web_server: FixtureServer) -> None:
    web_server.put("/live.rss", without_first_item(feed_text("harbor.rss")),
                   content_type="application/rss+xml")
    url = web_server.url("/live.rss")

    first = bot.refresh([url])
    (source,) = first.sources
    assert source.ok and source.kind == "feed" and len(source.report.added) == 2
    followed = bot.feeds.get(url)
    assert followed.kind == "feed" and followed.title == "Harbor Times"
    assert followed.state.etag and followed.refreshed_at

    web_server.clear_log()
    second = bot.refresh()  # all followed feeds
    assert second.sources[0].not_modified
    (request,) = web_server.requests
    assert request.headers["If-None-Match"] == followed.state.etag and request.status == 304

    web_server.put("/live.rss", feed_text("harbor.rss"), content_type="application/rss+xml")
    web_server.clear_log()
    third = bot.refresh()
    assert len(third.sources[0].report.added) == 1 and third.sources[0].report.unchanged == []
    assert [r.route for r in web_server.requests] == ["/live.rss", "/articles/ferry-resumes.html"]
    assert bot.store.articles.count() == 3


class BrokenEmbedder:
    """The real embedder, except that embedding fails, as an embeddings endpoint that is down
    would: fault injection, not a canned result."""

    def __init__(self, real) -> None:
        self.name, self.max_tokens = real.name, real.max_tokens
        self.count_tokens = real.count_tokens

    def embed(self, texts):
        raise ConnectionError("embedding endpoint unreachable")


def test_feed_state_is_saved_only_after_the_ingest_succeeds(
    tmp_path: Path, embedder, web_server: FixtureServer
) -> None:
    url = web_server.url("/feeds/harbor.rss")
    broken = NewsAssistant(index=tmp_path / "index", embedder=BrokenEmbedder(embedder))
    failed = broken.refresh([url])
    (source,) = failed.sources
    assert not failed.ok and "embedding endpoint unreachable" in source.error
    kept = broken.feeds.get(url)
    assert kept.state == FeedState() and kept.refreshed_at == ""  # nothing remembered

    web_server.clear_log()
    working = NewsAssistant(index=tmp_path / "index", embedder=embedder)
    done = working.refresh()
    assert done.ok and len(done.sources[0].report.added) == 3
    # the feed was read again in full: no validators sent, every page fetched
    assert "If-None-Match" not in web_server.requests[0].headers
    assert {r.route for r in web_server.requests[1:]} == HARBOR_PAGES


def test_a_page_url_is_followed_as_a_page(bot: NewsAssistant, web_server: FixtureServer) -> None:
    url = web_server.url("/articles/bridge-vote.html")
    first = bot.refresh([url])
    assert first.sources[0].kind == "page" and len(first.sources[0].report.added) == 1
    second = bot.refresh([url])
    assert second.sources[0].report.unchanged and second.sources[0].report.chunks_written == 0
    assert bot.feeds.get(url).kind == "page"


def test_one_bad_source_does_not_stop_the_round(bot: NewsAssistant,
                                                web_server: FixtureServer) -> None:
    result = bot.refresh([web_server.url("/status/404"), web_server.url("/feeds/courier.atom")])
    gone, courier = result.sources
    assert "404" in gone.error
    assert gone.line().startswith(web_server.url("/status/404"))
    assert courier.ok and len(courier.report.added) == 3


# ---- the watch command ---------------------------------------------------------------------
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    env["NEWS_ASSISTANT_CACHE"] = str(tmp_path / "cache")
    return env


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=cwd,
                          env=cli_env(cwd), capture_output=True, text=True, timeout=300)


def test_feeds_command(tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    added = run_cli("feeds", "add", "https://example.org/a.rss", "--index", index, cwd=tmp_path)
    assert added.returncode == 0 and "following: https://example.org/a.rss" in added.stdout
    listed = json.loads(run_cli("feeds", "list", "--json", "--index", index, cwd=tmp_path).stdout)
    assert [f["url"] for f in listed["feeds"]] == ["https://example.org/a.rss"]
    removed = run_cli("feeds", "remove", "https://example.org/a.rss", "https://example.org/b",
                      "--index", index, cwd=tmp_path)
    assert removed.returncode == 1 and "not followed: https://example.org/b" in removed.stderr
    empty = run_cli("watch", "--once", "--index", index, cwd=tmp_path)
    assert empty.returncode == 2 and "no feeds followed" in empty.stderr


@pytest.mark.slow
def test_watch_refreshes_until_stopped(tmp_path: Path, web_server: FixtureServer) -> None:
    web_server.put("/live.rss", without_first_item(feed_text("harbor.rss")),
                   content_type="application/rss+xml")
    url = web_server.url("/live.rss")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "watch", url, "--every", "1s",
         "--index", str(tmp_path / "index")],
        cwd=tmp_path, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True)
    reader.start()
    seen: list[str] = []

    def wait_for(text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                assert process.poll() is None, (seen, process.stderr.read())
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} in {seen}")

    try:
        assert "2 added" in wait_for("round 1:")
        assert "not modified" in wait_for("round 2:")
        web_server.put("/live.rss", feed_text("harbor.rss"), content_type="application/rss+xml")
        line = wait_for("1 added")
        assert "round " in line
        wait_for("added: Ferry service resumes after storm")  # what the round added, by title
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get())
    assert "stopped" in seen[-1]
    feed_requests = web_server.requests_to("/live.rss")
    assert len(feed_requests) >= 3
    assert feed_requests[1].status == 304 and "If-None-Match" in feed_requests[1].headers
    # every page was fetched once: unchanged entries are never fetched again
    pages = [r.route for r in web_server.requests if r.route.startswith("/articles/")]
    assert sorted(pages) == sorted(HARBOR_PAGES)
    listed = json.loads(run_cli("feeds", "list", "--json", "--index", str(tmp_path / "index"),
                                cwd=tmp_path).stdout)
    assert [(f["url"], f["kind"]) for f in listed["feeds"]] == [(url, "feed")]
