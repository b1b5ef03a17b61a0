"""Endpoints that misbehave below HTTP errors, as real loopback servers: one that accepts the
connection and never answers, one that starts a reply and stalls, one that answers 200 with
random bytes. ``llm_timeout`` bounds the whole answer (retries included), the error names the
endpoint, and ``ask`` falls back to the extractive answer with nothing on stderr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import langchain_openai  # noqa: F401  (imported now, so that no test's clock counts it)
import pytest

from assistant.llm import Endpoint, LLMError, stream_reply

SECRET = "sk-test-secret-never-shown-1234"
ARTICLES = Path(__file__).parent / "fixtures" / "articles"
QUESTION = "How much did the Harbor Bridge repair cost?"
GARBAGE = b"\xc3\x28\xff\xfe" + bytes(range(128, 256)) * 8  # never valid UTF-8


class SilentServer:
    """Accepts TCP connections, reads what comes and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[float] = []  # time.monotonic() of each connection
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(time.monotonic())
            self.held.append(conn)  # open, silent

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class OddServer:
    """``/garbage/v1``: 200 with random bytes; ``/stall/v1``: one streamed token, then silence."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, float]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                scenario = self.path.split("/")[1]
                server.requests.append((scenario, time.monotonic()))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if scenario == "garbage":
                    self.send_header("Content-Length", str(len(GARBAGE)))
                    self.end_headers()
                    self.wfile.write(GARBAGE)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = {"id": "1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"role": "assistant",
                                                            "content": "The bridge"}}]}
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                time.sleep(30)  # stalls mid-answer, connection open

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def odd() -> Iterator[OddServer]:
    server = OddServer()
    yield server
    server.close()


def test_a_silent_endpoint_times_out_within_the_budget_retries_included(
    silent: SilentServer,
) -> None:
    endpoint = Endpoint(silent.url, "test-model", SECRET, timeout=2, max_retries=2)
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        list(stream_reply(endpoint, [("human", "Hello?")]))
    elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert str(caught.value) == f"model 'test-model' at {silent.url}: no reply within 2 s (timeout)"
    assert 1.9 <= elapsed < 3.0  # the budget, not 3 tries x 2 s plus backoff
    assert len(silent.accepted) == 1  # no retry once the budget is spent


def test_a_stalled_stream_ends_at_the_deadline(odd: OddServer) -> None:
    endpoint = Endpoint(odd.url("stall"), "test-model", SECRET, timeout=2, max_retries=2)
    tokens: list[str] = []
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        for token in stream_reply(endpoint, [("human", "Hello?")]):
            tokens.append(token)
    assert time.monotonic() - started < 3.0
    assert tokens == ["The bridge"]
    assert caught.value.kind == "timeout"
    assert str(caught.value).endswith("the reply was not finished within 2 s (timeout)")


def test_garbage_bytes_are_an_invalid_reply_naming_the_endpoint(odd: OddServer) -> None:
    endpoint = Endpoint(odd.url("garbage"), "test-model", SECRET, timeout=5, max_retries=2)
    before = len(odd.requests)
    with pytest.raises(LLMError) as caught:
        list(stream_reply(endpoint, [("human", "Hello?")]))
    assert caught.value.kind == "broken"
    assert str(caught.value) == (f"model 'test-model' at {odd.url('garbage')}: "
                                 "the endpoint sent an invalid reply (not UTF-8 text)")
    assert len(odd.requests) - before == 1  # a broken reply is not retried


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    from assistant import NewsAssistant

    path = tmp_path_factory.mktemp("llm-faults") / "index"
    report = NewsAssistant(index=path, llm="extractive", embedder=embedder).ingest([ARTICLES])
    assert report.ok
    return path


def test_ask_falls_back_within_the_budget_on_a_silent_endpoint(
    silent: SilentServer, index: Path, embedder
) -> None:
    from assistant import NewsAssistant, Settings

    settings = Settings(index=str(index), llm="openai", model="test-model", base_url=silent.url,
                        api_key=SECRET, llm_timeout=3)
    bot = NewsAssistant(settings=settings, embedder=embedder)
    bot.search(QUESTION, k=1)  # loads the embedder and the index before the clock starts
    started = time.monotonic()
    answer = bot.ask(QUESTION)
    assert time.monotonic() - started < 3 + 5
    assert answer.mode == "extractive" and "84 million dollars" in answer.text
    assert answer.notice == (f"The language model failed (model 'test-model' at {silent.url}: "
                             "no reply within 3 s (timeout)). Showing the extractive answer "
                             "instead.")


def ask_process(index: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "OPENAI_BASE_URL": base_url,
           "OPENAI_API_KEY": SECRET, "NEWS_ASSISTANT_LLM_TIMEOUT": "3"}
    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", QUESTION, "--index", str(index),
         "--llm", "openai", "--model", "test-model"],
        capture_output=True, text=True, env=env, timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["silent", "garbage"])
def test_cli_ask_on_a_faulty_endpoint(
    scenario: str, silent: SilentServer, odd: OddServer, index: Path
) -> None:
    url = silent.url if scenario == "silent" else odd.url("garbage")
    before = len(odd.requests)
    done = ask_process(index, url)
    finished = time.monotonic()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no traceback, no log line: the notice says it
    out = "".join(done.stdout.split())  # the console may wrap the notice anywhere
    reason = ("no reply within 3 s (timeout)" if scenario == "silent"
              else "the endpoint sent an invalid reply (not UTF-8 text)")
    notice = f"The language model failed (model 'test-model' at {url}: {reason})"
    assert "".join(notice.split()) in out
    assert "Showingtheextractiveanswerinstead." in out and "84milliondollars" in out
    assert SECRET not in done.stdout
    asked = silent.accepted[0] if scenario == "silent" else odd.requests[before][1]
    assert finished - asked < 3 + 5  # from the request reaching the endpoint to the answer
