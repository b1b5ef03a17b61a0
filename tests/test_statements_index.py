"""Statements in the index: written with their article, replaced, deleted; bot.statements,
alias matching, who-said-what answers and the ``quotes --json`` CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

STATEMENT_ARTICLES = FIXTURES / "statements" / "articles.jsonl"
SEED = Path(__file__).resolve().parents[3] / "shared" / "data" / "seed" / "putin-china-visit.txt"
if not SEED.exists():
    SEED = Path("/work/shared/data/seed/putin-china-visit.txt")

SUMMIT = {
    "id": "t-summit",
    "title": "Leaders meet in Beijing",
    "source": "Test Wire",
    "published_at": "2025-04-02",
    "body": (
        "Chinese President Xi Jinping met Brazil's president in Beijing on Tuesday.\n\n"
        "Xi said the two countries would expand soybean trade. \"Our partnership is good "
        "for the world,\" he told reporters.\n\nBrazilian President Luiz Inacio Lula da Silva "
        "said Brazil wanted more investment in its railways."
    ),
}


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def statements_bot(tmp_path_factory, embedder):
    from assistant import NewsAssistant

    root = tmp_path_factory.mktemp("statements")
    bot = NewsAssistant(index=root / "index", embedder=embedder, llm="extractive")
    sources = [str(STATEMENT_ARTICLES), str(write_jsonl(root / "summit.jsonl", [SUMMIT]))]
    if SEED.exists():
        sources.append(str(SEED))
    report = bot.ingest(sources)
    assert report.ok, report.failed
    assert report.statements_written > 20
    return bot


def test_statements_are_verbatim_and_newest_first(statements_bot):
    found = statements_bot.statements("Xi")
    assert found and all(s.speaker == "Xi Jinping" for s in found)
    dates = [s.published_at for s in found if s.published_at]
    assert dates == sorted(dates, reverse=True)
    for s in found:
        body = statements_bot.get_article(s.article_id).body
        assert body[s.start : s.end] == s.text
    assert {"speaker", "speaker_as_written", "cue", "text", "kind", "article_id", "title",
            "source", "url", "published_at", "start", "end"} <= set(found[0].to_dict())


@pytest.mark.parametrize("alias", ["Xi", "Xi Jinping", "Chinese President Xi Jinping",
                                   "President Xi"])
def test_speaker_aliases(statements_bot, alias):
    texts = {s.text for s in statements_bot.statements(alias)}
    assert "the two countries would expand soybean trade" in texts


def test_pronoun_and_title_speakers_resolve(statements_bot):
    pronoun = statements_bot.statements("Xi Jinping", about="partnership")
    assert any(s.text == "Our partnership is good for the world" and s.speaker_as_written == "he"
               and s.kind == "direct" and s.cue == "told reporters" for s in pronoun)
    chief = statements_bot.statements("the police chief")
    assert chief and {s.speaker for s in chief} == {"Dana Whitaker"}
    assert statements_bot.statements("Dana Whitaker")[0].speaker == "Dana Whitaker"


def test_topic_filters_statements(statements_bot):
    on_tariffs = statements_bot.statements("Sakamoto", about="tariffs")
    assert on_tariffs and all(s.speaker == "Haruto Sakamoto" for s in on_tariffs)
    assert statements_bot.statements("Sakamoto", about="lithium") == []
    by_topic = statements_bot.statements(about="password sharing")
    assert by_topic and by_topic[0].speaker == "Netflix"


def test_filters_and_as_of(statements_bot):
    assert statements_bot.statements("Xi", filters={"since": "2025-04-01"})
    assert statements_bot.statements("Xi", filters={"source": "Nowhere"}) == []
    early = statements_bot.statements("Sakamoto", as_of="2025-01-01")
    assert early == []


def test_who_said_what_answers(statements_bot):
    answer = statements_bot.ask("What did Xi say about soybeans?")
    assert not answer.abstained
    assert answer.citations[0].quote == "the two countries would expand soybean trade"
    body = statements_bot.get_article(answer.citations[0].article_id).body
    c = answer.citations[0]
    assert body[c.start : c.end] == c.quote

    declined = statements_bot.ask("What did Sakamoto say about lithium?")
    assert declined.abstained and "Haruto Sakamoto" in declined.text and "lithium" in declined.text
    absent = statements_bot.ask("What did Angela Merkel say about the stadium?")
    assert absent.abstained and "does not appear" in absent.text
    mentioned = statements_bot.ask("What did Kevin Ashdown say?")
    assert mentioned.abstained and "mentioned in 1 article" in mentioned.text


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed article is not here")
@pytest.mark.parametrize(
    ("question", "quote"),
    [
        ("What did Xi say about Ukraine?",
         "China's consistent position and efforts towards promoting a political settlement"),
        ("What did Zelenskyy say?", "the difficult situation, although noting that it was"),
        ("What does Muraviev think about the relationship?",
         "there are limits to the relationship between Russia and China"),
        ("What did Putin say about Kharkiv?", "create a buffer zone and not to capture the area"),
    ],
)
def test_seed_article_questions(statements_bot, question, quote):
    answer = statements_bot.ask(question)
    assert not answer.abstained, answer.text
    assert any(quote in c.quote for c in answer.citations), answer.text


def test_statements_replaced_when_article_changes_and_gone_when_deleted(tmp_path, embedder):
    from assistant import NewsAssistant

    bot = NewsAssistant(index=tmp_path / "index", embedder=embedder, llm="extractive")
    source = write_jsonl(tmp_path / "a.jsonl", [SUMMIT])
    assert bot.ingest([source]).ok
    before = bot.store.statements.for_article("t-summit")
    assert {s.text for s in before} >= {"the two countries would expand soybean trade"}
    assert bot.ingest([source]).unchanged == ["t-summit"]  # idempotent
    assert len(bot.store.statements.for_article("t-summit")) == len(before)

    changed = dict(SUMMIT, body=SUMMIT["body"].replace("soybean trade", "beef exports"))
    write_jsonl(source, [changed])
    assert bot.ingest([source]).updated == ["t-summit"]
    texts = {s.text for s in bot.store.statements.for_article("t-summit")}
    assert "the two countries would expand beef exports" in texts
    assert not any("soybean" in t for t in texts)
    assert len(texts) == len(before)

    bot.store.delete_article("t-summit")
    assert bot.store.statements.for_article("t-summit") == []
    assert bot.statements("Xi") == []


def test_quotes_json_cli(statements_bot, tmp_path):
    index = statements_bot.settings.index
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "quotes", "Sakamoto", "--about", "tariffs",
         "--since", "2025-01-01", "--json", "--index", str(copy)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["speaker"] == "Sakamoto" and payload["about"] == "tariffs"
    assert payload["statements"]
    first = payload["statements"][0]
    assert first["speaker"] == "Haruto Sakamoto"
    assert {"speaker", "speaker_as_written", "cue", "text", "kind", "article_id", "title",
            "source", "url", "published_at", "start", "end"} <= set(first)


class _Recorder:
    """A generating answerer that records what it was given."""

    name = "llm"
    mode = "local:test"
    generative = True

    def __init__(self) -> None:
        self.requests: list = []

    def answer(self, request):
        from assistant.results import Answer, StreamEvent

        self.requests.append(request)
        yield StreamEvent("answer", answer=Answer(question=request.question, text="ok"))


def _request(question: str):
    from assistant.answerers import AnswerRequest
    from assistant.retrieval import Filters

    return AnswerRequest(question=question, search_query=question, passages=[], history=[],
                         analysis=None, as_of=None, filters=Filters())


def test_generating_modes_get_the_statements_as_passages(statements_bot):
    from assistant.answerers.statements import StatementsAnswerer
    from assistant.statements import StatementFinder

    recorder = _Recorder()
    answerer = StatementsAnswerer(StatementFinder(statements_bot.store, statements_bot.embedder),
                                  default=recorder, embedder=statements_bot.embedder)
    assert answerer.handles("What did Sakamoto say about tariffs?")
    list(answerer.answer(_request("What did Sakamoto say about tariffs?")))
    given = recorder.requests[-1]
    assert given.passages and given.sentences
    for passage in given.passages:
        body = statements_bot.get_article(passage.article_id).body
        assert body[passage.start : passage.end] == passage.text
    assert any("tariffs would hurt workers" in p.text for p in given.passages)

    declined = list(answerer.answer(_request("What did Sakamoto say about lithium?")))
    assert declined[-1].answer.abstained and len(recorder.requests) == 1  # not generated

    assert not answerer.handles("Who won the final?")
    list(answerer.answer(_request("Who won the final?")))
    assert recorder.requests[-1].question == "Who won the final?"  # the default answers
