"""Two writers on one local index: real ``news-assistant ingest`` processes started together on
the same file finish without a crash and leave exact counts (the index's write lock
serialises them; the second waits and finds the articles unchanged), and a process that opened
the index before another one wrote to it still ingests and queries it afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.locking import WAIT_MESSAGE, index_write_lock

ARTICLES = [
    {"id": "cc-ferry", "title": "Ferry Line to Tarnholm Reopens", "source": "Coast Daily",
     "published_at": "2024-05-02",
     "body": "The ferry line between Brevik and Tarnholm reopened on Monday after repairs to "
             "the pier. Operator Skagen Lines said crossings will run every two hours."},
    {"id": "cc-library", "title": "City Library Extends Opening Hours", "source": "Town Crier",
     "published_at": "2024-05-03",
     "body": "The central library in Odden will open until 10 p.m. on weekdays from June, "
             "librarian Marta Holm said, after a survey of 2,300 residents."},
    {"id": "cc-orchard", "title": "Late Frost Hits Apple Orchards", "source": "Farm Weekly",
     "published_at": "2024-05-04",
     "body": "A late frost damaged up to a third of the apple blossom in the Vessel valley, "
             "growers' association chair Ivo Rask said on Thursday."},
]


def ingest_process(index: Path, source: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", str(source), "--index", str(index),
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def counts(index: Path, embedder) -> tuple[int, int, int, int]:
    """(articles, passages) in Chroma, (articles, passages) in the lexical index."""
    from assistant import NewsAssistant

    store = NewsAssistant(index=index, llm="extractive", embedder=embedder).store
    articles, passages = store.count()
    return articles, passages, len(store.lexical.article_hashes()), store.lexical.count()


@pytest.mark.slow
def test_two_ingests_of_the_same_file_at_once(tmp_path: Path, embedder) -> None:
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    waited = 0
    for run in range(10):
        index = tmp_path / f"index-{run}"  # a fresh index each time
        said = {}
        if run == 0:  # both surely overlap once: the lock is held until both wait for it
            counts(index, embedder)  # the collections exist, so opening the index takes no lock
            with index_write_lock(index, on_wait=None):
                first, second = ingest_process(index, source), ingest_process(index, source)
                said = {p.pid: p.stderr.readline() for p in (first, second)}  # "waiting ..."
        else:
            first, second = ingest_process(index, source), ingest_process(index, source)
        reports = []
        for process in (first, second):
            out, err = process.communicate(timeout=300)
            err = said.get(process.pid, "") + err
            assert process.returncode == 0, f"run {run}: exit {process.returncode}\n{err}"
            assert "Traceback" not in err and "Error" not in err, f"run {run}:\n{err}"
            assert not err.strip() or err.strip() == f"{WAIT_MESSAGE} (index {index.resolve()})"
            waited += WAIT_MESSAGE in err
            reports.append(json.loads(out))
        assert [r["failed"] for r in reports] == [[], []]
        assert sum(r["added"] for r in reports) == len(ARTICLES), reports  # written once ...
        assert sum(r["unchanged"] for r in reports) == len(ARTICLES), reports  # ... seen once
        assert sum(r["updated"] for r in reports) == 0
        assert counts(index, embedder) == (3, 3, 3, 3), f"run {run}"
    assert waited  # the lock was contended (each run starts both processes together)


def test_an_index_opened_before_another_process_wrote_to_it(tmp_path: Path, embedder) -> None:
    """Chroma's local client caches a collection it saw empty and then fails every query
    ("Nothing found on disk") once another process has filled it: the writer reopens it."""
    from assistant import NewsAssistant

    index = tmp_path / "index"
    bot = NewsAssistant(index=index, llm="extractive", embedder=embedder)
    assert bot.store.count() == (0, 0)  # opened, and seen empty
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES[:2]), encoding="utf-8")
    other = ingest_process(index, first)
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    assert json.loads(out)["added"] == 2
    copy = dict(ARTICLES[0], id="cc-ferry-copy", source="Harbour News",
                body=ARTICLES[0]["body"] + " Tickets cost 40 crowns.")  # a near copy
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(a) + "\n" for a in [*ARTICLES, copy]), encoding="utf-8")
    report = bot.ingest([second])  # finding the near copy queries the vectors written above
    assert report.ok, report.failed
    assert sorted(report.added) == ["cc-ferry-copy", "cc-orchard"]
    assert sorted(report.unchanged) == ["cc-ferry", "cc-library"]
    assert report.syndicated == ["cc-ferry-copy"]
    assert bot.store.count() == (4, 4)
    hits = bot.search("ferry Tarnholm pier repairs", k=3)
    assert hits and hits[0].article_id in {"cc-ferry", "cc-ferry-copy"}


HOLDER = """
import sys, time
from ingest.locking import index_write_lock
with index_write_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_lock_is_waited_for_with_a_message(tmp_path: Path, capfd) -> None:
    import threading
    import time

    from ingest.locking import index_write_lock, is_locked

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "2.5"],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert is_locked(tmp_path)
    started = time.monotonic()
    with index_write_lock(tmp_path), index_write_lock(tmp_path):  # re-entrant in one thread
        waited = time.monotonic() - started
        entered: list[float] = []

        def take_it() -> None:
            with index_write_lock(tmp_path, on_wait=None):
                entered.append(time.monotonic())

        other = threading.Thread(target=take_it, daemon=True)
        other.start()
        other.join(0.5)
        assert not entered  # another thread of this process waits too
    assert holder.wait(timeout=30) == 0
    assert 1.0 < waited < 30
    assert capfd.readouterr().err.count(WAIT_MESSAGE) == 1
    other.join(5)
    assert entered
