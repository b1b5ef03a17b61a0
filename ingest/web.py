"""Web pages as articles: download with httpx, extract the main text with trafilatura.

``fetch_article`` does the network part (redirects, timeouts, size cap, content type);
``extract_html_article`` is the pure HTML -> Article step, also used for local ``.html`` files.
Every failure is a ``SourceError`` naming the URL and the cause.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
import trafilatura
from lxml import etree
from lxml import html as lxml_html
from trafilatura.settings import Document
from trafilatura.utils import load_html

from ingest.errors import SourceError
from ingest.records import Article

USER_AGENT = "news-assistant/0.1 (+https://github.com/news-assistant)"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 5_000_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
SHORT_PAGE_CHARS = 500  # extracted text shorter than this is double-checked (see below)
MIN_SENTENCE_WORDS = 8

# Only structured date signals (meta tags, <time>, JSON-LD, URL): a date guessed from free text
# is often some other event's date, and a wrong date is worse than none for news questions.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}

# Element names that start a new paragraph, in HTML and in trafilatura's XML output.
_BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd"}
    | {"blockquote", "pre", "section", "article", "header", "footer", "aside", "figure"}
    | {"figcaption", "table", "tr", "caption", "hr"}
    | {"head", "item", "list", "quote", "row"}  # trafilatura's XML names
)
_BREAK_TAGS = frozenset({"br", "lb"})
_CELL_TAGS = frozenset({"td", "th", "cell"})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg"})


class NotHTMLError(SourceError):
    """The URL answered with another content type: ``media_type`` (a feed, a PDF, ...)."""

    def __init__(self, where: str, media_type: str) -> None:
        super().__init__(where, f"not HTML ({media_type})")
        self.media_type = media_type


@dataclass(frozen=True)
class Download:
    """A completed HTTP response: ``url`` is the final URL after redirects."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-case ("" when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def fetch_article(
    url: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    """Download ``url`` and extract its article (title, outlet, date, canonical URL, text).

    Raises ``SourceError(url, reason)`` for DNS failures, refused connections, timeouts,
    HTTP error statuses, non-HTML content, pages over ``max_bytes`` and pages without text.
    """
    page = download(url, client=client, timeout=timeout, max_bytes=max_bytes, accept=is_html_type)
    return article_from_download(page, origin=url)


def article_from_download(page: Download, *, origin: str) -> Article:
    """The article of a downloaded HTML page (``origin``: the URL as the user gave it)."""
    charset = _charset(page.headers)
    markup: str | bytes = page.content
    # An unknown charset name leaves the bytes to trafilatura, which sniffs the encoding.
    if charset:
        with contextlib.suppress(LookupError):
            markup = page.content.decode(charset, errors="replace")
    return extract_html_article(markup, url=page.url, origin=origin)


def is_html_type(media_type: str) -> bool:
    """Whether a Content-Type (without parameters) may be an HTML page; "" (unnamed) may."""
    return not media_type or media_type in HTML_TYPES


def download(
    url: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    headers: Mapping[str, str] | None = None,
    accept: Callable[[str], bool] | None = None,
) -> Download:
    """GET ``url`` following redirects, streaming, and stop past ``max_bytes``.

    ``timeout`` bounds each network phase (connect, each read) and the whole transfer.
    A 304 answer is returned (with an empty body) for conditional requests; statuses of 400
    and above raise. When ``accept(media_type)`` is false, ``NotHTMLError`` is raised before the
    body is read.
    """
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise SourceError(url, "unsupported URL (only http:// and https:// can be fetched)")
    own_client = client is None
    http = client or new_client(timeout=timeout)
    request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with http.stream(
            "GET", url, headers=request_headers, timeout=timeout, follow_redirects=True
        ) as response:
            _check_response(url, response, max_bytes=max_bytes, accept=accept)
            content = _read_capped(url, response, max_bytes=max_bytes, deadline=timeout)
            return Download(str(response.url), response.status_code, response.headers, content)
    except httpx.HTTPError as exc:
        raise SourceError(url, describe_http_error(exc, url=url, timeout=timeout)) from exc
    except httpx.InvalidURL as exc:
        raise SourceError(url, f"invalid URL ({exc})") from exc
    finally:
        if own_client:
            http.close()


def new_client(*, timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx client with this project's User-Agent, timeouts and redirect policy."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=10,
    )


def describe_http_error(exc: httpx.HTTPError, *, url: str = "", timeout: float = 0.0) -> str:
    """A short human reason for an httpx failure: DNS, refused, timeout, TLS, redirects."""
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for data",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a connection",
        }.get(type(exc), "")
        return f"timeout after {timeout:g} s" + (f" ({phase})" if phase else "")
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            host = urlsplit(url).hostname or "host"
            return f"DNS lookup failed for {host} ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed by the server ({exc})"
    return f"network error ({type(exc).__name__}: {exc})"


def extract_html_article(html: str | bytes, *, url: str = "", origin: str = "") -> Article:
    """Extract the main article of an HTML document; no network.

    ``url`` is where the page lives (resolves a relative canonical link; the article URL
    when the page names no canonical one); ``origin`` is what errors and the record name
    (defaults to ``url``). Paragraphs in the body are separated by a blank line.
    """
    where = origin or url or "<html>"
    tree = load_html(html) if html else None
    if tree is None:
        raise SourceError(where, "no article text found (empty or unreadable HTML)")
    canonical = canonical_url(tree, base_url=url)
    doc = trafilatura.bare_extraction(
        tree,
        url=canonical or url or None,
        with_metadata=True,
        include_comments=False,
        date_extraction_params=dict(_DATE_PARAMS),
    )
    if not isinstance(doc, Document):  # None; a dict only with as_dict=True
        raise SourceError(where, "no article text found")
    title = _tidy(doc.title or "")
    paragraphs = _paragraphs(doc, title)
    if sum(map(len, paragraphs)) < SHORT_PAGE_CHARS:
        # On a short page the default extraction may return a menu or a cookie banner: ask
        # for a precise extraction, and require one paragraph the size of a sentence.
        precise = trafilatura.bare_extraction(tree, favor_precision=True, include_comments=False)
        paragraphs = _paragraphs(precise, title) if isinstance(precise, Document) else []
        if not any(len(p.split()) >= MIN_SENTENCE_WORDS for p in paragraphs):
            raise SourceError(where, "no article text found")
    return Article(
        body="\n\n".join(paragraphs),
        title=title,
        source=_tidy(doc.sitename or ""),
        url=canonical or url,
        published_at=doc.date or "",
        origin=origin or url,
    )


def canonical_url(tree: lxml_html.HtmlElement, *, base_url: str = "") -> str:
    """The page's canonical URL (``<link rel=canonical>``, else ``og:url``), made absolute.

    Returns "" when the page names none, or names a relative one and no ``base_url`` is known.
    """
    candidates = tree.xpath(
        "//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"
        " | //meta[@property='og:url']/@content"
    )
    for href in (str(c).strip() for c in candidates):
        absolute = urljoin(base_url, href) if base_url else href
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return ""


def html_fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content): paragraphs split by a blank line."""
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    return "\n\n".join(blocks_of(root))


def blocks_of(root: lxml_html.HtmlElement) -> list[str]:
    """The text blocks (paragraphs, headings, list items, rows) under ``root``, tidied."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _tidy("".join(current))
        current.clear()
        if text:
            blocks.append(text)

    def walk(element: lxml_html.HtmlElement) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag and tag not in _SKIP_TAGS:  # comments and processing instructions have no tag
            is_block = tag in _BLOCK_TAGS
            if is_block:
                flush()
            if tag in _BREAK_TAGS:
                current.append("\n")
            elif tag in _CELL_TAGS:
                current.append(" ")
            current.append(element.text or "")
            for child in element:
                walk(child)
            if is_block:
                flush()
        current.append(element.tail or "")

    walk(root)
    flush()
    return blocks


def _check_response(
    url: str,
    response: httpx.Response,
    *,
    max_bytes: int,
    accept: Callable[[str], bool] | None,
) -> None:
    """Raise for error statuses, content types not accepted and announced sizes over the cap."""
    if response.status_code >= 400:
        phrase = response.reason_phrase or ""
        raise SourceError(url, f"HTTP {response.status_code} {phrase}".strip())
    if response.status_code == 304:
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if accept is not None and not accept(media_type):
        raise NotHTMLError(url, media_type)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise SourceError(url, f"too large (> {max_bytes} bytes)")


def _read_capped(url: str, response: httpx.Response, *, max_bytes: int, deadline: float) -> bytes:
    """Read the (decompressed) body, aborting past ``max_bytes`` or ``deadline`` seconds."""
    started = time.monotonic()
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(url, f"too large (> {max_bytes} bytes)")
        # Read timeouts bound each wait; this bounds a server that trickles bytes forever.
        if time.monotonic() - started > deadline:
            raise SourceError(url, f"timeout after {deadline:g} s (download too slow)")
        chunks.append(chunk)
    return b"".join(chunks)


def _charset(headers: httpx.Headers) -> str:
    match = re.search(r"charset=[\"']?([\w.:-]+)", headers.get("content-type", ""), re.I)
    return match.group(1) if match else ""


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (httpx wraps httpcore wraps OSError)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _paragraphs(doc: Document, title: str) -> list[str]:
    paragraphs = blocks_of(doc.body) if doc.body is not None else []
    # trafilatura keeps the page's <h1>; the headline is already the title.
    if paragraphs and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return paragraphs


def _tidy(text: str) -> str:
    """Collapse runs of spaces within lines; drop blank lines."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _same_text(a: str, b: str) -> bool:
    return bool(b) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
