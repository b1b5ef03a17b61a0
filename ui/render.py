"""Answers, sources and index stats as safe HTML/Markdown for the Gradio app.

Everything that comes from an article (title, body, outlet, URL) or from a user is escaped
here, before Gradio sees it: the sources panel is ``gr.HTML``, which inserts its value with
``innerHTML``, so an unescaped ``<img onerror=...>`` in an article would run. Gradio's own
sanitizer only guards the chatbot; we escape for both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.results import Answer, Citation

MARKER = re.compile(r"\[(\d+)\]")
# Characters with inline Markdown meaning, and the block markers that count only at a line's
# start; backslash-escaped, the renderer shows them literally. ("." and "#" stay unescaped
# mid-line so that URLs in the text still read right.)
_MD_INLINE = re.compile(r"([\\`*_\[\]~$|])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#=+\-])|(\d+)([.)]))", re.MULTILINE)
CONTEXT_CHARS = 320  # at most this much text on each side of a quote in a source card

ArticleBody = Callable[[str], "str | None"]  # article id -> body text (None if unknown)


def text_to_markdown(text: str) -> str:
    """``text`` shown literally by a Markdown renderer: no HTML, no formatting (a bare URL may
    still become a link, which is harmless)."""
    escaped = _MD_INLINE.sub(r"\\\1", html.escape(text, quote=False))
    return _MD_LINE_START.sub(
        lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), escaped)


def attr(text: str) -> str:
    """``text`` safe inside a double-quoted HTML attribute."""
    return html.escape(text, quote=True)


def safe_url(url: str) -> str:
    """Only http(s) links are shown: a ``javascript:`` URL in an article must not be clickable."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def cite_anchor(turn: int, n: int) -> str:
    """HTML id of citation ``n`` of conversation turn ``turn`` (both ints, so always safe)."""
    return f"cite-{int(turn)}-{int(n)}"


def _where(c: Citation) -> str:
    return ", ".join(x for x in (c.source, c.published_at[:10]) if x)


def marker_html(c: Citation, turn: int) -> str:
    """Marker ``[n]``: hovering shows the quote, clicking jumps to it in the sources panel."""
    tip = f"“{c.quote}” — {c.title}" + (f" ({_where(c)})" if _where(c) else "")
    return (f'<sup class="na-cite"><a href="#{cite_anchor(turn, c.n)}" '
            f'title="{attr(tip)}" data-n="{int(c.n)}">[{int(c.n)}]</a></sup>')


def answer_markdown(answer: Answer, turn: int) -> str:
    """The chatbot text of a finished answer, markers turned into links to their quotes."""
    cites = {c.n: c for c in answer.citations}
    parts: list[str] = []
    for i, piece in enumerate(MARKER.split(answer.text)):
        if i % 2 == 1 and int(piece) in cites:
            parts.append(marker_html(cites[int(piece)], turn))
        else:
            parts.append(text_to_markdown(f"[{piece}]" if i % 2 == 1 else piece))
    body = "".join(parts).strip()
    if answer.notice:
        body = f"_{text_to_markdown(answer.notice)}_\n\n{body}"
    if answer.unsupported:
        flagged = "\n".join(f"- {text_to_markdown(s)}" for s in answer.unsupported)
        body += f"\n\n**Not supported by the sources:**\n{flagged}"
    return body


def chat_messages(
    turns: Sequence[Answer], pending: tuple[str, str] | None = None
) -> list[dict[str, str]]:
    """Chatbot messages for the finished ``turns`` plus an optional (question, partial text)."""
    messages: list[dict[str, str]] = []
    for turn, answer in enumerate(turns, start=1):
        messages.append({"role": "user", "content": text_to_markdown(answer.question)})
        messages.append({"role": "assistant", "content": answer_markdown(answer, turn)})
    if pending is not None:
        question, partial = pending
        messages.append({"role": "user", "content": text_to_markdown(question)})
        messages.append({"role": "assistant", "content": text_to_markdown(partial) or "…"})
    return messages


# ---- sources panel ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Window:
    """A stretch of an article body shown in a card, with the citations it highlights."""

    start: int
    end: int
    citations: tuple[Citation, ...]


def _quote_span(body: str, c: Citation) -> tuple[int, int] | None:
    """Where the quote is in ``body``: at its offsets, else found by search (the article may
    have been re-ingested since), else nowhere."""
    if 0 <= c.start < c.end <= len(body) and body[c.start:c.end] == c.quote:
        return c.start, c.end
    found = body.find(c.quote) if c.quote else -1
    return (found, found + len(c.quote)) if found >= 0 else None


def _context(body: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph around ``body[start:end]``, clipped to ``CONTEXT_CHARS`` per side at a
    word boundary."""
    left = body.rfind("\n\n", 0, start)
    left = 0 if left < 0 else left + 2
    right = body.find("\n\n", end)
    right = len(body) if right < 0 else right
    if start - left > CONTEXT_CHARS:
        cut = body.find(" ", start - CONTEXT_CHARS, start)
        left = cut + 1 if cut >= 0 else start - CONTEXT_CHARS
    if right - end > CONTEXT_CHARS:
        cut = body.rfind(" ", end, end + CONTEXT_CHARS)
        right = cut if cut >= 0 else end + CONTEXT_CHARS
    return left, right


def _windows(body: str, citations: Iterable[Citation]) -> tuple[list[_Window], list[Citation]]:
    """Merged context windows of the quotes found in ``body``, and the quotes not found."""
    located: list[tuple[int, int, int, int, Citation]] = []
    missing: list[Citation] = []
    for c in citations:
        span = _quote_span(body, c)
        if span is None:
            missing.append(c)
            continue
        located.append((*_context(body, *span), *span, c))
    located.sort(key=lambda x: (x[0], x[2]))
    windows: list[_Window] = []
    for left, right, _, _, c in located:
        if windows and left < windows[-1].end:  # overlapping contexts: one window, two marks
            last = windows[-1]
            windows[-1] = _Window(last.start, max(last.end, right), (*last.citations, c))
        else:
            windows.append(_Window(left, right, (c,)))
    return windows, missing


def _window_html(body: str, window: _Window, turn: int) -> str:
    clipped_left = window.start > 0 and body[window.start - 1] != "\n"
    clipped_right = window.end < len(body) and body[window.end] != "\n"
    pieces: list[str] = ["…" if clipped_left else ""]
    pos = window.start
    for c in sorted(window.citations, key=lambda c: c.start):
        start, end = _quote_span(body, c) or (pos, pos)
        if start < pos:  # overlapping quotes: highlight only the part not yet shown
            start = pos
        pieces.append(html.escape(body[pos:start]))
        pieces.append(f'<mark id="{cite_anchor(turn, c.n)}" data-n="{int(c.n)}">'
                      f"{html.escape(body[start:end])}</mark>"
                      f'<sup class="na-n">[{int(c.n)}]</sup>')
        pos = max(pos, end)
    pieces.append(html.escape(body[pos:window.end]))
    pieces.append("…" if clipped_right else "")
    return f'<blockquote class="na-context">{"".join(pieces)}</blockquote>'


def _card_html(citations: list[Citation], body: str | None, turn: int) -> str:
    first = citations[0]
    numbers = " ".join(f"[{int(c.n)}]" for c in citations)
    url = safe_url(first.url)
    title = html.escape(first.title or first.article_id)
    heading = (f'<a href="{attr(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
               if url else title)
    meta = " · ".join(html.escape(x) for x in (first.source, first.published_at[:10]) if x)
    if first.also_reported_by:
        meta += " · also reported by " + html.escape(", ".join(first.also_reported_by))
    windows, missing = _windows(body or "", citations)
    contexts = [_window_html(body or "", w, turn) for w in windows]
    contexts += [  # the article is gone from the index: show the verbatim quote alone
        f'<blockquote class="na-context"><mark id="{cite_anchor(turn, c.n)}" '
        f'data-n="{int(c.n)}">{html.escape(c.quote)}</mark>'
        f'<sup class="na-n">[{int(c.n)}]</sup></blockquote>'
        for c in missing
    ]
    link = (f'<a class="na-original" href="{attr(url)}" target="_blank" '
            f'rel="noopener noreferrer">original article ↗</a>' if url else "")
    return (f'<article class="na-card" data-article-id="{attr(first.article_id)}">'
            f'<div class="na-card-head"><span class="na-numbers">{numbers}</span> '
            f'<span class="na-title">{heading}</span></div>'
            f'<div class="na-meta">{meta}</div>{"".join(contexts)}{link}</article>')


def sources_html(answer: Answer | None, turn: int, article_body: ArticleBody) -> str:
    """The sources panel: one card per cited article, quotes highlighted in their passage."""
    if answer is None:
        return ('<div class="na-sources na-empty">Sources of the latest answer appear here, '
                "each quote highlighted in its article.</div>")
    if answer.abstained or not answer.citations:
        return ('<div class="na-sources na-empty">No source in the index answers this question'
                " (try other words, or widen the filters).</div>")
    by_article: dict[str, list[Citation]] = {}
    for c in answer.citations:
        by_article.setdefault(c.article_id, []).append(c)
    cards = [_card_html(cs, article_body(aid), turn) for aid, cs in by_article.items()]
    return f'<div class="na-sources" data-turn="{int(turn)}">{"".join(cards)}</div>'


# ---- index panel and ingest summary ----------------------------------------------------
def describe_mode(mode: str) -> str:
    """``extractive`` -> a phrase a newcomer understands; LLM modes show their model name."""
    if mode == "extractive":
        return "offline extractive (quotes sentences from the articles)"
    kind, _, model = mode.partition(":")
    return f"{'local LLM' if kind == 'local' else 'LLM endpoint'} {model}".strip()


def stats_markdown(stats: dict[str, Any]) -> str:
    """The index panel. Only counts, names and dates: no paths, URLs or keys."""
    span = " to ".join(x for x in (stats.get("first_date"), stats.get("last_date")) if x) or "—"
    outlets = ", ".join(text_to_markdown(s) for s in stats.get("sources", [])) or "—"
    return "\n".join([
        "| | |", "| --- | --- |",
        f"| Articles | {int(stats.get('articles', 0))} |",
        f"| Passages | {int(stats.get('passages', 0))} |",
        f"| Outlets | {outlets} |",
        f"| Dates | {text_to_markdown(span)} |",
        f"| Answers by | {text_to_markdown(describe_mode(str(stats.get('answer_mode', ''))))} |",
    ])


def stats_line(stats: dict[str, Any]) -> str:
    """One line under the title: the index at a glance."""
    return text_to_markdown(
        f"{int(stats.get('articles', 0))} articles · {int(stats.get('passages', 0))} passages · "
        f"{len(stats.get('sources', []))} outlets · answers: "
        + describe_mode(str(stats.get("answer_mode", "")))
    )


def ingest_html(counts: dict[str, int], failed: Sequence[tuple[str, str]]) -> str:
    """Summary of an "Add news" run: added / updated / unchanged / failed, with reasons."""
    head = (f"{counts.get('added', 0)} added · {counts.get('updated', 0)} updated · "
            f"{counts.get('unchanged', 0)} unchanged · {len(failed)} failed")
    lines = "".join(f"<li><code>{html.escape(where)}</code>: {html.escape(reason)}</li>"
                    for where, reason in failed)
    return (f'<div class="na-ingest"><p class="na-ingest-counts"><strong>{head}</strong></p>'
            + (f'<ul class="na-ingest-failed">{lines}</ul>' if lines else "") + "</div>")
