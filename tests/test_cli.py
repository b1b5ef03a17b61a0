"""The CLI, run as a real process: JSON contracts, exit codes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ARTICLES


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_ask_search_json(tmp_path: Path):
    done = run("ingest", str(ARTICLES), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == 7 and summary["failed"] == []
    assert (tmp_path / "news-index").is_dir()  # the default --index

    again = json.loads(run("ingest", str(ARTICLES), "--json", cwd=tmp_path).stdout)
    assert (again["added"], again["unchanged"]) == (0, 7)

    asked = run("ask", "Who won the national chess championship?", "--json", cwd=tmp_path)
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"question", "answer", "abstained", "citations", "passages", "timings_ms"}
    assert answer["abstained"] is False and "Okafor" in answer["answer"]
    citation = answer["citations"][0]
    assert set(citation) >= {"n", "article_id", "title", "source", "url", "published_at", "quote"}
    assert set(answer["passages"][0]) >= {"article_id", "chunk_id", "score", "text"}

    found = json.loads(run("search", "wheat harvest", "--k", "3", "--json", cwd=tmp_path).stdout)
    assert found["query"] == "wheat harvest" and len(found["results"]) == 3
    first = found["results"][0]
    assert first["rank"] == 1 and first["article_id"] == "fx-wheat"
    assert set(first) >= {
        "rank",
        "article_id",
        "chunk_id",
        "title",
        "source",
        "published_at",
        "score",
        "text",
    }

    none = json.loads(run("ask", "Who won the Monaco Grand Prix?", "--json", cwd=tmp_path).stdout)
    assert none["abstained"] is True and none["citations"] == []


def test_failed_ingest_exits_nonzero_and_names_the_line(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"body": "A perfectly fine article about rain."}\n{oops}\n')
    done = run("ingest", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "1 added" in done.stdout and "1 failed" in done.stdout
    assert "bad.jsonl:2: invalid JSON" in done.stdout


def test_bad_arguments_give_a_clear_error(tmp_path: Path):
    done = run("ask", "x", "--llm", "openai", cwd=tmp_path)
    assert done.returncode == 2 and "needs a model name" in done.stderr
    done = run("ingest", cwd=tmp_path)
    assert done.returncode == 2 and "nothing to ingest" in done.stderr


def test_chat_in_the_terminal_resolves_a_followup(tmp_path: Path):
    assert run("ingest", str(ARTICLES), cwd=tmp_path).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        cwd=tmp_path,
        env=env,
        text=True,
        input="How much did the Harbor Bridge repair cost?\nAnd what about the cycle lane?\n",
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "84 million" in done.stdout
    assert "protected cycle lane" in done.stdout
    assert done.stdout.count("Harbor Bridge Reopens") >= 2


def test_as_of_leaves_out_later_articles(tmp_path: Path):
    assert run("ingest", str(ARTICLES), cwd=tmp_path).returncode == 0
    found = run("search", "wheat harvest", "--as-of", "2024-06-01", "--json", cwd=tmp_path)
    ids = {r["article_id"] for r in json.loads(found.stdout)["results"]}
    assert "fx-wheat" not in ids and ids  # published 2024-08-12, after the as-of date
