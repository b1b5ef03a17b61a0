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
# The answer phrase is the one formatting an answer's text carries ("**Spain** [1]"); a stream
# may hold its opening "**" before the closing one arrives.
BOLD = re.compile(r"\*\*(.+?)\*\*")
CONTEXT_CHARS = 320  # at most this much text on each side of a quote in a source card

ArticleBody = Callable[[str], "str | None"]  # article id -> body text (None if unknown)


def text_to_markdown(text: str) -> str:
    """``text`` shown literally by a Markdown renderer: no HTML, no formatting (a bare URL may
    still become a link, which is harmless)."""
    escaped = _MD_INLINE.sub(r"\\\1", html.escape(text, quote=False))
    return _MD_LINE_START.sub(
        lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), escaped)


def answer_text_to_markdown(text: str) -> str:
    """An answer's own text for the renderer: its bold answer phrase kept bold, everything else
    shown literally (an unclosed "**" of a streamed phrase is held back)."""
    parts = BOLD.split(text)
    out = [f"**{text_to_markdown(p)}**" if i % 2 else text_to_markdown(p.replace("**", ""))
           for i, p in enumerate(parts)]
    return "".join(out)


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
    """Marker ``[n]``: hovering (or tapping) shows a card with the title, outlet, date and
    quote; clicking jumps to the quote in this turn's sources. Gradio's sanitizer keeps only
    ``href``, ``class`` and ``title`` here, so the card's lines travel in ``title`` (title,
    where, quote), which ``ui/cards.js`` turns into the card."""
    tip = "\n".join([c.title or c.article_id, _where(c), f"“{c.quote}”"])
    return (f'<sup class="na-cite"><a href="#{cite_anchor(turn, c.n)}" '
            f'title="{attr(tip)}">[{int(c.n)}]</a></sup>')


STOPPED = "Stopped: this answer is incomplete."


def answer_markdown(answer: Answer, turn: int, *, partial: bool = False) -> str:
    """The chatbot text of a finished answer, markers turned into links to their quotes; a
    stopped answer is marked as such."""
    cites = {c.n: c for c in answer.citations}
    parts: list[str] = []
    for i, piece in enumerate(MARKER.split(answer.text)):
        if i % 2 == 1 and int(piece) in cites:
            parts.append(marker_html(cites[int(piece)], turn))
        else:
            parts.append(answer_text_to_markdown(f"[{piece}]" if i % 2 == 1 else piece))
    body = "".join(parts).strip()
    if answer.notice:
        body = f"_{text_to_markdown(answer.notice)}_\n\n{body}"
    if answer.unsupported:
        flagged = "\n".join(f"- {text_to_markdown(s)}" for s in answer.unsupported)
        body += f"\n\n**Not supported by the sources:**\n{flagged}"
    if partial:
        body += f'\n\n<span class="na-stopped">{STOPPED}</span>'
    return body + f'\n\n<a class="na-copy" href="#na-plain-{int(turn)}">Copy</a>'


def plain_text(answer: Answer, *, partial: bool = False) -> str:
    """The answer as plain text with numbered references, for the clipboard:
    ``[1] Title — Outlet, date, URL``."""
    lines = [BOLD.sub(r"\1", answer.text).strip()]
    if partial:
        lines.append(f"({STOPPED})")
    refs = []
    seen: set[int] = set()
    for c in sorted(answer.citations, key=lambda c: c.n):
        if c.n in seen:
            continue
        seen.add(c.n)
        where = ", ".join(x for x in (c.source, c.published_at[:10], c.url) if x)
        refs.append(f"[{int(c.n)}] {c.title or c.article_id}" + (f" — {where}" if where else ""))
    if refs:
        lines.append("\n".join(refs))
    return "\n\n".join(lines)


def chat_messages(
    turns: Sequence[Answer], pending: tuple[str, str] | None = None, *,
    partial: Sequence[bool] = (), options: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Chatbot messages for the finished ``turns`` plus an optional (question, partial text).
    ``partial[i]`` marks turn i+1 as stopped; ``options`` (suggested follow-up questions) hang
    on the latest answer as buttons."""
    messages: list[dict[str, Any]] = []
    for turn, answer in enumerate(turns, start=1):
        stopped = bool(partial[turn - 1]) if turn <= len(partial) else False
        messages.append({"role": "user", "content": text_to_markdown(answer.question)})
        messages.append({"role": "assistant",
                         "content": answer_markdown(answer, turn, partial=stopped)})
    if pending is not None:
        question, text = pending
        messages.append({"role": "user", "content": text_to_markdown(question)})
        messages.append({"role": "assistant", "content": answer_text_to_markdown(text) or "…"})
    elif options and messages:
        messages[-1]["options"] = [{"value": q, "label": q} for q in options]
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


EMPTY_SOURCES = ('<div class="na-sources na-empty">Sources of each answer appear here, each '
                 "quote highlighted in its article.</div>")


def _turn_cards(answer: Answer, turn: int, article_body: ArticleBody) -> str:
    if answer.abstained or not answer.citations:
        return ('<div class="na-empty">No source in the index answers this question (try other '
                "words, or widen the filters).</div>")
    by_article: dict[str, list[Citation]] = {}
    for c in answer.citations:
        by_article.setdefault(c.article_id, []).append(c)
    return "".join(_card_html(cs, article_body(aid), turn) for aid, cs in by_article.items())


def sources_panel(
    turns: Sequence[Answer], article_body: ArticleBody, *, partial: Sequence[bool] = (),
) -> str:
    """The sources of every turn, each in its own section: the latest is shown; a marker of
    an older answer (``#cite-T-N``) shows its turn's section instead (CSS ``:has(:target)``).
    Each section also holds the answer as plain text with references, for the Copy link."""
    if not turns:
        return EMPTY_SOURCES
    sections = []
    for turn, answer in enumerate(turns, start=1):
        latest = " na-latest" if turn == len(turns) else ""
        stopped = bool(partial[turn - 1]) if turn <= len(partial) else False
        sections.append(
            f'<section class="na-turn{latest}" id="na-turn-{turn}" data-turn="{turn}">'
            f'<div class="na-turn-head">Answer {turn}: {html.escape(answer.question)}</div>'
            f"{_turn_cards(answer, turn, article_body)}"
            f'<pre class="na-plain" id="na-plain-{turn}" hidden>'
            f"{html.escape(plain_text(answer, partial=stopped))}</pre></section>")
    return f'<div class="na-sources" data-turns="{len(turns)}">{"".join(sections)}</div>'


def filter_chips(filters: dict[str, Any]) -> list[str]:
    """Labels of the active filters: outlets, since, until ("" when that one is off)."""
    outlets = [o for o in filters.get("source") or [] if o]
    return [
        ("Outlets: " + ", ".join(outlets) + " ×") if outlets else "",
        f"Since {filters['since']} ×" if filters.get("since") else "",
        f"Until {filters['until']} ×" if filters.get("until") else "",
    ]


# ---- index panel and ingest summary ----------------------------------------------------
def describe_mode(stats: dict[str, Any]) -> str:
    """What answers, as the answerer describes itself (``NewsAssistant.stats``)."""
    return str(stats.get("answer_description") or stats.get("answer_mode") or "")


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
        f"| Answers by | {text_to_markdown(describe_mode(stats))} |",
    ])


def stats_line(stats: dict[str, Any]) -> str:
    """One line under the title: the index at a glance."""
    return text_to_markdown(
        f"{int(stats.get('articles', 0))} articles · {int(stats.get('passages', 0))} passages · "
        f"{len(stats.get('sources', []))} outlets · answers: "
        + describe_mode(stats)
    )


def ingest_html(counts: dict[str, int], failed: Sequence[tuple[str, str]],
                titles: Sequence[tuple[str, str, str]] = ()) -> str:
    """Summary of an "Add news" run: added / updated / unchanged / failed, the titles added or
    updated (with their date, or "no date"), and each failure once with its reason."""
    head = (f"{counts.get('added', 0)} added · {counts.get('updated', 0)} updated · "
            f"{counts.get('unchanged', 0)} unchanged · {len(failed)} failed")
    done = "".join(f'<li><span class="na-status">{html.escape(status)}</span> '
                   f"{html.escape(title)} <span class=\"na-date\">({html.escape(day)})</span>"
                   "</li>" for status, title, day in titles)
    lines = "".join(f"<li><code>{html.escape(where)}</code>: {html.escape(reason)}</li>"
                    for where, reason in failed)
    return (f'<div class="na-ingest"><p class="na-ingest-counts"><strong>{head}</strong></p>'
            + (f'<ul class="na-ingest-titles">{done}</ul>' if done else "")
            + (f'<ul class="na-ingest-failed">{lines}</ul>' if lines else "") + "</div>")
