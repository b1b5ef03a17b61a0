"""The answer phrase: a short verbatim span of a top sentence, of the type the question
expects ("Who won ...?" -> "Spain"). Candidates are spaCy's entities and noun chunks of the
few best sentences; a logistic regression fitted by ``benchmarks/train_scorer.py`` picks one."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.question import QuestionAnalysis
from assistant.scorer import LinearModel, content_words, load_weights
from ingest.sentence_pieces import Piece, parse_pieces

__all__ = ["Piece", "choose_span", "parse_pieces", "pieces_of", "span_candidates"]

SPAN_SENTENCES = 3  # spans are looked for in this many best sentences ...
SPAN_RATIO = 0.3  # ... scoring at least this share of the best one's probability
MAX_SPAN_WORDS = 8
SPAN_FEATURES = (
    "type_match", "is_entity", "is_chunk", "new_words", "sentence_rank", "sentence_score",
    "frequency", "distance", "words", "position", "capitalised", "numeric", "untyped_entity",
    "in_title_case_run", "in_headline",
)
_LEADING = re.compile(r"^(?:the|a|an|this|that|these|those|its|their|his|her|our)\s+", re.I)
_NUMERIC_TYPES = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME",
                            "ORDINAL"})


@dataclass(frozen=True)
class SpanCandidate:
    """A phrase of sentence ``sentence`` (index among the best sentences) at ``start:end``
    (offsets inside that sentence's text)."""

    sentence: int
    start: int
    end: int
    text: str
    label: str  # spaCy entity label, or "CHUNK" for a noun chunk


def pieces_of(sentences: Sequence[str],
              known: Mapping[str, Sequence[Piece]] | None = None) -> list[Sequence[Piece]]:
    """The pieces of each sentence: those stored at ingest (``known``, by sentence text), a
    parse for the rest."""
    known = known or {}
    missing = [t for t in sentences if t not in known]
    parsed = dict(zip(missing, parse_pieces(missing), strict=True)) if missing else {}
    return [known[t] if t in known else parsed[t] for t in sentences]


def span_candidates(sentences: Sequence[str], pieces: Sequence[Sequence[Piece]],
                    question_words: set[str]) -> list[SpanCandidate]:
    """Entities and noun chunks of the parsed sentences that say something the question does
    not (at least one content word, or a number, not in the question)."""
    out: list[SpanCandidate] = []
    seen: set[tuple[int, int, int]] = set()
    for i, (sentence, found) in enumerate(zip(sentences, pieces, strict=True)):
        for start, end, label in found:
            text = sentence[start:end]
            if label == "CHUNK":  # "the tournament" -> "tournament"
                lead = _LEADING.match(text)
                if lead:
                    start, text = start + lead.end(), text[lead.end():]
            text = text.rstrip(" ,.;:")
            end = start + len(text)
            words = content_words(text)
            if not text or len(text.split()) > MAX_SPAN_WORDS or (i, start, end) in seen:
                continue
            if not (words - question_words) and label not in _NUMERIC_TYPES:
                continue
            if label == "CHUNK" and not words:
                continue  # pronouns
            seen.add((i, start, end))
            out.append(SpanCandidate(i, start, end, text, label))
    return out


def span_features(
    analysis: QuestionAnalysis,
    candidates: Sequence[SpanCandidate],
    sentences: Sequence[str],
    sentence_scores: Sequence[float],
    question_words: set[str],
    context: Sequence[str] = (),
    titles: Sequence[str] = (),
) -> np.ndarray:
    """One row of ``SPAN_FEATURES`` per span candidate; ``titles``: the headline of each
    sentence's article."""
    expected = set(analysis.expected_types)
    pool = " ".join([*sentences, *context]).lower()
    rows = []
    for cand in candidates:
        sentence = sentences[cand.sentence]
        words = content_words(cand.text)
        new = words - question_words
        rows.append([
            float(cand.label in expected),
            float(cand.label != "CHUNK"),
            float(cand.label == "CHUNK"),
            len(new) / len(words) if words else 1.0,
            float(cand.sentence),
            float(sentence_scores[cand.sentence]),
            math.log1p(pool.count(cand.text.lower())),
            _distance(sentence, cand, question_words),
            math.log1p(len(cand.text.split())),
            cand.start / max(len(sentence), 1),
            float(cand.text[:1].isupper()),
            float(any(ch.isdigit() for ch in cand.text)),
            float(not expected and cand.label != "CHUNK"),
            float(all(w[:1].isupper() for w in cand.text.split())),
            _in_headline(cand.text, titles[cand.sentence] if cand.sentence < len(titles)
                         else ""),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(SPAN_FEATURES))


def _in_headline(phrase: str, title: str) -> float:
    return float(bool(title) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", title, re.I)
                 is not None)


def _distance(sentence: str, cand: SpanCandidate, question_words: set[str]) -> float:
    """Characters (log) between the span and the nearest question word in its sentence."""
    best = len(sentence)
    lowered = sentence.lower()
    for word in question_words:
        at = lowered.find(word)
        while at >= 0:
            gap = cand.start - (at + len(word)) if at < cand.start else at - cand.end
            best = min(best, max(gap, 0))
            at = lowered.find(word, at + 1)
    return math.log1p(best)


def span_model() -> LinearModel | None:
    data = load_weights().get("span")
    return LinearModel.from_dict(data) if data else None


def choose_span(
    analysis: QuestionAnalysis,
    sentences: Sequence[str],
    sentence_scores: Sequence[float],
    question_words: set[str],
    context: Sequence[str] = (),
    titles: Sequence[str] = (),
    known: Mapping[str, Sequence[Piece]] | None = None,
) -> tuple[SpanCandidate, float] | None:
    """The best answer phrase of ``sentences`` (best first) and its probability, or None;
    ``titles``: the headline of each sentence's article; ``known``: pieces stored at ingest,
    by sentence text."""
    model = span_model()
    if model is None or not sentences:
        return None
    candidates = span_candidates(sentences, pieces_of(sentences, known), question_words)
    if load_weights().get("span_typed_only") and analysis.expected_types:
        candidates = [c for c in candidates if c.label in analysis.expected_types]
    if not candidates:
        return None
    features = span_features(analysis, candidates, sentences, sentence_scores, question_words,
                             context, titles)
    probabilities = model.probabilities(features)
    best = int(np.argmax(probabilities))
    return candidates[best], float(probabilities[best])
