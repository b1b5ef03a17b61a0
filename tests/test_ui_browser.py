"""End to end in real headless Chromium (Debian's chromium driven by Playwright): ask, see the
streamed answer and its marker, open the cited passage, add news, filter, and stay inert against
HTML in articles. Screenshots go to each test's tmp dir."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
DEMO_QUESTION = "What did Xi say about Ukraine?"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="needs Debian's chromium: apt-get install -y chromium"),
]

SKERRY = ("Lighthouse keepers return to Skerry Point\nCoastal Chronicle\n"
          "The Skerry Point lighthouse will again have resident keepers from June, the maritime "
          "authority said on Monday.\n\nThe keepers will live in the restored cottages beside "
          "the tower.\n")
EVIL = {
    "id": "evil-1", "published_at": "2024-03-02", "url": "javascript:window.__xss='url'",
    "title": "Harbor <img src=x onerror=\"window.__xss='title';alert('title')\"> toll vote",
    "source": "Evil <b>Gazette</b><img src=x onerror=\"window.__xss='source'\">",
    "body": ("The harbor council voted on Tuesday to approve the new bridge toll plan. "
             "<script>window.__xss='script';alert('script')</script> Council member Dana Ruiz "
             "said the toll plan <img src=x onerror=\"window.__xss='img';alert('img')\"> would "
             "fund repairs ${alert('tpl')} {{constructor}} for a decade.\n\nThe vote passed 7 "
             "to 2 after a long debate about the harbor toll plan."),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder) -> Iterator[SimpleNamespace]:
    from assistant import NewsAssistant
    from ui.app import build_app, launch

    bot = NewsAssistant(index=tmp_path_factory.mktemp("ui-browser") / "index", embedder=embedder,
                        llm="extractive")
    assert bot.ingest_demo().ok
    app = build_app(bot)
    url = launch(app, port=free_port(), block=False, quiet=True)
    yield SimpleNamespace(bot=bot, url=url)
    app.close()


@pytest.fixture
def page(served, tmp_path: Path):
    """A fresh Chromium profile; records dialogs, page errors and every request's host."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 950},
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.seen = SimpleNamespace(dialogs=[], errors=[], hosts=set())
        page.on("dialog", lambda d: (page.seen.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: page.seen.errors.append(str(e)))
        page.on("request", lambda r: page.seen.hosts.add(urlparse(r.url).hostname))
        page.goto(served.url)
        page.locator("#na-status").get_by_text("articles").wait_for()
        yield page
        context.close()


def ask(page, question: str) -> None:
    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#na-question textarea")
    box.fill(question)
    box.press("Enter")


def last_bot_message(page):
    return page.locator("#na-chat [data-testid=bot]").last


def upload(page, *paths: Path) -> str:
    """Add files through the "Add news" tab; returns the summary text."""
    page.get_by_role("tab", name="Add news").click()
    page.locator("#na-files input[type=file]").set_input_files([str(p) for p in paths])
    page.locator("#na-files").get_by_text(paths[0].name).first.wait_for()
    page.locator("#na-add").click()
    summary = page.locator("#na-add-summary .na-ingest-counts")
    summary.wait_for()
    return page.locator("#na-add-summary").inner_text()


def test_ask_open_citation_add_news_and_ask_again(page, served, tmp_path: Path) -> None:
    # record every text the answer bubble shows, to see it arrive in pieces
    page.evaluate("""() => {
        window.__seen = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll('#na-chat [data-testid=bot]');
            if (bots.length) window.__seen.push(bots[bots.length - 1].innerText);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    ask(page, DEMO_QUESTION)
    marker = last_bot_message(page).locator(".na-cite a").first
    marker.wait_for()
    assert page.locator("#na-question textarea").input_value() == ""
    pieces = {s for s in page.evaluate("window.__seen") if s.startswith("Xi") and "[1]" not in s}
    assert len(pieces) >= 3, "the answer streams in, word by word, before its marker"
    assert "Xi said China's position on Ukraine" in last_bot_message(page).inner_text()

    quote = page.locator("#na-sources mark").first.inner_text()
    assert quote and quote in marker.get_attribute("title")  # hover reveals the quote
    card = page.locator("#na-sources .na-card").first
    assert "Putin courts Xi in Beijing" in card.inner_text()
    assert "Northwind Wire" in card.inner_text() and "2024-05-17" in card.inner_text()
    assert card.locator("a.na-original").get_attribute("href").startswith("https://example.org/")
    context = card.locator("blockquote").first.inner_text()
    assert len(context) > len(quote) + 40  # the quote is shown inside its passage

    marker.click()  # click reveals: jumps to the highlighted quote in the sources panel
    target = page.locator("#na-sources mark:target")
    target.wait_for()
    assert page.url.endswith("#cite-1-1") and target.inner_text() == quote
    assert target.evaluate("""m => { const r = m.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""")
    page.screenshot(path=str(tmp_path / "1-answer.png"), full_page=True)

    article = tmp_path / "skerry.txt"
    article.write_text(SKERRY)
    summary = upload(page, article)
    assert "1 added" in summary and "0 failed" in summary, summary
    assert "23 articles" in page.locator("#na-status").inner_text()
    page.screenshot(path=str(tmp_path / "2-added.png"), full_page=True)

    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 11_000_000)
    page.locator("#na-files input[type=file]").set_input_files([str(big)])
    page.get_by_text(re.compile("exceed the maximum allowed size")).first.wait_for()

    page.get_by_role("tab", name="Chat").click()
    page.locator("#na-new").click()
    page.wait_for_function("document.querySelectorAll('#na-chat [data-testid=bot]').length == 0")
    ask(page, "Will the Skerry Point lighthouse have resident keepers again?")
    page.locator("#na-sources .na-card").get_by_text("Lighthouse keepers return").wait_for()
    assert last_bot_message(page).locator(".na-cite a").count() >= 1
    assert "Coastal Chronicle" in page.locator("#na-sources .na-card").first.inner_text()
    assert len(page.locator("#na-chat [data-testid=user]").all()) == 1  # a new conversation
    page.screenshot(path=str(tmp_path / "3-new-article.png"), full_page=True)

    assert not page.seen.errors and not page.seen.dialogs
    assert page.seen.hosts <= LOOPBACK, f"the page reached out to {page.seen.hosts - LOOPBACK}"


def test_outlet_filter_applies_to_the_next_question(page, tmp_path: Path) -> None:
    question = "Where was totality longest during the April 2024 solar eclipse?"
    page.locator("#na-filters").get_by_text("Filters").click()
    page.locator("#na-outlets input").click()
    page.get_by_role("option", name="Meridian Post").click()
    page.keyboard.press("Escape")
    ask(page, question)
    page.locator("#na-sources .na-card").first.wait_for()
    metas = page.locator("#na-sources .na-meta").all_inner_texts()
    assert metas and all(m.startswith("Meridian Post") for m in metas), metas
    page.screenshot(path=str(tmp_path / "filtered.png"), full_page=True)


def test_html_in_an_article_renders_inert(page, tmp_path: Path) -> None:
    evil = tmp_path / "evil.jsonl"
    evil.write_text(json.dumps(EVIL) + "\n")
    assert "1 added" in upload(page, evil)
    ask(page, "What did Dana Ruiz say about the toll plan?")
    page.locator("#na-sources mark").first.wait_for()
    page.wait_for_timeout(1000)  # give any injected handler time to fire
    page.get_by_role("tab", name="Index").click()
    page.locator("#na-stats").get_by_text("Evil").wait_for()
    page.get_by_role("tab", name="Chat").click()
    page.locator("#na-filters").get_by_text("Filters").click()
    page.locator("#na-outlets input").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "inert.png"), full_page=True)

    assert page.seen.dialogs == [] and page.evaluate("window.__xss") is None
    injected = "#na-chat img, #na-chat script, #na-sources img, #na-sources script, " \
               "#na-stats img, #na-stats b, #na-outlets img, #na-outlets b, #na-sources b"
    assert page.locator(injected).count() == 0
    sources = page.locator("#na-sources").inner_text()
    assert "<script>window.__xss='script';alert('script')</script>" in sources
    assert "Harbor <img src=x onerror=" in sources and "${alert('tpl')} {{constructor}}" in sources
    assert "<img src=x onerror=" in last_bot_message(page).inner_text()
    assert page.locator("#na-sources a[href^='javascript']").count() == 0
    assert "Evil <b>Gazette</b>" in page.locator("#na-stats").inner_text()
