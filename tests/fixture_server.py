"""A real HTTP server on 127.0.0.1 for tests of fetching: fixture files plus awkward routes.

Serves ``tests/fixtures/web/`` (``{{BASE}}`` in text files becomes the server's base URL, so
feeds can link to pages on it) with ETag and Last-Modified validators and 304 answers, and:

- ``/redirect?to=PATH[&code=301]``  redirect to PATH (default 302)
- ``/redirect-loop``                redirects to itself forever
- ``/status/CODE``                  that status with a short HTML body
- ``/slow?delay=S``                 waits S seconds before answering
- ``/drip?chunks=N&interval=S``     sends headers, then N small chunks S seconds apart
- ``/huge?size=N&length=0|1&type=T`` an N-byte page, with or without Content-Length
- ``/hangup``                       closes the connection without answering

``put(path, body)`` serves in-memory content at ``path`` (tests change a feed between rounds).
Every request is logged (method, path, headers, status) in ``requests``.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

FIXTURES_WEB = Path(__file__).parent / "fixtures" / "web"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
}
TEXT_SUFFIXES = {".html", ".rss", ".atom", ".xml", ".txt"}


@dataclass
class LoggedRequest:
    """One request as the server saw it; ``status`` is 0 until an answer was started."""

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0

    @property
    def route(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path


@dataclass
class Resource:
    """Content served with validators; ``etag``/``last_modified`` "" means "do not send"."""

    body: bytes
    content_type: str
    etag: str = ""
    last_modified: str = ""
    mtime: float = 0.0


@dataclass
class _State:
    base_url: str = ""
    requests: list[LoggedRequest] = field(default_factory=list)
    puts: dict[str, Resource] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class FixtureServer:
    """Start with ``with FixtureServer() as server:``; ``server.url("/x")`` is an absolute URL."""

    def __init__(self, root: Path = FIXTURES_WEB) -> None:
        self.root = root
        self._state = _State()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FixtureServer:
        handler = type("Handler", (_Handler,), {"state": self._state, "root": self.root})
        httpd = _QuietServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True  # a slow route must not block shutdown
        self._httpd = httpd
        self._state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()  # wakes sleeping slow/drip handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._state.base_url

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the request log, oldest first."""
        with self._state.lock:
            return list(self._state.requests)

    def requests_to(self, route: str) -> list[LoggedRequest]:
        """Logged requests whose path (without query) is ``route``."""
        return [r for r in self.requests if r.route == route]

    def clear_log(self) -> None:
        with self._state.lock:
            self._state.requests.clear()

    def put(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "text/html; charset=utf-8",
        etag: bool = True,
        last_modified: bool = True,
    ) -> None:
        """Serve ``body`` at ``path`` from now on (``{{BASE}}`` is substituted in text).

        Each put gets a new ETag and a Last-Modified at least one second after the previous
        one, so a changed resource is never mistaken for the old one by If-Modified-Since.
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        data = data.replace(b"{{BASE}}", self.base_url.encode("ascii"))
        with self._state.lock:
            previous = self._state.puts.get(path)
            mtime = float(int(time.time()))
            if previous is not None and mtime <= previous.mtime:
                mtime = previous.mtime + 1
            self._state.puts[path] = Resource(
                body=data,
                content_type=content_type,
                etag=_etag(data) if etag else "",
                last_modified=_http_date(mtime) if last_modified else "",
                mtime=mtime,
            )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that give up (timeouts, size caps) reset connections: expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State
    root: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        logged = getattr(self, "_logged", None)
        if logged is not None:
            logged.status = code
        super().send_response(code, message)

    def do_GET(self) -> None:
        self._logged = LoggedRequest("GET", self.path, dict(self.headers.items()))
        with self.state.lock:
            self.state.requests.append(self._logged)
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = parts.path
        try:
            self._dispatch(route, query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _dispatch(self, route: str, query: dict[str, str]) -> None:
        if route == "/redirect":
            self._redirect(query.get("to", "/"), int(query.get("code", "302")))
        elif route == "/redirect-loop":
            self._redirect("/redirect-loop", 302)
        elif route.startswith("/status/"):
            code = int(route.rsplit("/", 1)[1])
            self._send(code, f"<html><body><p>status {code}</p></body></html>".encode())
        elif route == "/slow":
            if not self.state.stopping.wait(float(query.get("delay", "5"))):
                self._send(200, _page("Slow page", "This page took its time."))
        elif route == "/drip":
            self._drip(int(query.get("chunks", "50")), float(query.get("interval", "0.2")))
        elif route == "/huge":
            self._huge(
                int(query.get("size", "6000000")),
                with_length=query.get("length", "1") == "1",
                content_type=query.get("type", "text/html; charset=utf-8"),
            )
        elif route == "/hangup":
            self.close_connection = True
        else:
            self._serve_resource(route)

    def _serve_resource(self, route: str) -> None:
        resource = self._find(route)
        if resource is None:
            self._send(404, b"<html><body><p>not found</p></body></html>")
            return
        validators = {}
        if resource.etag:
            validators["ETag"] = resource.etag
        if resource.last_modified:
            validators["Last-Modified"] = resource.last_modified
        if self._not_modified(resource):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._send(200, resource.body, resource.content_type, validators)

    def _find(self, route: str) -> Resource | None:
        with self.state.lock:
            if route in self.state.puts:
                return self.state.puts[route]
        path = (self.root / route.lstrip("/")).resolve()
        if not path.is_file() or self.root.resolve() not in path.parents:
            return None
        data = path.read_bytes()
        if path.suffix in TEXT_SUFFIXES:
            data = data.replace(b"{{BASE}}", self.state.base_url.encode("ascii"))
        mtime = float(int(path.stat().st_mtime))
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return Resource(data, content_type, _etag(data), _http_date(mtime), mtime)

    def _not_modified(self, resource: Resource) -> bool:
        # RFC 9110: If-None-Match wins over If-Modified-Since when both are present.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip() for t in if_none_match.split(",")}
            return bool(resource.etag) and ("*" in tags or resource.etag in tags)
        since = self.headers.get("If-Modified-Since")
        if since and resource.last_modified:
            try:
                return resource.mtime <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _redirect(self, location: str, code: int) -> None:
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drip(self, chunks: int, interval: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(b"<html><body><article>")
        for _ in range(chunks):
            if self.state.stopping.wait(interval):
                return
            self.wfile.write(b"<p>More words arrive, slowly, one paragraph at a time.</p>\n")
            self.wfile.flush()

    def _huge(self, size: int, *, with_length: bool, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if with_length:
            self.send_header("Content-Length", str(size))
        else:  # the body ends when the connection closes
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        paragraph = b"<p>" + b"Filler text for a very long page. " * 28 + b"</p>\n"
        sent = 0
        while sent < size:
            piece = paragraph[: size - sent]
            self.wfile.write(piece)
            sent += len(piece)

    def _send(
        self,
        code: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _page(title: str, text: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>".encode()


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest()[:16] + '"'


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)
