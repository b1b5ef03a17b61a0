"""Honest abstention: a gate over the signals that separate answerable from unanswerable
questions (the learned scorer's best sentence, retrieval relevance in the time window, whether
the question's names occur in what was found), calibrated by ``benchmarks/train_scorer.py`` to
at most 5 % false abstention on held-out folds; and a notice saying what was looked for."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from assistant.question import QuestionAnalysis
from assistant.results import Passage
from assistant.scorer import LinearModel, content_words, load_weights, stems, type_cue

GATE_FEATURES = ("best_sentence", "relevance", "names_found", "has_names", "candidates")
LONG_PASSAGE_SENTENCES = 3


def evidence_relevance(relevance: float, since: date | None, passage_ranks: Sequence[int],
                       cosines: Sequence[float], passages: Sequence[Passage]) -> float:
    """The retrieval's relevance (best passage cosine, published ``since``), or the best
    cosine of a sentence of a passage of ``LONG_PASSAGE_SENTENCES`` or more in that window
    when higher. One vector for many sentences dilutes the one that answers a detail ("Who
    is the Health Minister?" of a story about a vape ban); a short passage's vector, its
    title included, says as much as its sentences do (letting them in raised the scores of
    unanswerable rtqa-dev questions, docs/benchmarks.md)."""
    sentences = Counter(passage_ranks)
    best = relevance
    for rank, cosine in zip(passage_ranks, cosines, strict=True):
        if (rank < len(passages) and sentences[rank] >= LONG_PASSAGE_SENTENCES
                and published_since(passages[rank], since)):
            best = max(best, float(cosine))
    return best


def published_since(passage: Passage, since: date | None) -> bool:
    if since is None:
        return True
    try:
        return date.fromisoformat(passage.published_at[:10]) >= since
    except ValueError:
        return False  # undated: outside any window, as in the retrieval's own signal


def gate_row(best: float, relevance: float, names_found: float, n_names: int,
             candidates: int) -> list[float]:
    """The gate's features: the best sentence's logit, the dense relevance, the share of the
    question's names found in the passages, whether it names anything, log #sentences read."""
    best = min(max(best, 1e-6), 1 - 1e-6)
    return [math.log(best / (1 - best)), relevance, names_found, float(n_names > 0),
            math.log1p(candidates)]


def names_found(analysis: QuestionAnalysis, passages: Sequence[Passage]) -> float:
    """Share of the question's names that occur in the passages' titles or text."""
    if not analysis.entities:
        return 1.0
    haystack = " ".join(p.title + " " + p.text for p in passages).lower()
    return sum(e.lower() in haystack for e in analysis.entities) / len(analysis.entities)


@dataclass(frozen=True)
class Gate:
    model: LinearModel
    threshold: float

    @classmethod
    def shipped(cls) -> Gate | None:
        data = load_weights().get("gate")
        if not data:
            return None
        return cls(LinearModel.from_dict(data), float(data["threshold"]))

    def probability(self, row: list[float]) -> float:
        return float(self.model.probabilities(np.asarray([row]))[0])

    def abstains(self, row: list[float]) -> bool:
        return self.probability(row) < self.threshold


_ASKING = frozenset({"much", "many"})  # of "how much", "how many": the asking, not the asked


def asked_stems(question: str) -> set[str]:
    """The question's content words of three letters or more, by Snowball stem."""
    return stems({w for w in content_words(question) if len(w) > 2 and w not in _ASKING})


def states_the_answer(question: str, analysis: QuestionAnalysis, texts: Sequence[str],
                      coverage: float) -> bool:
    """Whether one of ``texts`` (the best sentences) holds at least ``coverage`` of the
    question's words (two or more, by stem) and something of the type it asks for ("The
    regional governor, Ivana Kral, said ..." for "Who is the regional governor?"). A short
    question meets its answer at a lower cosine than a quiz question that restates a story,
    and the gate learned its scale from quizzes; a sentence that says what was asked, with an
    answer of the right kind in it, is evidence whatever the cosine."""
    asked = asked_stems(question)
    if len(asked) < 2 or not analysis.expected_types:
        return False
    words = content_words(question) | {w.lower() for e in analysis.entities for w in e.split()}
    return any(len(asked & said_stems(text)) >= coverage * len(asked)
               and type_cue(text, analysis.expected_types, words) > 0 for text in texts)


# a title a question shortens and an article writes out ("CEO", "chief executive")
_TITLES = {"chief executive": "ceo", "chief financial officer": "cfo",
           "chief operating officer": "coo", "chief technology officer": "cto"}


def said_stems(text: str) -> set[str]:
    """The stems of a sentence's content words, with the short form of a title it writes out
    ("chief executive" says "CEO")."""
    lowered = text.lower()
    return stems(content_words(text)) | {short for long, short in _TITLES.items()
                                         if long in lowered}


def missing_names(analysis: QuestionAnalysis, passages: Sequence[Passage]) -> list[str]:
    haystack = " ".join(p.title + " " + p.text for p in passages).lower()
    return [e for e in analysis.entities if e.lower() not in haystack]


def abstention_notice(
    analysis: QuestionAnalysis | None,
    question: str,
    passages: Sequence[Passage],
    stats: dict[str, Any],
    span: tuple[str, str] | None = None,
) -> str:
    """"Nothing about 'Super Bowl' in the 1,939 articles from 2022-01-03 to 2024-11-07
    (searched 2022-06-10 to 2022-06-17)." """
    missing = missing_names(analysis, passages) if analysis else []
    names = missing or (list(analysis.entities) if analysis else [])
    about = ", ".join(f"'{n}'" for n in names[:3]) if names else f"'{question.strip()}'"
    articles = int(stats.get("articles", 0))
    covered = f"the {articles:,} article{'s' if articles != 1 else ''}"
    if stats.get("first_date") and stats.get("last_date"):
        covered += f" from {stats['first_date']} to {stats['last_date']}"
    searched = f" (searched {span[0]} to {span[1]})" if span else ""
    lead = "Nothing about" if missing else "Nothing that answers this about" if names else (
        "Nothing that answers")
    return f"{lead} {about} in {covered}{searched}."
