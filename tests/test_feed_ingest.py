"""``ingest FEED_URL``: the feed is downloaded once, and a repeated ingest skips the entries the
index already holds with the same link and date (no page is downloaded again)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixture_server import FIXTURES_WEB, FixtureServer

FEED = "/feeds/harbor.rss"
PAGES = [
    "/articles/ferry-resumes.html",
    "/articles/bridge-vote.html",
    "/articles/library-reopens.html",
]


def routes(server: FixtureServer) -> list[str]:
    return [r.route for r in server.requests]


def harbor_feed(server: FixtureServer) -> str:
    return (FIXTURES_WEB / "feeds" / "harbor.rss").read_text().replace("{{BASE}}", server.base_url)


def test_feed_url_is_downloaded_once(bot, web_server: FixtureServer) -> None:
    report = bot.ingest([web_server.url(FEED)])
    assert routes(web_server) == [FEED, *PAGES]
    assert len(report.added) == 3 and report.ok


def test_repeated_feed_ingest_downloads_no_page_again(bot, web_server: FixtureServer) -> None:
    first = bot.ingest([web_server.url(FEED)])
    web_server.clear_log()
    again = bot.ingest([web_server.url(FEED)])
    assert routes(web_server) == [FEED]
    assert again.added == [] and again.updated == [] and again.ok
    assert sorted(again.unchanged) == sorted(first.added)


def test_changed_and_new_entries_are_read_again(bot, web_server: FixtureServer) -> None:
    bot.ingest([web_server.url(FEED)])
    feed = harbor_feed(web_server)
    # the bridge entry gets a new date; a new entry links to another page
    feed = feed.replace("Thu, 07 Mar 2024 19:40:00 +0100", "Fri, 08 Mar 2024 09:00:00 GMT")
    new_item = (
        "<item><title>Wind farm delayed</title>"
        f"<link>{web_server.base_url}/articles/wind-farm.html</link>"
        "<guid>harbor-2024-0310-wind</guid><pubDate>Sun, 10 Mar 2024 09:00:00 GMT</pubDate>"
        "<description>Short.</description></item>\n</channel>"
    )
    web_server.put(FEED, feed.replace("</channel>", new_item),
                   content_type="application/rss+xml; charset=utf-8")
    web_server.clear_log()
    report = bot.ingest([web_server.url(FEED)])
    assert routes(web_server) == [FEED, "/articles/bridge-vote.html", "/articles/wind-farm.html"]
    assert len(report.added) == 1 and len(report.updated) == 1 and len(report.unchanged) == 2


def test_saved_feed_file_skips_indexed_entries(bot, web_server: FixtureServer, tmp_path) -> None:
    saved = tmp_path / "harbor.rss"
    saved.write_text(harbor_feed(web_server))
    first = bot.ingest([saved])
    assert routes(web_server) == PAGES and len(first.added) == 3
    web_server.clear_log()
    again = bot.ingest([saved])
    assert routes(web_server) == []
    assert sorted(again.unchanged) == sorted(first.added)


def test_a_page_url_is_downloaded_once(bot, web_server: FixtureServer) -> None:
    report = bot.ingest([web_server.url(PAGES[0])])
    assert routes(web_server) == [PAGES[0]] and len(report.added) == 1


def test_a_feed_served_without_content_type_is_recognised(bot, web_server) -> None:
    web_server.put("/untyped", harbor_feed(web_server), content_type="")
    report = bot.ingest([web_server.url("/untyped")])
    assert routes(web_server) == ["/untyped", *PAGES] and len(report.added) == 3


def test_not_html_nor_feed_is_refused_before_its_body(bot, web_server) -> None:
    report = bot.ingest([web_server.url("/docs/annual-report.pdf")])
    assert [e.reason for e in report.failed] == ["not HTML (application/pdf)"]


@pytest.mark.slow  # two real CLI processes
def test_cli_ingest_of_a_feed_twice(tmp_path: Path, web_server: FixtureServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}

    def ingest() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest", web_server.url(FEED), "--json"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert ingest()["added"] == 3
    assert routes(web_server) == [FEED, *PAGES]
    web_server.clear_log()
    again = ingest()
    assert (again["added"], again["unchanged"]) == (0, 3)
    assert routes(web_server) == [FEED]
