"""Endpoint failures, against a real HTTP server on 127.0.0.1 that answers like a failing
OpenAI-compatible endpoint: each error names the endpoint and its cause, retries are bounded,
a "context too long" refusal trims the passages, and the user still gets the extractive answer.

These test our error handling only; answers themselves are tested against a real model in
test_llm_server.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.llm import (
    AnswerStream,
    Endpoint,
    LLMError,
    estimate_tokens,
    stream_reply,
)
from assistant.results import Passage

SECRET = "sk-test-secret-never-shown-1234"
ARTICLES = Path(__file__).parent / "fixtures" / "articles"

ERRORS = {
    "auth": (401, {"error": {"message": "Incorrect API key provided: sk-te...1234",
                             "type": "invalid_request_error", "code": "invalid_api_key"}}),
    "missing": (404, {"error": {"message": "The model `nope` does not exist",
                                "type": "invalid_request_error", "code": "model_not_found"}}),
    "busy": (503, {"error": {"message": "overloaded", "type": "server_error"}}),
    # llama.cpp's server refusing a prompt longer than its context
    "llamacpp-context": (400, {"error": {
        "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 1800, "n_ctx": 600,
        "message": "request (1800 tokens) exceeds the available context size (600 tokens), "
                   "try increasing it"}}),
    # OpenAI's wording of the same refusal
    "openai-context": (400, {"error": {
        "message": "This model's maximum context length is 700 tokens. However, your messages "
                   "resulted in 1800 tokens.", "type": "invalid_request_error",
        "param": "messages", "code": "context_length_exceeded"}}),
}


class FailingEndpoint:
    """``http://127.0.0.1:PORT/<scenario>/v1``: scenarios from ERRORS, ``slow`` (answers after
    2 s) and ``cut`` (starts a stream, then drops the connection). Logs every request body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                scenario = self.path.split("/")[1]
                endpoint.requests.append((scenario, body))
                if scenario == "slow":
                    time.sleep(2)
                if scenario == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = {"id": "1", "object": "chat.completion.chunk", "created": 0,
                             "model": "m", "choices": [{"index": 0, "delta": {
                                 "role": "assistant", "content": "The bridge"}}]}
                    data = f"data: {json.dumps(chunk)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)  # mid-answer, no final chunk
                    return
                status, payload = ERRORS.get(scenario, (500, {"error": {"message": "?"}}))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}/v1"

    def endpoint(self, scenario: str, **options: object) -> Endpoint:
        return Endpoint(self.url(scenario), "test-model", SECRET, **options)  # type: ignore[arg-type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def failing() -> Iterator[FailingEndpoint]:
    server = FailingEndpoint()
    yield server
    server.close()


def reply_error(endpoint: Endpoint) -> LLMError:
    with pytest.raises(LLMError) as caught:
        list(stream_reply(endpoint, [("human", "Hello?")]))
    assert SECRET not in str(caught.value)
    return caught.value


def test_refused_key_names_the_endpoint(failing: FailingEndpoint) -> None:
    error = reply_error(failing.endpoint("auth"))
    assert error.kind == "auth"
    assert str(error) == (f"model 'test-model' at {failing.url('auth')}: "
                          "the API key was refused (401)")


def test_unknown_model_says_how_to_fix_it(failing: FailingEndpoint) -> None:
    error = reply_error(failing.endpoint("missing"))
    assert error.kind == "not_found"
    assert failing.url("missing") in str(error) and "check the model name" in str(error)


def test_unreachable_endpoint(failing: FailingEndpoint) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    started = time.perf_counter()
    error = reply_error(Endpoint(url, "test-model", SECRET, max_retries=1))
    assert error.kind == "unreachable"
    assert str(error).startswith(f"model 'test-model' at {url}: unreachable")
    assert time.perf_counter() - started < 10


def test_server_errors_are_retried_a_bounded_number_of_times(failing: FailingEndpoint) -> None:
    before = len(failing.requests)
    started = time.perf_counter()
    error = reply_error(failing.endpoint("busy", max_retries=2))
    elapsed = time.perf_counter() - started
    assert error.kind == "http" and "HTTP 503: overloaded" in str(error)
    assert len(failing.requests) - before == 3  # the first try and two retries
    assert elapsed >= 0.5  # with backoff between them, not hammering the endpoint


def test_timeout(failing: FailingEndpoint) -> None:
    error = reply_error(failing.endpoint("slow", timeout=0.5, max_retries=0))
    assert error.kind == "timeout"
    where = f"model 'test-model' at {failing.url('slow')}"
    assert str(error) == f"{where}: no reply within 0.5 s (timeout)"


def test_stream_cut_mid_answer(failing: FailingEndpoint) -> None:
    tokens: list[str] = []
    with pytest.raises(LLMError) as caught:
        for token in stream_reply(failing.endpoint("cut", max_retries=0), [("human", "Hi")]):
            tokens.append(token)
    assert tokens == ["The bridge"]  # what came before the break was delivered
    assert caught.value.kind in {"unreachable", "broken"}
    assert failing.url("cut") in str(caught.value)


def long_passages() -> list[Passage]:
    sentence = "The harbour authority published its annual report on shipping volumes. "
    text = sentence * 30  # ~2,100 characters, ~650 estimated tokens each
    return [
        Passage(f"a{i}", f"a{i}-0", text, 1.0, title=f"Report {i}", start=100, end=100 + len(text))
        for i in range(3)
    ]


@pytest.mark.parametrize("scenario, size", [("llamacpp-context", 600), ("openai-context", 700)])
def test_context_too_long_trims_the_passages(
    failing: FailingEndpoint, scenario: str, size: int
) -> None:
    before = len(failing.requests)
    stream = AnswerStream(failing.endpoint(scenario, max_retries=0), "Volumes?", long_passages())
    with pytest.raises(LLMError) as caught:
        list(stream)  # this endpoint refuses every prompt: one retry, trimmed, then give up
    assert caught.value.kind == "context" and caught.value.context_tokens == size
    sent = [body for _, body in failing.requests[before:]]
    assert len(sent) == 2
    first, second = (len(body["messages"][-1]["content"]) for body in sent)
    assert second < first
    assert estimate_tokens(sent[1]["messages"][-1]["content"]) < size
    kept = stream.passages
    assert len(kept) == 1 and kept[0].text.endswith("volumes.")  # cut at a sentence end
    assert kept[0].end - kept[0].start == len(kept[0].text)  # offsets still exact


def test_known_context_size_trims_before_sending(failing: FailingEndpoint) -> None:
    before = len(failing.requests)
    stream = AnswerStream(failing.endpoint("auth", max_retries=0, context_tokens=1200),
                          "Volumes?", long_passages())
    assert len(stream.passages) == 2
    with pytest.raises(LLMError):
        list(stream)
    assert len(failing.requests) - before == 1


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    from assistant import NewsAssistant

    path = tmp_path_factory.mktemp("llm-errors") / "index"
    report = NewsAssistant(index=path, llm="extractive", embedder=embedder).ingest([ARTICLES])
    assert report.ok
    return path


def openai_bot(index: Path, base_url: str, embedder):
    from assistant import NewsAssistant, Settings

    settings = Settings(index=str(index), llm="openai", model="test-model", base_url=base_url,
                        api_key=SECRET, llm_timeout=5)
    return NewsAssistant(settings=settings, embedder=embedder)


QUESTION = "How much did the Harbor Bridge repair cost?"


def test_failing_endpoint_falls_back_to_the_extractive_answer(
    failing: FailingEndpoint, index: Path, embedder
) -> None:
    from assistant import NewsAssistant

    bot = openai_bot(index, failing.url("auth"), embedder)
    events = list(bot.stream(QUESTION))
    answer = events[-1].answer
    assert answer.mode == "extractive"
    assert answer.notice.startswith("The language model failed (model 'test-model' at ")
    assert "the API key was refused (401)" in answer.notice
    assert answer.notice.endswith("Showing the extractive answer instead.")
    assert SECRET not in answer.notice + "".join(e.token for e in events)
    expected = NewsAssistant(index=index, llm="extractive", embedder=embedder).ask(QUESTION)
    assert answer.text == expected.text and "84 million dollars" in answer.text
    assert answer.citations == expected.citations
    assert answer.notice in "".join(e.token for e in events)  # the streaming user sees it too


def test_failing_endpoint_mid_stream_shows_what_happened(
    failing: FailingEndpoint, index: Path, embedder
) -> None:
    bot = openai_bot(index, failing.url("cut"), embedder)
    tokens = [e.token for e in bot.stream(QUESTION) if e.kind == "token"]
    answer = bot.ask(QUESTION)
    # the answer phrase at once, then the model's first words, then what happened
    assert tokens[:2] == ["**84 million dollars** [1]\n\n", "The bridge"]
    assert failing.url("cut") in answer.notice and answer.mode == "extractive"
    assert answer.citations and "84 million dollars" in answer.text


def test_followup_condensing_falls_back_to_the_offline_rewrite(
    failing: FailingEndpoint, index: Path, embedder
) -> None:
    bot = openai_bot(index, failing.url("auth"), embedder)
    chat = bot.chat()
    chat.ask(QUESTION)
    follow = chat.ask("And what about the cycle lane?")
    assert follow.search_query.startswith("And what about the cycle lane?")
    assert "Harbor" in follow.search_query  # carried over by the offline rewrite
    assert "cycle lane" in follow.text
