"""Shared fixtures: one embedder per session, a fresh index per test, no network but loopback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.conftest_web"]

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# A developer's endpoint settings must not leak into tests that expect the offline default.
for _name in (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "NEWS_ASSISTANT_LLM",
    "NEWS_ASSISTANT_MODEL",
    "NEWS_ASSISTANT_INDEX",
    "NEWS_ASSISTANT_CHROMA_URL",
):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Caches (BM25 of a Chroma server, eval indexes) go to a temp dir, never ~/.cache."""
    monkeypatch.setenv("NEWS_ASSISTANT_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def embedder():
    from ingest.embedding import default_embedder

    return default_embedder()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture articles, safe to modify."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture
def bot(tmp_path: Path, embedder):
    from assistant import NewsAssistant

    return NewsAssistant(index=tmp_path / "index", embedder=embedder)


@pytest.fixture
def loaded_bot(bot, articles_dir: Path):
    report = bot.ingest([articles_dir])
    assert report.ok, report.failed
    return bot


def indexed_fixture(tmp_path_factory, embedder, articles: Path):
    """An extractive assistant over one fixture file of its own (for module-scoped fixtures)."""
    from assistant import NewsAssistant

    bot = NewsAssistant(index=tmp_path_factory.mktemp(articles.stem) / "index",
                        llm="extractive", embedder=embedder)
    assert bot.ingest([articles]).ok
    return bot


def assert_phrase_first(answer, phrase: str) -> None:
    """The answer is given and opens with ``phrase`` in bold, cited."""
    assert not answer.abstained, answer.question
    assert answer.text.startswith(f"**{phrase}** ["), answer.text[:120]
