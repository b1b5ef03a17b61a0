"""``news-assistant articles``, ``delete`` and ``feedback export``."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.results import Answer
from ui.cli import main
from ui.conversations import ConversationStore, store_path


def test_articles_delete_and_feedback_export(tmp_path: Path, embedder, capsys) -> None:
    from assistant import NewsAssistant

    index = tmp_path / "index"
    bot = NewsAssistant(index=index, embedder=embedder)
    assert bot.ingest_demo().ok
    assert main(["articles", "--json", "--index", str(index)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 22 and {"id", "title", "source", "published_at", "passages"} <= set(
        rows[0])
    assert rows == sorted(rows, key=lambda r: (r["published_at"][:10], r["title"]),
                          reverse=True)
    assert main(["delete", "demo-005", "nope", "--index", str(index)]) == 0
    assert "deleted 1 article(s); not in the index: nope" in capsys.readouterr().out
    assert main(["articles", "--index", str(index), "--search", "rugby"]) == 0
    assert capsys.readouterr().out.strip() == "0 articles"
    assert main(["delete", "nope", "--index", str(index)]) == 1
    capsys.readouterr()

    store = ConversationStore(store_path(index))
    conv = store.create("d" * 32, "q")
    store.add_turn("d" * 32, conv, Answer(question="q", text="a"))
    store.set_feedback("d" * 32, conv, 1, 1, "good")
    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--index", str(index), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["question"], r["rating"], r["note"]) for r in lines] == [("q", "up", "good")]
