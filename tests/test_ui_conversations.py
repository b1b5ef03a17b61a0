"""ui.conversations: conversations kept per browser in SQLite beside the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.results import Answer, Citation, Passage
from ui.conversations import ConversationStore, answer_from_json, answer_to_json, title_for


def _answer(question: str, text: str = "An answer. [1]") -> Answer:
    c = Citation(n=1, article_id="a1", title="T", source="S", url="https://example.org/a",
                 published_at="2024-03-02", quote="An answer.", start=0, end=10,
                 also_reported_by=("Other",))
    p = Passage(article_id="a1", chunk_id="a1#0", text="An answer.", score=0.5,
                also_reported_by=("Other",))
    return Answer(question=question, text=text, citations=[c], passages=[p],
                  search_query=f"{question} (rewritten)", notice="n")


def test_answers_round_trip_through_json() -> None:
    answer = _answer("q")
    assert answer_from_json(answer_to_json(answer)) == answer


def test_conversations_are_kept_per_owner_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "index" / "conversations.sqlite"
    store = ConversationStore(path)
    mine = store.create("a" * 32, "What did Xi say about Ukraine?")
    store.add_turn("a" * 32, mine, _answer("What did Xi say about Ukraine?"))
    store.add_turn("a" * 32, mine, _answer("And energy?"), partial=True)
    theirs = store.create("b" * 32, "Other question")

    again = ConversationStore(path)  # a restart
    assert [c.title for c in again.list("a" * 32)] == ["What did Xi say about Ukraine?"]
    turns = again.turns("a" * 32, mine)
    assert [(t.n, t.answer.question, t.partial) for t in turns] == [
        (1, "What did Xi say about Ukraine?", False), (2, "And energy?", True)]
    assert turns[1].answer.search_query == "And energy? (rewritten)"
    # another owner can neither see, read, rename, rate nor delete it
    assert [c.id for c in again.list("b" * 32)] == [theirs]
    assert again.turns("b" * 32, mine) == []
    assert not again.rename("b" * 32, mine, "mine now")
    assert not again.set_feedback("b" * 32, mine, 1, 1)
    assert not again.delete("b" * 32, mine)
    assert again.rename("a" * 32, mine, "  Xi   on Ukraine ")
    assert again.list("a" * 32)[0].title == "Xi on Ukraine"
    assert again.drop_last_turn("a" * 32, mine)
    assert [t.n for t in again.turns("a" * 32, mine)] == [1]
    assert again.delete("a" * 32, mine) and again.list("a" * 32) == []
    with sqlite3.connect(path) as db:  # its turns went with it
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone() == (0,)
    assert again.secret() == ConversationStore(path).secret()


def test_feedback_is_stored_with_the_turn_and_exported(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    owner = "c" * 32
    conv = store.create(owner, "q1")
    store.add_turn(owner, conv, _answer("q1"))
    store.add_turn(owner, conv, _answer("q2"))
    assert store.set_feedback(owner, conv, 2, -1, "  wrong outlet ")
    assert store.set_feedback(owner, conv, 1, 1)
    assert [(t.rating, t.note) for t in store.turns(owner, conv)] == [(1, ""),
                                                                      (-1, "wrong outlet")]
    rows = store.feedback()
    assert sorted((r["turn"], r["rating"], r["note"]) for r in rows) == [
        (1, "up", ""), (2, "down", "wrong outlet")]
    assert all(owner not in str(r) for r in rows) and rows[0]["citations"] == ["a1"]


def test_titles_are_one_clipped_line() -> None:
    assert title_for("  What\n did  Xi say? ") == "What did Xi say?"
    long = title_for("word " * 40)
    assert len(long) <= 81 and long.endswith("…")
