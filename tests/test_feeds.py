"""RSS and Atom feeds as articles, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.errors import SourceError
from ingest.feeds import FULL_TEXT_MIN_CHARS, MAX_ATTEMPTS, FeedState, fetch_feed, is_feed_type
from ingest.web import NotHTMLError, fetch_article
from tests.fixture_server import FIXTURES_WEB, FixtureServer

pytest_plugins = ["tests.conftest_web"]  # until tests/conftest.py registers it

HARBOR_PAGES = [
    "/articles/ferry-resumes.html",
    "/articles/bridge-vote.html",
    "/articles/library-reopens.html",
]


def routes(server: FixtureServer) -> list[str]:
    return [r.route for r in server.requests]


def feed_text(name: str, server: FixtureServer) -> str:
    return (FIXTURES_WEB / "feeds" / name).read_text().replace("{{BASE}}", server.base_url)


def test_rss_summary_only_entries_fetch_their_pages(web_server: FixtureServer) -> None:
    result = fetch_feed(web_server.url("/feeds/harbor.rss"))

    assert routes(web_server) == ["/feeds/harbor.rss", *HARBOR_PAGES]
    assert not result.failures and not result.not_modified
    assert result.title == "Harbor Times"
    ferry, bridge, library = result.articles
    # the entry's title and date, the page's text and canonical URL, the feed as outlet
    assert bridge.title == "Council backs new footbridge"
    assert bridge.published_at == "2024-03-07T18:40:00+00:00"  # +0100 in the feed
    assert bridge.url == web_server.url("/news/2024/bridge-vote")
    assert bridge.origin == web_server.url("/articles/bridge-vote.html")
    assert bridge.source == "Harbor Times"
    assert bridge.body.startswith("Port Alder's council voted eleven to four")
    assert bridge.body.count("\n\n") == 3
    assert ferry.published_at == "2024-03-05T08:15:00+00:00"
    assert library.url == web_server.url("/articles/library-reopens.html")
    assert len({a.id for a in result.articles}) == 3


def test_atom_full_content_entries_are_not_fetched(web_server: FixtureServer) -> None:
    result = fetch_feed(web_server.url("/feeds/courier.atom"))

    # the two full entries come from the feed; only the summary-only one needs its page
    assert routes(web_server) == ["/feeds/courier.atom", "/articles/wind-farm.html"]
    cider, robots, wind = result.articles
    assert cider.title == "Orchard co-operative ships first cider to the mainland"
    assert cider.url == web_server.url("/courier/cider-shipment")
    assert cider.source == "Valley Courier"
    assert cider.published_at == "2024-04-01T07:30:00+00:00"
    assert cider.body.startswith("The Hollin Valley orchard co-operative loaded")
    assert cider.body.count("\n\n") == 2 and "<p>" not in cider.body
    assert len(cider.body) >= FULL_TEXT_MIN_CHARS
    # xhtml content, and a date from <updated> when there is no <published>
    assert robots.body.count("\n\n") == 2
    assert robots.published_at == "2024-04-02T16:00:00+00:00"
    assert wind.body.startswith("Work on the Skerry Bank wind farm")
    assert wind.title == "Offshore wind farm delayed"


def test_article_ids_match_direct_url_ingest(web_server: FixtureServer) -> None:
    from_feed = fetch_feed(web_server.url("/feeds/harbor.rss")).articles[2]
    direct = fetch_article(web_server.url("/articles/library-reopens.html"))
    assert from_feed.id == direct.id


def test_bad_entries_fail_alone(web_server: FixtureServer) -> None:
    feed = web_server.url("/feeds/mixed.rss")
    result = fetch_feed(feed, timeout=0.5)

    assert [a.title for a in result.articles] == [
        "Lighthouse keeper's cottage becomes a museum",
        "Council backs new footbridge",
        "Greywick library reopens",
    ]
    assert result.articles[0].body.startswith("The keeper's cottage beside the Fenn Point")
    assert result.articles[0].source == "Islands Digest"
    reasons = {error.where: error.reason for error in result.failures}
    assert reasons == {
        web_server.url("/status/404"): "HTTP 404 Not Found",
        web_server.url("/docs/annual-report.pdf"): "not HTML (application/pdf)",
        web_server.url("/articles/nav-only.html"): "no article text found",
        web_server.url("/slow?delay=5"): "timeout after 0.5 s (waiting for data)",
        f"{feed} [entry digest-empty]": "no article text found",
    }
    # the full-content entry was never fetched; every other link was tried once
    assert "/digest/lighthouse-museum" not in routes(web_server)
    assert routes(web_server).count("/articles/library-reopens.html") == 1


def test_second_refresh_of_unchanged_feed_fetches_nothing(web_server: FixtureServer) -> None:
    url = web_server.url("/feeds/harbor.rss")
    first = fetch_feed(url)
    assert len(first.articles) == 3
    assert first.state.etag and first.state.last_modified

    web_server.clear_log()
    second = fetch_feed(url, state=first.state)

    assert second.not_modified and second.articles == [] and second.failures == []
    (request,) = web_server.requests  # one request, for the feed: no page was fetched
    assert request.route == "/feeds/harbor.rss"
    assert request.headers["If-None-Match"] == first.state.etag
    assert request.headers["If-Modified-Since"] == first.state.last_modified
    assert request.status == 304
    assert second.state == first.state


def test_state_survives_json(web_server: FixtureServer) -> None:
    url = web_server.url("/feeds/courier.atom")
    first = fetch_feed(url)
    stored = json.loads(json.dumps(first.state.to_dict()))
    web_server.clear_log()

    second = fetch_feed(url, state=FeedState.from_dict(stored))
    assert second.not_modified
    assert [r.status for r in web_server.requests] == [304]
    assert FeedState.from_dict({}) == FeedState()


def test_last_modified_alone_gives_304(web_server: FixtureServer) -> None:
    web_server.put(
        "/lm.rss",
        feed_text("harbor.rss", web_server),
        content_type="application/rss+xml",
        etag=False,
    )
    url = web_server.url("/lm.rss")
    first = fetch_feed(url)
    assert first.state.etag == "" and first.state.last_modified
    web_server.clear_log()

    second = fetch_feed(url, state=first.state)
    assert second.not_modified
    (request,) = web_server.requests
    assert "If-None-Match" not in request.headers
    assert request.headers["If-Modified-Since"] == first.state.last_modified
    assert request.status == 304


def test_changed_feed_fetches_only_new_entries(web_server: FixtureServer) -> None:
    text = feed_text("harbor.rss", web_server)
    two_entries = text.replace(text[text.index("<item>") : text.index("</item>") + 7], "", 1)
    web_server.put("/live.rss", two_entries, content_type="application/rss+xml")
    url = web_server.url("/live.rss")
    first = fetch_feed(url)
    assert [a.title for a in first.articles] == [
        "Council backs new footbridge",
        "Greywick library reopens",
    ]

    web_server.put("/live.rss", text, content_type="application/rss+xml")  # the ferry entry
    web_server.clear_log()
    second = fetch_feed(url, state=first.state)

    assert [a.title for a in second.articles] == ["Ferry service resumes after storm"]
    assert second.unchanged == 2
    assert routes(web_server) == ["/live.rss", "/articles/ferry-resumes.html"]
    assert web_server.requests[0].status == 200
    assert set(second.state.seen) == {
        "harbor-2024-0305-ferry",
        "harbor-2024-0307-bridge",
        "harbor-2024-0309-library",
    }


def test_updated_entry_is_read_again(web_server: FixtureServer) -> None:
    text = feed_text("courier.atom", web_server)
    web_server.put("/c.atom", text, content_type="application/atom+xml")
    url = web_server.url("/c.atom")
    first = fetch_feed(url)

    edited = text.replace(
        "<updated>2024-04-02T16:00:00Z</updated>", "<updated>2024-04-03T08:00:00Z</updated>"
    ).replace("without a single mistake", "with a single mistake")
    web_server.put("/c.atom", edited, content_type="application/atom+xml")
    second = fetch_feed(url, state=first.state)

    (robots,) = second.articles
    assert "with a single mistake" in robots.body
    assert robots.id == first.articles[1].id  # same link, same article: it replaces the old
    assert second.unchanged == 2


def test_failed_entries_are_retried_then_given_up(web_server: FixtureServer) -> None:
    text = feed_text("harbor.rss", web_server).replace("ferry-resumes.html", "later.html")
    web_server.put("/retry.rss", text, content_type="application/rss+xml")
    url = web_server.url("/retry.rss")

    first = fetch_feed(url)
    assert [e.reason for e in first.failures] == ["HTTP 404 Not Found"]
    assert len(first.articles) == 2
    # no validators are kept, so the next refresh re-reads the feed and retries the entry
    assert first.state.etag == "" and first.state.attempts == {"harbor-2024-0305-ferry": 1}

    web_server.put(
        "/articles/later.html", (FIXTURES_WEB / "articles/ferry-resumes.html").read_text()
    )
    web_server.clear_log()
    second = fetch_feed(url, state=first.state)
    assert [a.title for a in second.articles] == ["Ferry service resumes after storm"]
    assert routes(web_server) == ["/retry.rss", "/articles/later.html"]
    assert web_server.requests[0].status == 200
    assert second.state.etag and second.state.attempts == {}

    # an entry that keeps failing is given up after MAX_ATTEMPTS refreshes
    broken = text.replace("later.html", "gone.html")
    web_server.put("/retry.rss", broken, content_type="application/rss+xml")
    state = FeedState()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = fetch_feed(url, state=state)
        state = result.state
        (failure,) = result.failures
        if attempt < MAX_ATTEMPTS:
            assert failure.reason == "HTTP 404 Not Found"
    assert failure.reason == f"HTTP 404 Not Found (gave up after {MAX_ATTEMPTS} tries)"
    assert state.etag and not state.attempts
    web_server.clear_log()
    assert fetch_feed(url, state=state).not_modified


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "/feeds/broken.rss",
            "not a feed (malformed XML: not well-formed (invalid token) at line 6)",
        ),
        ("/articles/ferry-resumes.html", "not a feed (an HTML page)"),
        ("/feeds/missing.rss", "HTTP 404 Not Found"),
        ("/huge?size=6000000&length=0", "too large (> 5000000 bytes)"),
    ],
)
def test_feed_errors_name_the_url(web_server: FixtureServer, path: str, reason: str) -> None:
    url = web_server.url(path)
    with pytest.raises(SourceError) as caught:
        fetch_feed(url)
    assert (caught.value.where, caught.value.reason) == (url, reason)


def test_xml_that_is_no_feed(web_server: FixtureServer) -> None:
    web_server.put(
        "/error.xml",
        '<?xml version="1.0"?><error><code>503</code><message>try later</message></error>',
        content_type="application/xml",
    )
    with pytest.raises(SourceError) as caught:
        fetch_feed(web_server.url("/error.xml"))
    assert caught.value.reason == "not a feed (no RSS or Atom elements)"


def test_truncated_feed_keeps_the_entries_it_has(web_server: FixtureServer) -> None:
    text = feed_text("harbor.rss", web_server)
    cut = text[: text.index("<title>Greywick library reopens")]
    web_server.put("/cut.rss", cut, content_type="application/rss+xml")
    result = fetch_feed(web_server.url("/cut.rss"))
    titles = [a.title for a in result.articles]
    assert titles[:2] == ["Ferry service resumes after storm", "Council backs new footbridge"]
    assert result.warnings and result.warnings[0].startswith("malformed XML")


def test_fetch_pages_false_uses_the_summaries(web_server: FixtureServer) -> None:
    result = fetch_feed(web_server.url("/feeds/harbor.rss"), fetch_pages=False)
    assert routes(web_server) == ["/feeds/harbor.rss"]
    ferry, bridge, _ = result.articles
    assert ferry.body == "The Greywick ferry is sailing again after storm repairs."
    assert bridge.body == "Councillors voted eleven to four for the estuary bridge."  # tags gone
    assert ferry.url == web_server.url("/articles/ferry-resumes.html")


def test_feed_from_a_file(web_server: FixtureServer, tmp_path: Path) -> None:
    path = tmp_path / "harbor.rss"
    path.write_text(feed_text("harbor.rss", web_server))
    first = fetch_feed(str(path))
    assert [a.source for a in first.articles] == ["Harbor Times"] * 3
    assert routes(web_server) == HARBOR_PAGES
    web_server.clear_log()
    # a file has no validators, but seen entries are still skipped
    second = fetch_feed(path.as_uri(), state=first.state)
    assert second.articles == [] and second.unchanged == 3
    assert web_server.requests == []


def test_missing_file() -> None:
    with pytest.raises(SourceError) as caught:
        fetch_feed("/no/such/feed.xml")
    assert str(caught.value) == "/no/such/feed.xml: file not found"


def test_aggregator_source_element_names_the_outlet(web_server: FixtureServer) -> None:
    text = feed_text("harbor.rss", web_server).replace(
        '<guid isPermaLink="false">harbor-2024-0305-ferry</guid>',
        '<guid isPermaLink="false">harbor-2024-0305-ferry</guid>'
        '<source url="https://islands.example/rss">Islands Gazette</source>',
    )
    web_server.put("/agg.rss", text, content_type="application/rss+xml")
    result = fetch_feed(web_server.url("/agg.rss"), fetch_pages=False)
    assert [a.source for a in result.articles] == [
        "Islands Gazette",
        "Harbor Times",
        "Harbor Times",
    ]


def test_relative_links_resolve_against_the_final_feed_url(web_server: FixtureServer) -> None:
    text = feed_text("harbor.rss", web_server).replace(
        web_server.base_url + "/articles/", "../articles/"
    )
    web_server.put("/moved/feed.rss", text, content_type="application/rss+xml")
    result = fetch_feed(web_server.url("/redirect?to=/moved/feed.rss&code=301"))
    assert not result.failures
    assert routes(web_server) == ["/redirect", "/moved/feed.rss", *HARBOR_PAGES]
    assert result.articles[0].origin == web_server.url("/articles/ferry-resumes.html")


@pytest.mark.parametrize(
    ("path", "is_feed"),
    [
        ("/feeds/harbor.rss", True),
        ("/feeds/courier.atom", True),
        ("/docs/annual-report.pdf", False),
    ],
)
def test_a_feed_url_is_recognised_from_its_content_type(
    web_server: FixtureServer, path: str, is_feed: bool
) -> None:
    # How a caller tells a feed URL from a page URL: try the page, look at the refusal.
    with pytest.raises(NotHTMLError) as caught:
        fetch_article(web_server.url(path))
    assert is_feed_type(caught.value.media_type) is is_feed


def test_feed_file_and_feed_url_ingest_through_the_assistant(bot, web_server, tmp_path):
    """A feed given to ``NewsAssistant.ingest`` as a URL or a saved file indexes its entries."""
    report = bot.ingest([web_server.url("/feeds/courier.atom")])
    assert len(report.added) >= 2 and report.ok
    saved = tmp_path / "courier.atom"
    saved.write_text(feed_text("courier.atom", web_server))
    again = bot.ingest([saved])
    assert again.ok and sorted(again.unchanged) == sorted(report.added)
