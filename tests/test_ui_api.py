"""The Gradio app over real HTTP: gradio_client against the app launched on 127.0.0.1 with the
demo corpus in a fresh index."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # gradio_client reads it too: no telemetry
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow

DEMO_QUESTION = "What did Xi say about Ukraine?"
SECRET = "sk-ui-api-secret-7311"
# (question, the demo articles that answer it) from ingest/demo/QUESTIONS.md
QUESTIONS = [
    (DEMO_QUESTION, {"demo-013"}),
    ("When did Chandrayaan-3 land?", {"demo-002", "demo-003"}),
    ("What did the COP28 agreement say about fossil fuels?", {"demo-007", "demo-008"}),
    ("Where was totality longest during the April 2024 solar eclipse?", {"demo-011", "demo-012"}),
    ("Who lit the Olympic cauldron at the Paris 2024 opening ceremony?", {"demo-017", "demo-018"}),
    ("What caused the global computer outage in July 2024?", {"demo-016"}),
    ("By how much did the Federal Reserve cut interest rates in September 2024?", {"demo-020"}),
    ("Who won the 2023 Rugby World Cup final?", {"demo-005"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index: Path, embedder, **settings: str):
    """A NewsAssistant on ``index`` with the demo corpus, served on a free loopback port."""
    from assistant import NewsAssistant, Settings
    from ui.app import build_app, launch

    bot = NewsAssistant(settings=Settings(index=str(index), **settings), embedder=embedder)
    assert bot.ingest_demo().ok
    app = build_app(bot)
    url = launch(app, port=free_port(), block=False, quiet=True, auth=None)
    return bot, app, url


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder) -> Iterator[SimpleNamespace]:
    # an endpoint key is configured (but unused: extractive mode): it must never reach a page
    bot, app, url = start_app(tmp_path_factory.mktemp("ui-api") / "index", embedder,
                              llm="extractive", api_key=SECRET)
    yield SimpleNamespace(bot=bot, app=app, url=url)
    app.close()


@pytest.fixture
def client(served) -> Client:
    return Client(served.url, verbose=False, download_files=False)


def cited_ids(answer: dict) -> set[str]:
    return {c["article_id"] for c in answer["citations"]}


def test_demo_question_cites_a_verbatim_quote(served, client: Client) -> None:
    answer = client.predict(DEMO_QUESTION, api_name="/ask")
    assert not answer["abstained"] and answer["citations"]
    assert "[1]" in answer["answer"]
    for c in answer["citations"]:
        body = served.bot.get_article(c["article_id"]).body
        assert body[c["start"]:c["end"]] == c["quote"]
    assert cited_ids(answer) == {"demo-013"}
    assert {"question", "answer", "abstained", "citations", "passages", "mode"} <= set(answer)


@pytest.mark.parametrize(("outlets", "since", "until", "expected"), [
    (["Lantern Courier"], "", "", {"demo-011"}),
    (["Meridian Post"], "", "", {"demo-012"}),
])
def test_outlet_filter_changes_the_sources(client, outlets, since, until, expected) -> None:
    question = "Where was totality longest during the April 2024 solar eclipse?"
    filtered = client.predict(question, outlets, since, until, api_name="/ask")
    assert cited_ids(filtered) == expected
    assert {p["source"] for p in filtered["passages"]} == set(outlets)


def test_date_filter_changes_the_sources(client) -> None:
    question = "When did Chandrayaan-3 land near the Moon's south pole?"
    early = client.predict(question, [], "", "2023-08-23", api_name="/ask")
    late = client.predict(question, [], "2023-08-24", "", api_name="/ask")
    assert all(p["published_at"][:10] <= "2023-08-23" for p in early["passages"])
    assert all(p["published_at"][:10] >= "2023-08-24" for p in late["passages"])
    assert cited_ids(early) == {"demo-002"} and cited_ids(late) == {"demo-003"}
    nothing = client.predict(question, [], "2030-01-01", "", api_name="/ask")
    assert nothing["abstained"] and not nothing["citations"]


def test_bad_filters_and_empty_question_are_reported(client) -> None:
    with pytest.raises(AppError, match="Since: write the date as YYYY-MM-DD"):
        client.predict(DEMO_QUESTION, [], "17/05/2024", "", api_name="/ask")
    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/ask")


def test_follow_up_uses_the_conversation_and_reset_forgets_it(client) -> None:
    client.predict(DEMO_QUESTION, api_name="/ask")
    follow = client.predict("And what about energy?", api_name="/ask")
    assert follow["search_query"] != "And what about energy?"  # rewritten with the first turn
    assert "demo-013" in cited_ids(follow)
    history = client.predict(api_name="/history")
    assert [t["question"] for t in history] == [DEMO_QUESTION, "And what about energy?"]
    client.predict(api_name="/reset")
    assert client.predict(api_name="/history") == []
    alone = client.predict("And what about energy?", api_name="/ask")
    assert alone["search_query"] == "And what about energy?"


def test_chat_endpoint_streams_then_renders_markers_and_sources(client) -> None:
    job = client.submit(DEMO_QUESTION, [], "", "", api_name="/chat")
    job.result(timeout=60)
    # the stream's last values leave the chat as it is (see ui.app: a completion that
    # re-sent the chat would undo a "New conversation" clicked meanwhile)
    outputs = [out for out in job.outputs() if isinstance(out[1], list)]
    assert len(outputs) < len(job.outputs())
    chats = [out[1] for out in outputs]
    texts = [_text(messages[-1]) for messages in chats if messages]
    assert len(texts) >= 3, "the answer arrives in pieces"
    assert texts[-1].count("<sup") >= 1 and 'href="#cite-1-1"' in texts[-1]
    assert any("<sup" not in t and len(t) < len(texts[-1]) for t in texts[:-1])
    sources = outputs[-1][2]
    assert '<mark id="cite-1-1"' in sources and "Putin courts Xi" in sources


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content


def test_eight_concurrent_sessions_keep_their_own_history(served) -> None:
    clients = [Client(served.url, verbose=False, download_files=False) for _ in QUESTIONS]
    results: dict[int, list] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clients))

    def session(i: int) -> None:
        try:
            question, _ = QUESTIONS[i]
            barrier.wait(timeout=30)
            first = clients[i].predict(question, api_name="/ask")
            second = clients[i].predict(f"Tell me more about that ({i})", api_name="/ask")
            results[i] = [first, second, clients[i].predict(api_name="/history")]
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    for i, (question, evidence) in enumerate(QUESTIONS):
        first, second, history = results[i]
        assert first["question"] == question
        assert cited_ids(first) and cited_ids(first) <= evidence, (question, first["answer"])
        assert second["search_query"] != second["question"]  # resolved against its own turn
        assert [t["question"] for t in history] == [question, f"Tell me more about that ({i})"]


def test_add_news_through_the_api_then_ask_about_it(served, client, tmp_path: Path) -> None:
    article = tmp_path / "skerry.txt"
    article.write_text("Lighthouse keepers return to Skerry Point\nCoastal Chronicle\n"
                       "The Skerry Point lighthouse will again have resident keepers from June, "
                       "the maritime authority said on Monday.\n\nThe keepers will live in the "
                       "restored cottages beside the tower.\n")
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ\x00")
    summary, _, status, _, report = client.predict(
        [handle_file(str(article)), handle_file(str(bad))], "", api_name="/add_news")
    assert "1 added" in summary and "1 failed" in summary
    assert report["added"] == 1 and [f["where"] for f in report["failed"]] == ["notes.exe"]
    assert report["articles"] == [{"status": "added", "published_at": "no date",
                                   "title": "Lighthouse keepers return to Skerry Point"}]
    assert "notes.exe" in summary and ".exe is not accepted" in summary
    assert "Lighthouse keepers return to Skerry Point" in summary and "no date" in summary
    assert "23 articles" in status
    answer = client.predict("Will the Skerry Point lighthouse have resident keepers again?",
                            api_name="/ask")
    assert [c["source"] for c in answer["citations"]][:1] == ["Coastal Chronicle"]


def test_no_secret_and_no_analytics(served) -> None:
    assert served.app.analytics_enabled is False
    config = httpx.get(served.url + "config", timeout=10).text
    page = httpx.get(served.url, timeout=10).text
    status, _ = Client(served.url, verbose=False).predict(api_name="/stats")
    for text in (config, page, status):
        assert SECRET not in text
    assert "offline extractive" in status


def test_auth_requires_a_login(tmp_path: Path, embedder) -> None:
    from assistant import NewsAssistant
    from ui.app import build_app, launch

    bot = NewsAssistant(index=tmp_path / "index", embedder=embedder)
    app = build_app(bot)
    url = launch(app, port=free_port(), block=False, quiet=True, auth=("ann", "s3cret"))
    try:
        assert httpx.get(url + "config", timeout=10).status_code == 401
        assert httpx.post(url + "login", data={"username": "ann", "password": "nope"},
                          timeout=10).status_code == 400
        client = Client(url, auth=("ann", "s3cret"), verbose=False)
        assert "0 articles" in client.predict(api_name="/stats")[0]
    finally:
        app.close()


def test_serve_command_indexes_the_demo_and_asks_for_a_login(tmp_path: Path) -> None:
    """The real ``news-assistant serve --demo`` in a subprocess, login from the environment."""
    import subprocess
    import sys
    import time

    port = free_port()
    env = {**os.environ, "NEWS_ASSISTANT_AUTH": "ann:pa:ss", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui", "serve", "--index", str(tmp_path / "index"), "--demo",
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(url + "config", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.5)
        answer = Client(url, auth=("ann", "pa:ss"), verbose=False).predict(
            DEMO_QUESTION, api_name="/ask")
        assert cited_ids(answer) == {"demo-013"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "22 added" in proc.stdout.read()


def test_conversations_are_listed_opened_renamed_and_deleted(served) -> None:
    client = Client(served.url, verbose=False, download_files=False)
    client.predict(DEMO_QUESTION, api_name="/ask")
    client.predict("And what about energy?", api_name="/ask")
    client.predict(api_name="/reset")
    client.predict("Who won the 2023 Rugby World Cup final?", api_name="/ask")
    listed = client.predict(api_name="/conversations")
    assert [c["title"] for c in listed] == ["Who won the 2023 Rugby World Cup final?",
                                            DEMO_QUESTION]
    assert [c["turns"] for c in listed] == [1, 2] and listed[0]["current"]
    xi = listed[1]["id"]
    turns = client.predict(xi, api_name="/open_conversation")
    assert [t["question"] for t in turns] == [DEMO_QUESTION, "And what about energy?"]
    assert turns[0]["citations"][0]["article_id"] == "demo-013"
    # the reopened conversation is the context of the next follow-up
    follow = client.predict("And what did they say about trade?", api_name="/ask")
    assert follow["search_query"] != follow["question"]
    assert len(client.predict(api_name="/history")) == 3
    assert client.predict(xi, "Xi and Putin", api_name="/rename_conversation") is True
    assert "Xi and Putin" in [c["title"] for c in client.predict(api_name="/conversations")]

    other = Client(served.url, verbose=False, download_files=False)  # another browser
    assert other.predict(api_name="/conversations") == []
    with pytest.raises(AppError, match="no such conversation"):
        other.predict(xi, api_name="/open_conversation")
    assert other.predict(xi, api_name="/delete_conversation") is False

    assert client.predict(xi, api_name="/delete_conversation") is True
    assert [c["id"] for c in client.predict(api_name="/conversations")] == [listed[0]["id"]]
    assert client.predict(api_name="/history") == []


def test_feedback_is_stored_with_the_conversation(served) -> None:
    from ui.conversations import ConversationStore, store_path

    client = Client(served.url, verbose=False, download_files=False)
    client.predict("When did Chandrayaan-3 land?", api_name="/ask")
    assert client.predict(1, "down", "cites the wrong day", api_name="/feedback") is True
    store = ConversationStore(store_path(served.bot.settings.index))
    rows = [r for r in store.feedback() if r["question"] == "When did Chandrayaan-3 land?"]
    assert [(r["turn"], r["rating"], r["note"]) for r in rows] == [
        (1, "down", "cites the wrong day")]


def test_articles_are_listed_and_deleted_everywhere(tmp_path: Path, embedder) -> None:
    bot, app, url = start_app(tmp_path / "index", embedder, llm="extractive")
    try:
        client = Client(url, verbose=False, download_files=False)
        listed = client.predict("rugby", api_name="/articles")
        assert [a["id"] for a in listed] == ["demo-005"]
        assert listed[0]["passages"] >= 1 and listed[0]["source"]
        assert client.predict(["demo-005", "no-such-id"], api_name="/delete_articles") == [
            "demo-005"]
        assert client.predict("rugby", api_name="/articles") == []
        assert bot.get_article("demo-005") is None
        assert not any(p.article_id == "demo-005" for p in bot.search("Rugby World Cup final"))
        answer = client.predict("Who won the 2023 Rugby World Cup final?", api_name="/ask")
        assert "demo-005" not in cited_ids(answer)
        assert bot.store.lexical.article_hashes().get("demo-005") is None
    finally:
        app.close()
