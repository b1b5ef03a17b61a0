"""Transient Chroma failures are retried a bounded number of times with backoff; anything else
is raised at once; and a local client that cached a collection before another process filled
it ("Nothing found on disk") is reopened and the call succeeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chromadb.errors import InternalError, InvalidArgumentError

from ingest.retry import ATTEMPTS, with_retries
from ingest.store import NewsStore, open_client


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_transient_errors_are_retried_with_backoff() -> None:
    waits: list[float] = []
    flaky = Flaky([InternalError("busy"), InternalError("busy")])
    assert with_retries(flaky, sleep=waits.append) == "done"
    assert flaky.calls == 3 and waits == [0.25, 0.5]


def test_retries_are_bounded() -> None:
    waits: list[float] = []
    flaky = Flaky([InternalError(f"down {i}") for i in range(10)])
    with pytest.raises(InternalError, match="down 3"):
        with_retries(flaky, sleep=waits.append)
    assert flaky.calls == ATTEMPTS and sum(waits) < 2


def test_other_errors_are_not_retried() -> None:
    flaky = Flaky([InvalidArgumentError("bad where"), InternalError("never reached")])
    with pytest.raises(InvalidArgumentError):
        with_retries(flaky, sleep=lambda _: None)
    assert flaky.calls == 1


WRITER = """
import sys, chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
articles = client.get_collection(sys.argv[2])
articles.add(ids=["a", "b", "c"], embeddings=[[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
"""


def test_a_client_that_saw_the_index_empty_is_reopened(tmp_path: Path) -> None:
    store = NewsStore(open_client(path=tmp_path), embedder_name="test-2d")
    assert store.count() == (0, 0)  # Chroma now caches the empty vector index
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), store.articles.name],
                   check=True, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, timeout=120)
    with pytest.raises(InternalError, match="Nothing found on disk"):  # what Chroma does
        store.articles.query(query_embeddings=[[1.0, 0.1]], n_results=1)
    got = store.call(lambda: store.articles.query(query_embeddings=[[1.0, 0.1]], n_results=1))
    assert got["ids"] == [["a"]]
