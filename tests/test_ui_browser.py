"""End to end in real headless Chromium (Debian's chromium driven by Playwright): ask, see the
streamed answer and its marker, open the cited passage (of any turn), keep conversations across
reloads, stop, regenerate, copy, rate, follow a suggestion, filter (chips), manage the library,
add news, phone layout, and stay inert against HTML in articles. Screenshots go to each test's
tmp dir."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
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


class SlowWhenAsked:
    """The real assistant, except that a question containing "slowly" streams one word every
    0.4 s (a test-only slow answerer, for Stop)."""

    def __init__(self, bot) -> None:
        self._bot = bot

    def __getattr__(self, name: str):
        return getattr(self._bot, name)

    def chat(self):
        from assistant.api import Chat

        return Chat(self)

    def stream(self, question: str, **kwargs):
        for event in self._bot.stream(question, **kwargs):
            if event.answer is None and "slowly" in question:
                time.sleep(0.4)
            yield event


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder) -> Iterator[SimpleNamespace]:
    from assistant import NewsAssistant
    from ui.app import build_app, launch
    from ui.conversations import ConversationStore, store_path

    index = tmp_path_factory.mktemp("ui-browser") / "index"
    bot = NewsAssistant(index=index, embedder=embedder, llm="extractive")
    assert bot.ingest_demo().ok
    app = build_app(SlowWhenAsked(bot))
    url = launch(app, port=free_port(), block=False, quiet=True)
    yield SimpleNamespace(bot=bot, url=url, store=ConversationStore(store_path(index)))
    app.close()


def open_page(pw, served, profile: Path, **options):
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        **({"viewport": {"width": 1366, "height": 900}} | options),
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.seen = SimpleNamespace(dialogs=[], errors=[], hosts=set())
    page.on("dialog", lambda d: (page.seen.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.seen.errors.append(str(e)))
    page.on("request", lambda r: page.seen.hosts.add(urlparse(r.url).hostname))
    page.goto(served.url)
    page.locator("#na-status").get_by_text("articles").wait_for(state="attached")
    return context, page


@pytest.fixture
def page(served, tmp_path: Path):
    """A fresh Chromium profile (so a new browser id); records dialogs, page errors and every
    request's host."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context, page = open_page(pw, served, tmp_path / "profile")
        yield page
        context.close()


def bot_messages(page):
    return page.locator("#na-chat [data-testid=bot]")


def wait_for_answers(page, n: int) -> None:
    """Until ``n`` finished answers show (each ends with its Copy link) and the sources panel
    has the latest one's turn."""
    page.wait_for_function(
        "n => document.querySelectorAll('#na-chat [data-testid=bot] a.na-copy').length == n"
        " && (n == 0 || document.querySelector('#na-sources #na-turn-' + n) !== null)",
        arg=n)


def wait_until_idle(page) -> None:
    """Until the answer just requested is written (Ask is disabled meanwhile)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # it may have come and gone already
        page.wait_for_function("document.querySelector('#na-ask').disabled", timeout=5000)
    page.wait_for_function("!document.querySelector('#na-ask').disabled")


def no_error_pills(page) -> bool:
    return page.locator("#na-chat .error, #na-sources .error, #na-add-summary .error, "
                        "#na-files .error").count() == 0


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
    ask(page, DEMO_QUESTION)
    marker = last_bot_message(page).locator(".na-cite a").first
    marker.wait_for()
    assert page.locator("#na-question textarea").input_value() == ""
    # a who-said-what answer: the speaker, outlet and date, then his statement, verbatim
    text = last_bot_message(page).inner_text()
    assert "Xi Jinping (Northwind Wire, 2024-05-17) said: China's position on Ukraine" in text

    quote = page.locator("#na-sources mark").first.inner_text()
    assert quote.startswith("China's position on Ukraine") and quote in text
    marker.hover()  # hover shows a card: title, outlet, date and the quote
    card_pop = page.locator("#na-card-pop")
    card_pop.wait_for()
    assert quote in card_pop.inner_text() and "Northwind Wire, 2024-05-17" in card_pop.inner_text()
    assert "Putin courts Xi in Beijing" in card_pop.inner_text()
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
    page.locator("#na-add-summary").get_by_text("file is 11.0 MB; the limit is 10 MB").wait_for()

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
    page.get_by_role("tab", name="Library").click()
    page.locator("#na-lib-refresh").click()
    page.locator("#na-lib-outlets").get_by_text("Evil").wait_for()
    page.get_by_role("tab", name="Chat").click()
    page.locator("#na-outlets input").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "inert.png"), full_page=True)

    assert page.seen.dialogs == [] and page.evaluate("window.__xss") is None
    injected = "#na-chat img, #na-chat script, #na-sources img, #na-sources script, " \
               "#na-lib-outlets img, #na-lib-outlets b, #na-outlets img, #na-outlets b, " \
               "#na-sources b, #na-lib-table img, #na-lib-table b, #na-card-pop img"
    assert page.locator(injected).count() == 0
    sources = page.locator("#na-sources").inner_text()
    assert "<script>window.__xss='script';alert('script')</script>" in sources
    assert "Harbor <img src=x onerror=" in sources and "${alert('tpl')} {{constructor}}" in sources
    assert "<img src=x onerror=" in last_bot_message(page).inner_text()
    assert page.locator("#na-sources a[href^='javascript']").count() == 0
    assert "Evil <b>Gazette</b>" in page.locator("#na-lib-outlets").inner_text()


def test_reload_keeps_the_conversation_and_old_markers_show_their_own_sources(
        page, served, tmp_path: Path) -> None:
    eclipse = "Where was totality longest during the April 2024 solar eclipse?"
    ask(page, eclipse)
    wait_for_answers(page, 1)
    ask(page, DEMO_QUESTION)
    wait_for_answers(page, 2)
    page.locator("#na-conversations").get_by_text(eclipse).wait_for()

    page.reload()  # the conversation comes back from the server, sources and all
    page.locator("#na-status").get_by_text("articles").wait_for()
    wait_for_answers(page, 2)
    assert "Putin courts Xi" in page.locator("#na-sources .na-turn.na-latest").inner_text()
    first = bot_messages(page).first.locator(".na-cite a").first
    first.click()  # an old marker shows that turn's sources, its quote highlighted
    target = page.locator("#na-sources mark:target")
    target.wait_for()
    assert page.url.endswith("#cite-1-1")
    assert page.locator("#na-turn-1").is_visible() and not page.locator("#na-turn-2").is_visible()
    assert "totality" in page.locator("#na-turn-1").inner_text().lower()
    page.screenshot(path=str(tmp_path / "old-marker.png"))

    # Regenerate answers the latest question again, in place
    page.locator("#na-regenerate").click()
    wait_until_idle(page)
    wait_for_answers(page, 2)
    # a follow-up after the reload is read in the light of the restored turns
    ask(page, "And what about energy?")
    wait_for_answers(page, 3)
    page.screenshot(path=str(tmp_path / "follow-up.png"))
    assert page.locator("#na-turn-3 .na-card").count() >= 1, (
        bot_messages(page).last.inner_text(), page.locator("#na-turn-3").inner_text())
    assert "Putin courts Xi" in page.locator("#na-turn-3").inner_text()
    assert [c.turns for c in served.store.list(_owner_of(served, eclipse))] == [3]
    assert not page.seen.errors and no_error_pills(page)


def _owner_of(served, title: str) -> str:
    import sqlite3

    with sqlite3.connect(served.store.path) as db:
        return db.execute("SELECT owner FROM conversations WHERE title = ? "
                          "ORDER BY updated DESC", (title,)).fetchone()[0]


def test_stream_shows_in_pieces_and_stop_keeps_the_partial_answer_marked(page, served) -> None:
    # record every text the answer bubble shows, to see it arrive in pieces (the test answerer
    # paces its words: a fast answer may reach the screen in one frame, as it should)
    page.evaluate("""() => {
        window.__seen = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll('#na-chat [data-testid=bot]');
            if (bots.length) window.__seen.push(bots[bots.length - 1].innerText);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    ask(page, "Tell me slowly what Xi said about Ukraine")
    page.locator("#na-stop").wait_for()
    assert page.locator("#na-ask").is_disabled()
    page.wait_for_function("() => { const b = document.querySelectorAll("
                           "'#na-chat [data-testid=bot]'); return b.length && "
                           "b[b.length - 1].innerText.split(' ').length >= 3; }")
    seen = page.evaluate("window.__seen")
    pieces = {s for s in seen if s.strip() not in ("", "…")}
    assert len(pieces) >= 3, ("the answer streams in, word by word", seen[-5:])
    page.locator("#na-stop").click()
    stopped = bot_messages(page).last.locator(".na-stopped")
    stopped.wait_for()
    text = bot_messages(page).last.inner_text()
    assert "Xi said China" in text and "settlement of the crisis" not in text
    # the answer phrase shows in bold, never as literal Markdown
    assert "**" not in text and bot_messages(page).last.locator("strong").count() == 1
    assert page.locator("#na-ask").is_enabled() and not page.locator("#na-stop").is_visible()
    page.reload()
    page.locator("#na-status").get_by_text("articles").wait_for()
    bot_messages(page).last.locator(".na-stopped").wait_for()  # kept, still marked


def test_copy_feedback_and_a_suggested_follow_up(page, served) -> None:
    ask(page, DEMO_QUESTION)
    wait_for_answers(page, 1)
    label = bot_messages(page).last.get_attribute("aria-label")
    assert "<" not in label and "Xi Jinping (Northwind Wire, 2024-05-17) said: China's" in label
    bot_messages(page).last.locator("a.na-copy").click()
    page.wait_for_function("window.__naCopied !== undefined")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Xi Jinping (Northwind Wire, 2024-05-17) said: China's position")
    assert "<" not in copied
    assert re.search(r"^\[1\] Putin courts Xi in Beijing and talks energy in Harbin — "
                     r"Northwind Wire, 2024-05-17, https://example\.org/\S+$", copied, re.M)

    page.locator("#na-chat button[aria-label=Like]").last.click()
    page.locator("#na-note input, #na-note textarea").first.fill("exactly what I needed")
    page.locator("#na-save-note").click()
    page.get_by_text("Note saved with answer 1.").wait_for()
    rated = [r for r in served.store.feedback() if r["note"] == "exactly what I needed"]
    assert [(r["question"], r["rating"]) for r in rated] == [(DEMO_QUESTION, "up")]

    suggestion = page.locator("#na-chat button.option").first
    asked = suggestion.inner_text()
    assert 2 <= page.locator("#na-chat button.option").count() <= 3
    suggestion.click()
    wait_for_answers(page, 2)
    assert page.locator("#na-chat [data-testid=user]").last.inner_text().strip() == asked
    assert bot_messages(page).last.locator(".na-cite a").count() >= 1  # answered, cited


def test_filter_chips_and_bad_input_leave_the_chat_intact(page, tmp_path: Path) -> None:
    ask(page, DEMO_QUESTION)
    wait_for_answers(page, 1)
    page.locator("#na-outlets input").click()
    page.get_by_role("option", name="Meridian Post").click()
    page.keyboard.press("Escape")
    page.locator("#na-since input, #na-since textarea").first.fill("2024-06-01")
    page.locator("#na-until input, #na-until textarea").first.fill("2024-01-01")
    for chip in ("Outlets: Meridian Post ×", "Since 2024-06-01 ×", "Until 2024-01-01 ×"):
        page.locator("#na-chips").get_by_text(chip).wait_for()
    page.screenshot(path=str(tmp_path / "chips.png"))

    box = page.locator("#na-question textarea")
    box.fill("Where was totality longest?")
    page.locator("#na-ask").click()
    page.get_by_text("Since (2024-06-01) is after Until (2024-01-01)").first.wait_for()
    page.wait_for_timeout(500)
    assert box.input_value() == "Where was totality longest?"  # the question stays
    assert bot_messages(page).count() == 1 and "Xi Jinping" in bot_messages(page).last.inner_text()
    assert page.locator("#na-sources .na-card").count() >= 1 and no_error_pills(page)

    page.locator("#na-until input, #na-until textarea").first.fill("17/05/2024")
    page.locator("#na-ask").click()
    page.get_by_text("Until: write the date as YYYY-MM-DD").first.wait_for()
    assert box.input_value() == "Where was totality longest?" and bot_messages(page).count() == 1

    page.locator("#na-chip-since").click()  # chips remove their filter
    page.locator("#na-chip-outlets").click()
    page.wait_for_function("() => !document.querySelector('#na-chip-since:not([hidden])')"
                           " || getComputedStyle(document.querySelector('#na-chip-since'))"
                           ".display === 'none'")
    assert page.locator("#na-since input, #na-since textarea").first.input_value() == ""
    page.locator("#na-chip-outlets").wait_for(state="hidden")  # each chip is its own event
    assert page.locator("#na-outlets").get_by_text("Meridian Post").count() == 0

    big = tmp_path / "big.txt"  # 12 MB: refused with a message, nothing else breaks
    big.write_bytes(b"a" * 12_000_000)
    page.get_by_role("tab", name="Add news").click()
    page.locator("#na-files input[type=file]").set_input_files([str(big)])
    page.locator("#na-add-summary").get_by_text("file is 12.0 MB; the limit is 10 MB").wait_for()
    page.locator("#na-add").click()  # adding it anyway: the same message, said once
    page.locator("#na-add-summary").get_by_text("0 added").wait_for()
    assert page.locator("#na-add-summary").inner_text().count("the limit is 10 MB") == 1
    assert no_error_pills(page)
    page.get_by_role("tab", name="Chat").click()
    assert bot_messages(page).count() == 1 and page.locator("#na-sources .na-card").count() >= 1
    assert not page.seen.errors


def test_library_lists_searches_and_deletes_an_article(page, served, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Library").click()
    rows = page.locator("#na-lib-table .virtual-row[role=row]")
    count = "Number(document.querySelector('#na-lib-table [role=grid]')" \
            ".getAttribute('aria-rowcount')) - 1"  # the table is virtual: ask the grid
    page.wait_for_function(f"{count} >= 22")  # the demo corpus, and what other tests added
    assert "Harbor Ledger" in page.locator("#na-lib-outlets").inner_text()
    page.locator("#na-lib-query input, #na-lib-query textarea").first.fill("rugby world cup")
    page.wait_for_function(f"{count} == 1")
    found = rows.filter(has_text="South Africa edge New Zealand").first
    found.wait_for()
    row = found.inner_text()
    assert "Harbor Ledger" in row and "2023-10" in row and "demo-005" in row
    page.screenshot(path=str(tmp_path / "library.png"), full_page=True)
    found.locator("[role=gridcell]").first.click()
    selected = page.locator("#na-lib-selected input, #na-lib-selected textarea").first
    page.wait_for_function("el => el.value == 'demo-005'", arg=selected.element_handle())
    page.locator("#na-lib-delete").click()
    page.get_by_text("Deleted 1 article(s).").first.wait_for()
    page.wait_for_function("() => !document.querySelector('#na-lib-table').innerText"
                           ".includes('South Africa edge')")
    assert served.bot.get_article("demo-005") is None
    ask(page, "Who won the 2023 Rugby World Cup final?")
    wait_for_answers(page, 1)
    assert "South Africa edge New Zealand" not in page.locator("#na-sources").inner_text()


def test_phone_shows_the_question_box_without_scrolling(served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context, page = open_page(pw, served, tmp_path / "phone",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
        page.wait_for_function("!document.querySelector('#na-sidebar.open')")
        for element in ("#na-question textarea", "#na-ask"):
            box = page.locator(element).bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, (element, box)
        page.locator("#na-question textarea").fill(DEMO_QUESTION)
        page.locator("#na-ask").tap()
        wait_for_answers(page, 1)
        marker = bot_messages(page).last.locator(".na-cite a").first
        marker.tap()  # a tap shows the card (no hover on touch)
        page.locator("#na-card-pop").wait_for()
        assert "Northwind Wire" in page.locator("#na-card-pop").inner_text()
        sources = page.locator("#na-sources-panel").bounding_box()
        chat = page.locator("#na-chat").bounding_box()
        filters = page.locator("#na-filters").bounding_box()
        assert chat["y"] < sources["y"] < filters["y"]  # sources under the answer
        page.screenshot(path=str(tmp_path / "phone.png"))
        context.close()
