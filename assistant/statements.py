"""Who said what, from the index's statements: ``bot.statements(speaker, about, ...)``.

A speaker is matched by alias: the words of the asked name, titles dropped, must all be words
of the statement's resolved speaker ("Xi" = "Xi Jinping" = "Chinese President Xi Jinping");
a description without a name ("Ukraine's president", "police") must match the titles the
article gives the speaker, word by word up to inflection ("Ukraine's" ~ "Ukrainian").
A topic is matched by the cosine between the topic and the statement's vector (its sentence
under the article's headline) plus the share of the topic's words found in the statement's
sentence, the sentence before it and the headline; statements below ``min_topic`` are not
"on" the topic. Syndicated copies of a statement (same story group, same text) fold into one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from assistant.retrieval import Filters
from ingest.cleaning import date_key
from ingest.embedding import Embedder
from ingest.statement_store import StoredStatement, all_words, fold, name_words
from ingest.store import NewsStore

# Chosen by 5-fold cross-validation over benchmarks/data/who_said_what.jsonl (by question):
# see docs/benchmarks.md, "Who said what".
MIN_TOPIC = 0.375
DENSE_SHARE = 0.7  # of the topic score; word overlap the rest
CUE_BONUS = 0.1  # "What did X warn about Y?": a statement cued "warned" fits better (fixed)
_GENERIC_CUES = {"say", "tell", "comment", "respond", "speak", "talk", "think", "add", "state"}
_STOP = {
    "the", "a", "an", "of", "on", "in", "to", "for", "and", "or", "about", "with", "at", "by",
    "is", "are", "was", "were", "be", "this", "that", "its", "it", "their", "his", "her",
    "what", "how", "did", "does", "do", "say", "said", "think", "s", "from", "as", "over",
}


@dataclass(frozen=True)
class Statement:
    """An attributed statement; ``text`` is ``body[start:end]`` of the article, verbatim."""

    speaker: str
    speaker_as_written: str
    cue: str
    text: str
    kind: str  # "direct" or "reported"
    article_id: str
    title: str
    source: str
    url: str
    published_at: str
    start: int
    end: int
    sentence: str = ""
    score: float = 0.0  # topic relevance (1.0 without a topic)
    also_reported_by: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["also_reported_by"] = list(self.also_reported_by)
        data["score"] = round(self.score, 4)
        return data


@dataclass(frozen=True)
class SpeakerLookup:
    """What the index holds for an asked speaker, on a topic or not."""

    asked: str
    name: str  # the fullest matching name ("Xi Jinping"), or the asked one
    statements: list[Statement]  # on the topic, best first
    quoted: int  # statements by the speaker on any topic
    mentioned_in: int  # articles whose text names the speaker


class StatementFinder:
    """Reads the statements collection of a ``NewsStore``; embeds topics with ``embedder``."""

    def __init__(
        self, store: NewsStore, embedder: Embedder, *, min_topic: float = MIN_TOPIC,
        dense_share: float = DENSE_SHARE, cache: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.min_topic = min_topic
        self.dense_share = dense_share
        # look-ups by speaker and topic vectors; pass one dict to share it between finders
        # over an unchanged index (benchmarks), never across writes
        self.cache: dict[str, Any] = cache if cache is not None else {}

    def find(
        self,
        speaker: str | None = None,
        about: str | None = None,
        *,
        filters: Mapping[str, Any] | Filters | None = None,
        as_of: date | datetime | str | None = None,
        k: int = 20,
    ) -> list[Statement]:
        """Statements by ``speaker`` on ``about`` (either may be None), newest first."""
        ranked = self.ranked(speaker, about, filters=filters, as_of=as_of, k=k)
        return sorted(ranked, key=lambda s: (s.published_at, -s.start), reverse=True)

    def ranked(
        self,
        speaker: str | None,
        about: str | None,
        *,
        filters: Mapping[str, Any] | Filters | None = None,
        as_of: date | datetime | str | None = None,
        k: int = 20,
        verb: str | None = None,
    ) -> list[Statement]:
        """The same, best match first (topic score, then newest); ``verb`` (from the
        question: "warn", "promise") favours statements with that cue."""
        if not (speaker and speaker.strip()) and not (about and about.strip()):
            raise ValueError("give a speaker, a topic or both")
        admits = _admission(Filters.from_mapping(filters), as_of)
        if speaker and speaker.strip():
            candidates = [s for s in self._by_speaker(speaker) if admits(s.meta)]
        else:
            assert about is not None
            vector = self._topic_vector(about)
            candidates = [s for s in self.store.statements.nearest(vector, max(4 * k, 50))
                          if admits(s.meta)]
        scored = [(s, self.topic_score(about, s)) for s in candidates] if about else [
            (s, 1.0) for s in candidates
        ]
        if about:
            scored = [(s, v + _cue_bonus(verb, s)) for s, v in scored]
            scored = [(s, v) for s, v in scored if v >= self.min_topic]
        scored.sort(key=lambda x: (x[1], str(x[0].meta.get("published_at", ""))), reverse=True)
        return _fold([_statement(s, v) for s, v in scored], scored)[:k]

    def lookup(
        self,
        speaker: str,
        about: str | None,
        *,
        filters: Mapping[str, Any] | Filters | None = None,
        as_of: date | datetime | str | None = None,
        k: int = 20,
        verb: str | None = None,
    ) -> SpeakerLookup:
        """``ranked`` plus what is known of the speaker otherwise: how often quoted at all,
        and in how many articles named (for "X is mentioned in 3 articles, but ...")."""
        everything = self.ranked(speaker, None, filters=filters, as_of=as_of, k=10_000)
        on_topic = self.ranked(speaker, about, filters=filters, as_of=as_of, k=k,
                               verb=verb) if about else (
            everything[:k]
        )
        names = [s.speaker for s in everything]
        name = max(set(names), key=lambda n: (names.count(n), len(n))) if names else speaker
        return SpeakerLookup(speaker, name, on_topic, len(everything),
                             self.mentioned_in(name if names else speaker))

    def mentioned_in(self, name: str) -> int:
        """Articles whose text contains the name (or, for a multi-word name, its last word)."""
        key = "mentions:" + name
        if key not in self.cache:
            self.cache[key] = self._count_mentions(name)
        return int(self.cache[key])

    def _count_mentions(self, name: str) -> int:
        forms = [name.strip()]
        words = name_words(name)
        if len(words) > 1:
            last = name.strip().split()[-1]
            forms.append(last)
        found: set[str] = set()
        for form in forms:
            if len(form) < 2:
                continue
            found.update(self.store.articles_containing(form))
            if found:
                break
        return len(found)

    def topic_score(self, about: str | None, stored: StoredStatement) -> float:
        if not about:
            return 1.0
        words = _topic_words(about)
        meta = stored.meta
        lexical = 0.0
        if words:
            fields = [
                (_stems(f"{stored.text} {meta.get('sentence', '')}"), 1.0),
                (_stems(str(meta.get("previous", ""))), 0.6),
                (_stems(str(meta.get("title", ""))), 0.5),
            ]
            for word in words:
                lexical += max((w for stems, w in fields if word in stems), default=0.0)
            lexical /= len(words)
        dense = 0.0
        if stored.vector is not None:
            vector = self._topic_vector(about)
            dense = float(np.dot(vector, stored.vector) / max(
                float(np.linalg.norm(stored.vector)) * float(np.linalg.norm(vector)), 1e-12))
        return self.dense_share * dense + (1 - self.dense_share) * lexical

    def _topic_vector(self, about: str) -> np.ndarray:
        key = "topic:" + about
        if key not in self.cache:
            self.cache[key] = self.embedder.embed([about])[0]
        return np.asarray(self.cache[key])

    def _by_speaker(self, speaker: str) -> list[StoredStatement]:
        key = "speaker:" + speaker
        if key not in self.cache:
            keys = all_words(speaker)
            self.cache[key] = [
                s for s in self.store.statements.by_keys(keys) if speaker_matches(speaker, s)
            ]
        return list(self.cache[key])


def question_verb(question: str) -> str | None:
    """The specific verb of saying a question asks about ("warn" in "What did X warn ..."),
    ``None`` for "say", "tell" and the like."""
    from ingest.statements import SPEECH_VERBS

    forms = {f: lemma for lemma, fs in SPEECH_VERBS.items() for f in (*fs, lemma)}
    for word in re.findall(r"[a-z]+", question.lower()):
        lemma = forms.get(word)
        if lemma and lemma not in _GENERIC_CUES:
            return lemma
    return None


def _cue_bonus(verb: str | None, stored: StoredStatement) -> float:
    if not verb:
        return 0.0
    from ingest.statements import SPEECH_VERBS

    cue = str(stored.meta.get("cue", "")).lower().split()
    return CUE_BONUS if cue and cue[0] in SPEECH_VERBS.get(verb, ()) else 0.0


def speaker_matches(asked: str, stored: StoredStatement) -> bool:
    """Whether the asked name or description denotes the statement's speaker."""
    meta = stored.meta
    speaker = str(meta.get("speaker", ""))
    written = str(meta.get("speaker_as_written", ""))
    asked_names = name_words(asked)
    if asked_names:
        known = set(name_words(speaker)) | set(name_words(written))
        for alias in stored.aliases:
            if " " not in alias.strip() and alias.isupper():  # an acronym: "CDC"
                known.add(fold(alias))
        return set(asked_names) <= known
    asked_words = [w for w in all_words(asked) if w not in _STOP]
    if not asked_words:
        return False
    forms = [speaker, written, *stored.aliases]
    known_words = {w for form in forms for w in all_words(form)}
    return all(any(_same_stem(a, b) for b in known_words) for a in asked_words)


def _same_stem(a: str, b: str) -> bool:
    if a == b:
        return True
    n = min(len(a), len(b), 5)
    return n >= 4 and a[: n - 1] == b[: n - 1]


def _topic_words(text: str) -> list[str]:
    return list(dict.fromkeys(_stem(w) for w in all_words(text) if w not in _STOP))


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in all_words(text)}


def _stem(word: str) -> str:
    """A crude stem: enough for 'tariffs' ~ 'tariff', 'Ukrainian' ~ 'Ukraine'."""
    word = re.sub(r"(?:'s|’s)$", "", word)
    return word[:6] if len(word) > 6 else word.rstrip("s") if len(word) > 3 else word


def _admission(filters: Filters, as_of: date | datetime | str | None) -> Any:
    limit = 0
    if as_of:
        text = as_of.isoformat() if isinstance(as_of, (date, datetime)) else str(as_of)
        limit = date_key(text[:10])

    def admits(meta: Mapping[str, Any]) -> bool:
        key = int(meta.get("published_key", 0) or 0)
        if limit and key and key > limit:
            return False
        return filters.admits(meta) if filters else True

    return admits


def _statement(stored: StoredStatement, score: float) -> Statement:
    m = stored.meta
    return Statement(
        speaker=str(m.get("speaker", "")),
        speaker_as_written=str(m.get("speaker_as_written", "")),
        cue=str(m.get("cue", "")),
        text=stored.text,
        kind=str(m.get("kind", "")),
        article_id=str(m.get("article_id", "")),
        title=str(m.get("title", "")),
        source=str(m.get("source", "")),
        url=str(m.get("url", "")),
        published_at=str(m.get("published_at", "")),
        start=int(m.get("start", 0)),
        end=int(m.get("end", 0)),
        sentence=str(m.get("sentence", "")),
        score=score,
    )


def _fold(statements: list[Statement], scored: list[tuple[StoredStatement, float]]) -> list[
    Statement
]:
    """One statement per (story group, text): copies in other outlets become
    ``also_reported_by``; a statement contained in a longer one by the same speaker in the same
    article is dropped ("noting that X" inside "acknowledged A, although noting that X")."""
    groups = {s.id: str(s.meta.get("group_id") or s.meta.get("article_id")) for s, _ in scored}
    kept: dict[tuple[str, str], int] = {}
    out: list[Statement] = []
    for statement, (stored, _) in zip(statements, scored, strict=True):
        key = (groups[stored.id], " ".join(statement.text.lower().split()))
        if key in kept:
            first = out[kept[key]]
            if statement.source and statement.source != first.source and (
                statement.source not in first.also_reported_by
            ):
                out[kept[key]] = _with_outlet(first, statement.source)
            continue
        if any(
            o.article_id == statement.article_id and o.speaker == statement.speaker
            and o.start <= statement.start and statement.end <= o.end
            for o in out
        ):
            continue
        kept[key] = len(out)
        out.append(statement)
    return out


def _with_outlet(statement: Statement, source: str) -> Statement:
    from dataclasses import replace

    return replace(statement, also_reported_by=(*statement.also_reported_by, source))
