"""The Library tab's content: the indexed articles as table rows, per-outlet counts and the
followed feeds, from ``NewsAssistant.articles()`` and ``.feeds``. Only names, dates and counts
are shown: never a local path (an upload's temporary path is reduced to its file name)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

COLUMNS = ["Title", "Outlet", "Date", "Passages", "Source", "ID"]
MAX_ROWS = 500


def origin_label(origin: str, feed_titles: dict[str, str] | None = None) -> str:
    """Where an article came from, for people: "file: x.txt", "URL: host", "feed: title"."""
    if not origin:
        return ""
    base = origin.split(" [entry ")[0]
    if (feed_titles or {}).get(base):
        return f"feed: {(feed_titles or {})[base]}"
    if base.lower().startswith(("http://", "https://")):
        return f"URL: {urlsplit(base).hostname or base}"
    name = PurePath(base.split(":")[0] if ":" in base[2:] else base).name
    return f"file: {name}"


def matches(article: dict[str, Any], query: str) -> bool:
    """Every word of ``query`` occurs in the title, outlet or id (case-insensitive)."""
    hay = f"{article.get('title', '')} {article.get('source', '')} {article.get('id', '')}"
    return all(word in hay.lower() for word in query.lower().split())


def article_rows(
    articles: Iterable[dict[str, Any]], query: str = "", *,
    feed_titles: dict[str, str] | None = None,
) -> list[list[Any]]:
    """Table rows (``COLUMNS``) of the articles matching ``query``, at most ``MAX_ROWS``."""
    rows = []
    for a in articles:
        if query and not matches(a, query):
            continue
        passages = a.get("passages", 0) or (f"copy of {a['duplicate_of']}"
                                            if a.get("duplicate_of") else 0)
        rows.append([a.get("title") or "(no title)", a.get("source") or "",
                     (a.get("published_at") or "")[:10] or "no date", passages,
                     origin_label(str(a.get("origin", "")), feed_titles), a["id"]])
        if len(rows) >= MAX_ROWS:
            break
    return rows


def outlet_counts_html(articles: Sequence[dict[str, Any]]) -> str:
    """Articles per outlet, most first."""
    counts = Counter(a.get("source") or "(no outlet)" for a in articles)
    if not counts:
        return '<div class="na-empty">The index is empty: add news in the "Add news" tab.</div>'
    items = "".join(f"<li><span>{html.escape(name)}</span> <strong>{n}</strong></li>"
                    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f'<div class="na-outlets"><p>{len(articles)} articles from {len(counts)} outlets'
            f'</p><ul class="na-outlet-counts">{items}</ul></div>')


def feeds_html(feeds: Sequence[Any]) -> str:
    """Followed feeds and pages: title, URL, last refresh, entries still failing."""
    if not feeds:
        return ('<div class="na-empty">No followed feeds (<code>news-assistant feeds add URL'
                "</code>, then <code>news-assistant watch</code>).</div>")
    rows = []
    for f in feeds:
        failing = len(getattr(f.state, "attempts", {}) or {})
        errors = f"{failing} entries failing" if failing else "no errors"
        rows.append(
            f"<tr><td>{html.escape(f.title or f.url)}</td><td><code>{html.escape(f.url)}</code>"
            f"</td><td>{html.escape(f.kind or '—')}</td>"
            f"<td>{html.escape(f.refreshed_at[:16].replace('T', ' ') or 'never')}</td>"
            f"<td>{errors}</td></tr>")
    return ('<table class="na-feeds"><thead><tr><th>Feed</th><th>URL</th><th>Kind</th>'
            "<th>Last refresh</th><th>Errors</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")
