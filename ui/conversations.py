"""Conversations that last: every browser's chats, their answers and feedback, kept on the
server in one SQLite file beside the index (``<index>/conversations.sqlite``; for a Chroma
server, in the cache directory keyed by its URL).

A browser is known by a random ``owner`` id that it keeps in its localStorage; every read and
write names the owner, so one browser never sees another's conversations. Each turn is the
whole ``Answer`` (text, citations, passages, the query it was retrieved with), so reopening a
conversation restores its sources and the context that follow-up questions lean on.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.results import Answer, Citation, Passage

FILE_NAME = "conversations.sqlite"
TITLE_CHARS = 80
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    n INTEGER NOT NULL, answer TEXT NOT NULL, partial INTEGER NOT NULL DEFAULT 0,
    rating INTEGER, note TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
    PRIMARY KEY (conversation, n));
"""


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the sidebar."""

    id: str
    title: str
    updated: str
    turns: int


@dataclass(frozen=True)
class Turn:
    """A stored answer, whether it was stopped half-way, and the reader's rating of it."""

    n: int
    answer: Answer
    partial: bool = False
    rating: int | None = None  # 1 = thumbs up, -1 = thumbs down
    note: str = ""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    """A random id nobody can guess (128 bits)."""
    return secrets.token_hex(16)


def title_for(question: str) -> str:
    """The first question, on one line, clipped at a word."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    cut = text.rfind(" ", 0, TITLE_CHARS)
    return text[: cut if cut > 20 else TITLE_CHARS] + "…"


def store_path(index: str | os.PathLike[str] | None, chroma_url: str | None = None) -> Path:
    """Where the conversations of an index live."""
    if chroma_url:
        root = Path(os.environ.get("NEWS_ASSISTANT_CACHE") or Path.home() / ".cache"
                    / "news-assistant")
        key = hashlib.sha1(chroma_url.rstrip("/").encode()).hexdigest()[:16]
        return root / "conversations" / f"{key}.sqlite"
    return Path(index or "news-index") / FILE_NAME


# ---- Answer <-> JSON ------------------------------------------------------------------
def answer_to_json(answer: Answer) -> str:
    # a passage's sentence vectors (numpy, from the index's read copy) are not conversation
    light = replace(answer, passages=[replace(p, sentences=None) for p in answer.passages])
    return json.dumps(asdict(light), ensure_ascii=False)


def answer_from_json(text: str) -> Answer:
    data = json.loads(text)
    fields = set(Answer.__dataclass_fields__)
    kwargs = {k: v for k, v in data.items() if k in fields}
    kwargs["citations"] = [
        Citation(**{**c, "also_reported_by": tuple(c.get("also_reported_by") or ())})
        for c in data.get("citations") or []
    ]
    kwargs["passages"] = [
        Passage(**{**p, "also_reported_by": tuple(p.get("also_reported_by") or ())})
        for p in data.get("passages") or []
    ]
    return Answer(**kwargs)


class ConversationStore:
    """All conversations of one index, for every owner. Safe across threads and processes
    (one SQLite connection per call, WAL journal, a busy timeout)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:
                yield db
        finally:
            db.close()

    def secret(self) -> str:
        """A random secret made once per store (it encrypts the browser's id in localStorage,
        so it must outlive restarts)."""
        with self._lock, self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            if row:
                return str(row[0])
            value = secrets.token_urlsafe(24)
            db.execute("INSERT INTO meta VALUES ('secret', ?)", (value,))
            return value

    # ---- conversations -----------------------------------------------------------------
    def create(self, owner: str, title: str) -> str:
        conversation, stamp = new_id(), now()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                       (conversation, owner, title_for(title) or "New conversation", stamp,
                        stamp))
        return conversation

    def list(self, owner: str) -> list[ConversationSummary]:
        """The owner's conversations, the latest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.updated, COUNT(t.n) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.id WHERE c.owner = ? "
                "GROUP BY c.id ORDER BY c.updated DESC, c.rowid DESC", (owner,)).fetchall()
        return [ConversationSummary(str(i), str(t), str(u), int(n)) for i, t, u, n in rows]

    def owns(self, owner: str, conversation: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?",
                             (conversation, owner)).fetchone()
        return row is not None

    def rename(self, owner: str, conversation: str, title: str) -> bool:
        title = title_for(title)
        if not title:
            return False
        with self._db() as db:
            done = db.execute("UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                              (title, conversation, owner)).rowcount
        return bool(done)

    def delete(self, owner: str, conversation: str) -> bool:
        with self._db() as db:
            done = db.execute("DELETE FROM conversations WHERE id = ? AND owner = ?",
                              (conversation, owner)).rowcount
        return bool(done)

    # ---- turns -------------------------------------------------------------------------
    def turns(self, owner: str, conversation: str) -> builtins.list[Turn]:
        """The conversation's turns in order; [] when it is not the owner's."""
        with self._db() as db:
            rows = db.execute(
                "SELECT t.n, t.answer, t.partial, t.rating, t.note FROM turns t JOIN "
                "conversations c ON c.id = t.conversation WHERE c.id = ? AND c.owner = ? "
                "ORDER BY t.n", (conversation, owner)).fetchall()
        return [Turn(int(n), answer_from_json(a), bool(p), r, str(note or ""))
                for n, a, p, r, note in rows]

    def add_turn(self, owner: str, conversation: str, answer: Answer, *,
                 partial: bool = False) -> int:
        """Append ``answer``; returns its turn number (1-based)."""
        stamp = now()
        with self._lock, self._db() as db:
            if not db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?",
                              (conversation, owner)).fetchone():
                raise KeyError(conversation)
            (last,) = db.execute("SELECT COALESCE(MAX(n), 0) FROM turns WHERE conversation = ?",
                                 (conversation,)).fetchone()
            db.execute("INSERT INTO turns (conversation, n, answer, partial, created) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (conversation, int(last) + 1, answer_to_json(answer), int(partial), stamp))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, conversation))
        return int(last) + 1

    def drop_last_turn(self, owner: str, conversation: str) -> bool:
        """Forget the latest answer (before regenerating it)."""
        with self._lock, self._db() as db:
            done = db.execute(
                "DELETE FROM turns WHERE conversation = ? AND n = (SELECT MAX(n) FROM turns "
                "WHERE conversation = ?) AND EXISTS (SELECT 1 FROM conversations WHERE id = ? "
                "AND owner = ?)", (conversation, conversation, conversation, owner)).rowcount
        return bool(done)

    def set_feedback(self, owner: str, conversation: str, n: int, rating: int | None,
                     note: str | None = None) -> bool:
        """Thumbs up (1), down (-1) or none, and optionally a note, on turn ``n``."""
        with self._db() as db:
            if not db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?",
                              (conversation, owner)).fetchone():
                return False
            if note is None:
                done = db.execute("UPDATE turns SET rating = ? WHERE conversation = ? AND n = ?",
                                  (rating, conversation, n)).rowcount
            else:
                done = db.execute("UPDATE turns SET rating = ?, note = ? WHERE conversation = ? "
                                  "AND n = ?", (rating, note.strip()[:2000], conversation,
                                                n)).rowcount
        return bool(done)

    def feedback(self) -> builtins.list[dict[str, Any]]:
        """Every rated or annotated answer, of all owners (for ``feedback export``); the owner
        id itself is left out."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, t.n, t.answer, t.partial, t.rating, t.note, t.created "
                "FROM turns t JOIN conversations c ON c.id = t.conversation "
                "WHERE t.rating IS NOT NULL OR t.note != '' ORDER BY t.created, c.id, t.n"
            ).fetchall()
        out = []
        for conversation, title, n, raw, partial, rating, note, created in rows:
            answer = answer_from_json(raw)
            out.append({
                "conversation": conversation, "title": title, "turn": n,
                "question": answer.question, "answer": answer.text,
                "rating": {1: "up", -1: "down"}.get(rating, ""), "note": note,
                "partial": bool(partial), "abstained": answer.abstained, "mode": answer.mode,
                "citations": [c.article_id for c in answer.citations], "answered_at": created,
            })
        return out
