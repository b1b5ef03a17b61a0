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
    assert html.unescape(title).startswith('“Alpha said "<b>yes</b>" to the plan.” — <i>T</i>')
    assert "<b>" not in md and "<i>" not in md  # only the marker's own tags are HTML
    assert _tags(md) == {"sup", "a"}
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
             "last_date": "2024-02-01", "answer_mode": "openai:gpt-test"}
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
    urls, refused = split_urls("https://a.org/x\nftp://b\nhttps://a.org/x  http://c.org")
    assert urls == ["https://a.org/x", "http://c.org"]
    assert refused == [("ftp://b", "not a URL: give an http:// or https:// address")]


def test_bad_upload_never_breaks_the_index(bot, tmp_path: Path) -> None:
    good = tmp_path / "skerry.txt"
    good.write_text("Lighthouse keepers return to Skerry Point\nCoastal Chronicle\n"
                    "The Skerry Point lighthouse will again have resident keepers from June, "
                    "the maritime authority said on Monday.\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"title": "no body"}\n\xff\xfe not json at all\n')
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    result = add_news(bot, [str(good), str(broken), str(exe)], "mailto:x https://127.0.0.1:9/a")
    assert result.counts["added"] == 1
    where = [w for w, _ in result.failed]
    assert "tool.exe" in where and "mailto:x" in where
    assert any(w.startswith("broken.jsonl") for w in where), result.failed  # named, not a temp path
    assert any("127.0.0.1:9" in w for w in where)  # the URL's own failure reason is reported
    assert all(str(tmp_path) not in w + r for w, r in result.failed)
    answer = bot.ask("Will the Skerry Point lighthouse have resident keepers again?")
    assert not answer.abstained and answer.citations[0].title.startswith("Lighthouse keepers")


def test_filters_validate_dates() -> None:
    import gradio as gr

    from ui.app import Handlers, parse_auth

    assert Handlers.filters(["A"], "2024-01-01", "") == {"source": ["A"], "since": "2024-01-01",
                                                          "until": ""}
    with pytest.raises(gr.Error, match="Since must be a date"):
        Handlers.filters([], "2024-13-01", "")
    with pytest.raises(gr.Error, match="after Until"):
        Handlers.filters([], "2024-05-01", "2024-01-01")
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    with pytest.raises(ValueError):
        parse_auth("nopassword")


def test_index_panel_names_the_model_never_the_key(tmp_path: Path, embedder) -> None:
    from assistant import NewsAssistant, Settings
    from ui.app import Handlers

    secret = "sk-ui-test-secret-4242"
    settings = Settings(index=str(tmp_path / "idx"), llm="openai", model="test-model",
                        api_key=secret, base_url="http://127.0.0.1:9/v1")
    bot = NewsAssistant(settings=settings, embedder=embedder)
    line, panel, _ = Handlers(bot).stats()
    assert "test-model" in line and "test-model" in panel
    assert secret not in line + panel and "127.0.0.1:9" not in line + panel
