"""Fetching web pages as articles, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from ingest.errors import IngestError, SourceError
from ingest.web import (
    USER_AGENT,
    extract_html_article,
    fetch_article,
    html_fragment_to_text,
)
from tests.fixture_server import FIXTURES_WEB, FixtureServer

pytest_plugins = ["tests.conftest_web"]  # until tests/conftest.py registers it


def fetch_error(url: str, **kwargs: object) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch_article(url, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_fetch_article_extracts_text_and_metadata(web_server: FixtureServer) -> None:
    url = web_server.url("/articles/ferry-resumes.html")
    article = fetch_article(url)

    assert article.title == "Ferry service resumes after storm"
    assert article.source == "Harbor Times"
    assert article.published_at == "2024-03-05"
    # the relative canonical link is resolved against the page URL
    assert article.url == web_server.url("/news/2024/ferry-resumes")
    assert article.origin == url
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The island ferry between Port Alder and Greywick")
    # a <br> inside a paragraph stays a single line break
    assert paragraphs[2].endswith(
        "closed.\nThe council said it would review the terminal's storm defences in the spring."
    )
    # the headline is the title, not the first paragraph; menus, footers, scripts are gone
    for boilerplate in ("Ferry service resumes", "Sport", "All rights reserved", "analytics"):
        assert boilerplate not in article.body


def test_request_sends_user_agent(web_server: FixtureServer) -> None:
    fetch_article(web_server.url("/articles/bridge-vote.html"))
    (request,) = web_server.requests_to("/articles/bridge-vote.html")
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT == "news-assistant/0.1 (+https://github.com/news-assistant)"


def test_date_from_time_element_and_absolute_canonical(web_server: FixtureServer) -> None:
    article = fetch_article(web_server.url("/articles/bridge-vote.html"))
    assert article.published_at == "2024-03-07"
    assert article.url == web_server.url("/news/2024/bridge-vote")
    assert article.body.startswith("Port Alder's council voted eleven to four")
    assert article.body.endswith("approves the design.")


def test_json_ld_metadata_and_list_items(web_server: FixtureServer) -> None:
    library = fetch_article(web_server.url("/articles/library-reopens.html"))
    assert library.source == "Harbor Times"  # the JSON-LD publisher
    assert library.published_at == "2024-03-09"
    wind = fetch_article(web_server.url("/articles/wind-farm.html"))
    assert wind.source == "Valley Courier"
    assert wind.url == web_server.url("/courier/wind-farm-delayed")  # og:url
    assert "\n\nPlanned capacity: 480 megawatts\n\nTurbines: 32\n\n" in wind.body
    assert "Front page" not in wind.body


def test_redirect_is_followed_and_page_without_canonical_keeps_final_url(
    web_server: FixtureServer,
) -> None:
    start = web_server.url("/redirect?to=/articles/library-reopens.html&code=301")
    article = fetch_article(start)
    assert article.url == web_server.url("/articles/library-reopens.html")
    assert article.origin == start
    assert [r.status for r in web_server.requests] == [301, 200]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/status/404", "HTTP 404 Not Found"),
        ("/status/410", "HTTP 410 Gone"),
        ("/status/503", "HTTP 503 Service Unavailable"),
        ("/articles/no-such-page.html", "HTTP 404 Not Found"),
        ("/docs/annual-report.pdf", "not HTML (application/pdf)"),
        ("/articles/nav-only.html", "no article text found"),
        ("/redirect-loop", "too many redirects"),
    ],
)
def test_error_reasons_name_the_url(web_server: FixtureServer, path: str, reason: str) -> None:
    url = web_server.url(path)
    error = fetch_error(url)
    assert error.reason == reason
    assert error.where == url
    assert str(error) == f"{url}: {reason}"
    assert isinstance(error, IngestError)


def test_redirect_to_a_404_names_the_requested_url(web_server: FixtureServer) -> None:
    url = web_server.url("/redirect?to=/status/404")
    error = fetch_error(url)
    assert (error.where, error.reason) == (url, "HTTP 404 Not Found")


def test_non_html_is_refused_before_the_body_is_read(web_server: FixtureServer) -> None:
    # Reading this 6 MB body would hit the size cap; the type check comes first.
    url = web_server.url("/huge?size=6000000&length=0&type=image/png")
    assert fetch_error(url).reason == "not HTML (image/png)"


def test_slow_response_times_out(web_server: FixtureServer) -> None:
    url = web_server.url("/slow?delay=5")
    started = time.monotonic()
    error = fetch_error(url, timeout=0.5)
    assert time.monotonic() - started < 3
    assert error.where == url
    assert error.reason == "timeout after 0.5 s (waiting for data)"


def test_trickling_response_hits_the_overall_deadline(web_server: FixtureServer) -> None:
    # Every chunk arrives within the read timeout, but the whole would take 10 s.
    url = web_server.url("/drip?chunks=50&interval=0.2")
    started = time.monotonic()
    error = fetch_error(url, timeout=1.0)
    assert time.monotonic() - started < 4
    assert error.reason == "timeout after 1 s (download too slow)"


@pytest.mark.parametrize("with_length", ["1", "0"])
def test_huge_page_is_refused(web_server: FixtureServer, with_length: str) -> None:
    # With Content-Length the size is refused up front; without, the stream is cut off.
    url = web_server.url(f"/huge?size=300000&length={with_length}")
    error = fetch_error(url, max_bytes=100_000)
    assert (error.where, error.reason) == (url, "too large (> 100000 bytes)")


def test_default_size_cap_is_five_megabytes(web_server: FixtureServer) -> None:
    url = web_server.url("/huge?size=6000000&length=0")
    assert fetch_error(url).reason == "too large (> 5000000 bytes)"
    assert fetch_article(web_server.url("/huge?size=400000")).body.startswith("Filler text")


def test_dns_failure() -> None:
    url = "http://no-such-host.invalid/story"
    error = fetch_error(url, timeout=5)
    assert error.where == url
    assert error.reason.startswith("DNS lookup failed for no-such-host.invalid")


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/story"
    error = fetch_error(url)
    assert (error.where, error.reason) == (url, "connection refused")


def test_server_hanging_up(web_server: FixtureServer) -> None:
    error = fetch_error(web_server.url("/hangup"))
    assert error.reason.startswith("connection closed by the server")


@pytest.mark.parametrize("url", ["ftp://example.org/story.html", "/etc/passwd", "mailto:x@y.z"])
def test_only_http_urls_are_fetched(url: str) -> None:
    error = fetch_error(url)
    assert error.where == url
    assert error.reason.startswith("unsupported URL")


def test_charset_from_the_content_type_header(web_server: FixtureServer) -> None:
    text = (
        "<html><head><title>Café owner wins award</title></head><body><article>"
        "<h1>Café owner wins award</h1>"
        "<p>Søren Ålund, who runs the harbour café in Greywick, received the regional prize "
        "for small businesses on Thursday for turning his café into a winter shelter.</p>"
        "<p>He said the prize money would pay for a new oven and a second-hand piano.</p>"
        "</article></body></html>"
    )
    web_server.put(
        "/latin1.html", text.encode("iso-8859-1"), content_type="text/html; charset=iso-8859-1"
    )
    article = fetch_article(web_server.url("/latin1.html"))
    assert article.title == "Café owner wins award"
    assert article.body.startswith("Søren Ålund, who runs the harbour café")


def test_caller_supplied_client_is_used_and_left_open(web_server: FixtureServer) -> None:
    with httpx.Client() as client:
        first = fetch_article(web_server.url("/articles/ferry-resumes.html"), client=client)
        second = fetch_article(web_server.url("/articles/bridge-vote.html"), client=client)
        assert not client.is_closed
    assert first.title and second.title
    # our User-Agent is sent even through a client that has its own default
    assert {r.headers["User-Agent"] for r in web_server.requests} == {USER_AGENT}


def test_extract_html_article_works_offline_on_a_file(tmp_path: Path) -> None:
    path = FIXTURES_WEB / "articles" / "ferry-resumes.html"
    article = extract_html_article(path.read_bytes(), origin=str(path))
    assert article.title == "Ferry service resumes after storm"
    assert article.origin == str(path)
    # a relative canonical link cannot be resolved without the page URL
    assert article.url == ""
    assert article.body.count("\n\n") == 2
    with pytest.raises(SourceError) as caught:
        extract_html_article(
            (FIXTURES_WEB / "articles" / "nav-only.html").read_text(), origin="x.html"
        )
    assert str(caught.value) == "x.html: no article text found"


def test_same_url_gives_same_article_id(web_server: FixtureServer) -> None:
    direct = fetch_article(web_server.url("/articles/library-reopens.html"))
    redirected = fetch_article(web_server.url("/redirect?to=/articles/library-reopens.html"))
    assert direct.id == redirected.id
    assert direct.content_hash == redirected.content_hash


def test_html_fragment_to_text() -> None:
    fragment = (
        "<p>First <b>bold</b> &amp; plain.</p><ul><li>one</li><li>two</li></ul>"
        "loose text<br/>next line<script>ignored()</script><!-- a comment -->"
        "<table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert html_fragment_to_text(fragment) == (
        "First bold & plain.\n\none\n\ntwo\n\nloose text\nnext line\n\na b"
    )
    assert html_fragment_to_text("Fish &amp; chips") == "Fish & chips"
    assert html_fragment_to_text("   ") == ""
