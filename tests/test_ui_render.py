"""ui.render and ui.uploads without a server: escaping, citation markers, source cards, uploads."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from assistant.results import Answer, Citation
from ui import render
from ui.uploads import add_news, check_file, split_urls

EVIL_BODY = (
    "The harbor council voted on Tuesday to approve the new bridge toll plan. "
    "<script>window.__xss='script'</script> Council member Dana Ruiz said the toll plan "
    "<img src=x onerror=\"window.__xss='img'\"> would fund repairs ${alert(1)} for a decade."
    "\n\nThe vote passed 7 to 2 after a long debate about the harbor toll plan."
)


def _cite(n: int, body: str, quote: str, **kw: str) -> Citation:
    start = body.index(quote)
    return Citation(n=n, article_id=kw.get("article_id", "a1"), title=kw.get("title", "T"),
                    source=kw.get("source", "S"), url=kw.get("url", "https://example.org/a"),
                    published_at="2024-03-02", quote=quote, start=start, end=start + len(quote))


def _tags(markup: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", markup)}


def test_text_to_markdown_neutralises_html_and_markdown() -> None:
    text = "<b>x</b> *bold* _it_ [link](javascript:alert(1)) `code` $x$ ~s~ | a\n# head\n1. item"
    out = render.text_to_markdown(text)
    assert "<" not in out and "&lt;b&gt;" in out
    for raw in ("*bold*", "_it_", "[link]", "`code`", "$x$", "~s~"):
        assert raw not in out
    assert "\n\\# head" in out and "\n1\\. item" in out
    assert render.text_to_markdown("see https://example.org/x.html") == "see https://example.org/x.html"


def test_answer_markers_become_links_with_escaped_quote() -> None:
    body = 'Alpha said "<b>yes</b>" to the plan. Beta disagreed.'
    c1 = _cite(1, body, 'Alpha said "<b>yes</b>" to the plan.', title="<i>T</i>")
    answer = Answer(question="q", text='Alpha said "<b>yes</b>" to the plan. [1] Also [7].',
                    citations=[c1])
    md = render.answer_markdown(answer, turn=3)
    assert '<a href="#cite-3-1"' in md
    title = re.search(r'title="([^"]*)"', md)[1]
    # the hover card's lines: title, outlet and date, the quote
    assert html.unescape(title).split("\n") == ["<i>T</i>", "S, 2024-03-02",
                                                 '“Alpha said "<b>yes</b>" to the plan.”']
    assert "<b>" not in md and "<i>" not in md  # only the marker's own tags are HTML
    assert _tags(md) == {"sup", "a"}
    assert '<a class="na-copy" href="#na-plain-3">Copy</a>' in md
    assert "\\[7\\]" in md  # a marker with no citation stays literal text


def test_chat_messages_escape_questions_and_partial_text() -> None:
    done = Answer(question="<img src=x onerror=alert(1)>", text="Answer. [1]")
    msgs = render.chat_messages([done], ("<script>x</script>", "partial *text"))
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert all("<img" not in m["content"] and "<script" not in m["content"] for m in msgs)
    assert msgs[-1]["content"] == "partial \\*text"


def test_sources_html_is_inert_and_highlights_quote_in_context() -> None:
    quote = "Council member Dana Ruiz said the toll plan"
    q_start = EVIL_BODY.index(quote)
    c1 = Citation(n=1, article_id="evil", title='Harbor <img src=x onerror="alert(1)">',
                  source="Evil <b>Gazette</b>", url="javascript:alert('url')",
                  published_at="2024-03-02", quote=quote, start=q_start,
                  end=q_start + len(quote))
    vote = "The vote passed 7 to 2 after a long debate about the harbor toll plan."
    c2 = _cite(2, EVIL_BODY, vote, article_id="evil")
    answer = Answer(question="q", text=f"{quote} [1] Vote. [2]", citations=[c1, c2])
    out = render.sources_html(answer, 2, lambda aid: EVIL_BODY if aid == "evil" else None)
    assert _tags(out) <= {"div", "article", "span", "blockquote", "mark", "sup", "a"}
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert "javascript:" not in out  # not a link: only http(s) URLs become links
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=" in out
    marks = re.findall(r'<mark id="(cite-2-\d)"[^>]*>(.*?)</mark>', out)
    assert [(i, html.unescape(t)) for i, t in marks] == [("cite-2-1", quote), ("cite-2-2", vote)]
    assert out.count('<article class="na-card"') == 1  # two quotes, one article, one card
    # the quote sits inside its passage: the text before it is shown too
    assert "approve the new bridge toll plan." in out


def test_sources_html_finds_moved_quote_and_survives_missing_article() -> None:
    body = "First sentence here. The quoted sentence is this one. Last sentence."
    stale = Citation(n=1, article_id="a", title="T", source="S", url="", published_at="",
                     quote="The quoted sentence is this one.", start=0, end=10)
    out = render.sources_html(Answer(question="q", text="x [1]", citations=[stale]), 1,
                              lambda aid: body)
    assert '<mark id="cite-1-1" data-n="1">The quoted sentence is this one.</mark>' in out
    gone = render.sources_html(Answer(question="q", text="x [1]", citations=[stale]), 1,
                               lambda aid: None)
    assert "The quoted sentence is this one." in gone and 'id="cite-1-1"' in gone
    assert "No source" in render.sources_html(Answer(question="q", text="", abstained=True), 1,
                                              lambda aid: None)


def test_long_paragraph_is_clipped_around_the_quote() -> None:
    body = " ".join(f"word{i}" for i in range(400)) + " The quote. " + " ".join(
        f"tail{i}" for i in range(400))
    out = render.sources_html(Answer(question="q", text="x [1]",
                                     citations=[_cite(1, body, "The quote.")]), 1, lambda a: body)
    context = re.search(r'<blockquote class="na-context">(.*?)</blockquote>', out)[1]
    assert context.startswith("…") and context.endswith("…")
    assert len(html.unescape(re.sub(r"<[^>]+>", "", context))) < 2 * render.CONTEXT_CHARS + 40


def test_stats_and_ingest_summary_escape_and_hide_nothing_secret() -> None:
    stats = {"articles": 3, "passages": 7, "sources": ["A <b>B</b>"], "first_date": "2024-01-01",
             "last_date": "2024-02-01", "answer_mode": "openai:gpt-test",
             "answer_description": "LLM endpoint gpt-test"}
    md = render.stats_markdown(stats)
    assert "| Articles | 3 |" in md and "gpt-test" in md and "<b>" not in md
    summary = render.ingest_html({"added": 1, "updated": 0, "unchanged": 2},
                                 [("x<img>.exe", "bad <script>")])
    assert "1 added · 0 updated · 2 unchanged · 1 failed" in summary
    assert "<img>" not in summary and "&lt;script&gt;" in summary


def test_check_file_and_split_urls(tmp_path: Path) -> None:
    ok = tmp_path / "a.TXT"
    ok.write_text("Title\nBody text.")
    exe = tmp_path / "a.exe"
    exe.write_text("x")
    empty = tmp_path / "e.md"
    empty.write_text("")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2_000_001)
    assert check_file(ok, 10**6) is None
    assert ".exe is not accepted" in check_file(exe, 10**6)
    assert check_file(empty, 10**6) == "file is empty"
    assert "the limit is 2 MB" in check_file(big, 2_000_000)
    urls, refused = split_urls("https://a.org/x\nftp://b\nhttps://a.org/x\nhttp://c.org")
    assert urls == ["https://a.org/x", "http://c.org"]
    assert refused == [("ftp://b", "not a URL: give one http:// or https:// address per line")]
    # one URL per line: a line with spaces is one bad entry, reported once
    urls, refused = split_urls("not a url\nnot a url\n https://a.org/y \n")
    assert urls == ["https://a.org/y"] and [w for w, _ in refused] == ["not a url"]


def test_bad_upload_never_breaks_the_index(bot, tmp_path: Path) -> None:
    good = tmp_path / "skerry.txt"
    good.write_text("Lighthouse keepers return to Skerry Point\nCoastal Chronicle\n"
                    "The Skerry Point lighthouse will again have resident keepers from June, "
                    "the maritime authority said on Monday.\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"title": "no body"}\n\xff\xfe not json at all\n')
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    result = add_news(bot, [str(good), str(broken), str(exe)], "mailto:x\nhttps://127.0.0.1:9/a")
    assert result.counts["added"] == 1
    assert result.titles == [("added", "Lighthouse keepers return to Skerry Point", "no date")]
    where = [w for w, _ in result.failed]
    assert "tool.exe" in where and "mailto:x" in where
    assert any(w.startswith("broken.jsonl") for w in where), result.failed  # named, not a temp path
    assert any("127.0.0.1:9" in w for w in where)  # the URL's own failure reason is reported
    assert all(str(tmp_path) not in w + r for w, r in result.failed)
    answer = bot.ask("Will the Skerry Point lighthouse have resident keepers again?")
    assert not answer.abstained and answer.citations[0].title.startswith("Lighthouse keepers")


@pytest.mark.parametrize(("since", "until", "message"), [
    ("17/05/2024", "", "Since: write the date as YYYY-MM-DD"),
    ("2024-13-01", "", "Since: write the date as YYYY-MM-DD"),
    ("", "May 2024", "Until: write the date as YYYY-MM-DD"),
    ("2024-05-01", "2024-01-01", "Since (2024-05-01) is after Until (2024-01-01)"),
])
def test_bad_filters_say_how_to_fix_them(since: str, until: str, message: str) -> None:
    from ui.app import FilterError, parse_filters

    with pytest.raises(FilterError, match=re.escape(message)):
        parse_filters([], since, until)


def test_filters_parse_and_show_as_chips() -> None:
    from ui.app import parse_auth, parse_filters

    found = parse_filters(["A", ""], "2024-01-01", "2024-02-01T10:00:00")
    assert found == {"source": ["A"], "since": "2024-01-01", "until": "2024-02-01"}
    assert render.filter_chips(found) == ["Outlets: A ×", "Since 2024-01-01 ×",
                                          "Until 2024-02-01 ×"]
    assert render.filter_chips({"source": [], "since": "", "until": ""}) == ["", "", ""]
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    with pytest.raises(ValueError):
        parse_auth("nopassword")


def test_the_answer_phrase_shows_bold_while_streamed_and_plain_when_copied() -> None:
    body = "Spain are world champions after beating England 1-0 in Sydney."
    c1 = _cite(1, body, body)
    answer = Answer(question="Who won?", text=f"**Spain** [1]\n\n{body} [1]", citations=[c1])
    md = render.answer_markdown(answer, turn=1)
    assert md.startswith("**Spain** <sup") and "\\*" not in md
    assert render.plain_text(answer).startswith(f"Spain [1]\n\n{body} [1]")
    streamed = [render.chat_messages([], ("Who won?", text))[-1]["content"]
                for text in ("**Spa", "**Spain**", "**Spain** [1]\n\nSpain *are*")]
    assert streamed == ["Spa", "**Spain**", "**Spain** \\[1\\]\n\nSpain \\*are\\*"]
    evil = render.answer_text_to_markdown("**<img src=x onerror=alert(1)> *x***")
    assert "<img" not in evil and evil.startswith("**&lt;img")


def test_plain_text_copy_has_numbered_references() -> None:
    body = "Alpha said yes to the plan. Beta disagreed."
    c1 = _cite(1, body, "Alpha said yes to the plan.", title="Plan <b>passes</b>",
               source="Wire", url="https://example.org/p")
    answer = Answer(question="q", text="Alpha said yes to the plan. [1]", citations=[c1, c1])
    assert render.plain_text(answer) == (
        "Alpha said yes to the plan. [1]\n\n"
        "[1] Plan <b>passes</b> — Wire, 2024-03-02, https://example.org/p")
    assert render.STOPPED in render.plain_text(answer, partial=True)


def test_sources_panel_keeps_every_turn_and_its_plain_text() -> None:
    body = "Alpha said yes to the plan. Beta disagreed."
    one = Answer(question="first <q>", text="Alpha said yes to the plan. [1]",
                 citations=[_cite(1, body, "Alpha said yes to the plan.")])
    two = Answer(question="second", text="Beta disagreed. [1]",
                 citations=[_cite(1, body, "Beta disagreed.")])
    out = render.sources_panel([one, two], lambda aid: body, partial=[False, True])
    assert '<section class="na-turn" id="na-turn-1"' in out
    assert '<section class="na-turn na-latest" id="na-turn-2"' in out
    assert '<mark id="cite-1-1"' in out and '<mark id="cite-2-1"' in out
    assert "first &lt;q&gt;" in out and "<q>" not in out
    plain = re.findall(r'<pre class="na-plain" id="na-plain-(\d)" hidden>(.*?)</pre>', out,
                       re.S)
    assert [n for n, _ in plain] == ["1", "2"] and render.STOPPED in html.unescape(plain[1][1])
    assert render.sources_panel([], lambda aid: body) == render.EMPTY_SOURCES


def test_chat_messages_mark_stopped_answers_and_hang_suggestions_on_the_last() -> None:
    done = Answer(question="q1", text="Partial text")
    msgs = render.chat_messages([done, done], partial=[True, False], options=["Next?"])
    assert render.STOPPED in msgs[1]["content"] and render.STOPPED not in msgs[3]["content"]
    assert "options" not in msgs[1] and msgs[3]["options"] == [{"value": "Next?",
                                                                 "label": "Next?"}]
    assert "options" not in render.chat_messages([done], ("q2", ""), options=["x"])[-1]


def test_suggested_follow_ups_name_what_the_sources_cite() -> None:
    from ui.suggest import names_in, suggest_followups

    body = ("Xi Jinping met Vladimir Putin in Beijing on Thursday. The Bank of England held "
            "rates. Putin then went to Harbin.")
    answer = Answer(question="What did Xi Jinping say?", text="x [1] [2]", citations=[
        _cite(1, body, "Xi Jinping met Vladimir Putin in Beijing on Thursday.",
              title="Putin courts Xi in Beijing"),
        _cite(2, body, "Putin then went to Harbin.", title="Putin in Harbin")])
    assert "Bank of England" in names_in(body) and "Thursday" not in names_in(body)
    questions = suggest_followups(answer)
    assert 2 <= len(questions) <= 3
    assert "Putin" in questions[0] and not any("Xi Jinping" in q for q in questions)
    assert suggest_followups(Answer(question="q", text="", abstained=True)) == []


def test_index_panel_names_the_model_never_the_key(tmp_path: Path, embedder) -> None:
    from assistant import NewsAssistant, Settings
    from ui.app import Handlers
    from ui.conversations import ConversationStore

    secret = "sk-ui-test-secret-4242"
    settings = Settings(index=str(tmp_path / "idx"), llm="openai", model="test-model",
                        api_key=secret, base_url="http://127.0.0.1:9/v1")
    bot = NewsAssistant(settings=settings, embedder=embedder)
    line, _ = Handlers(bot, ConversationStore(tmp_path / "c.sqlite")).stats()
    assert "test-model" in line
    assert secret not in line and "127.0.0.1:9" not in line


def test_an_abstention_says_what_was_searched(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from ui.app import Handlers
    from ui.conversations import ConversationStore

    stats = {"articles": 22, "passages": 39, "sources": ["A"], "first_date": "2023-08-20",
             "last_date": "2024-11-07", "answer_mode": "extractive"}
    h = Handlers(SimpleNamespace(stats=lambda: stats), ConversationStore(tmp_path / "c.sqlite"))
    assert h.searched({"source": [], "since": "", "until": ""}) == (
        "Searched 22 articles from 2023-08-20 to 2024-11-07.")
    assert h.searched({"source": ["A", "B"], "since": "2024-06-01", "until": ""}) == (
        "Searched 22 articles from 2023-08-20 to 2024-11-07, limited to outlets A, B; "
        "since 2024-06-01.")
    md = render.answer_markdown(Answer(question="q", text="No answer.", abstained=True,
                                       notice=h.searched({})), 1)
    assert md.startswith("_Searched 22 articles from 2023-08-20 to 2024-11-07._")
