"""The learned sentence scorer: features of each candidate sentence of the retrieved passages,
weighed by a logistic regression fitted in ``benchmarks/train_scorer.py`` (cross-validated by
question) and shipped as ``scorer_weights.json``, read with numpy. The same file holds the
abstention gate's weights and threshold."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.question import QuestionAnalysis
from assistant.results import Passage
from assistant.sentences import passage_spans
from assistant.shipped_weights import load_weights

PASSAGES_READ = 5  # sentences are scored in this many top passages
MIN_SENTENCE_CHARS = 25

_WORD = re.compile(r"[A-Za-z0-9$%]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from about into over after before as "
    "is are was were be been being do does did has have had what which who whom whose when "
    "where why how that this these those it its he she they them his her their we you i me my "
    "our your not no so than then there here says said say tell told also just any some can "
    "could would should will may might must one more most other such very new".split()
)
SPEECH_CUE = re.compile(r"\b(said|says|told|according to|announced|stated|added|wrote)\b", re.I)
ANAPHORA = re.compile(
    r"^[\"“]?(That|This|These|Those|It|He|She|They|His|Her|Their|Its|The move|There|"
    r"But|However|Still|Yet|Also|And)\b"
)
CAUSAL = re.compile(r"\b(because|due to|after|as a result|amid|caused|led to|since|so that|"
                    r"in order to|blamed|reason|driven by|thanks to|following)\b", re.I)
_NUMBER = re.compile(r"\d")
# a count written in words ("Two people were injured"); not "one", mostly "one of the ..."
_A_COUNT = re.compile(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                      r"twenty|thirty|forty|fifty|hundreds?|thousands?|dozens?|millions?|"
                      r"billions?)\b", re.I)
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:dollars|euros|cents|million|billion|trillion)\b", re.I)
_PERCENT = re.compile(r"\d\s?(?:%|per ?cent\b)", re.I)  # "81 per cent" too
_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d|\b(?:19|20)\d\d\b|"
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
    r"next (?:week|month|year)|last (?:week|month|year))\b", re.I)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'-]+")

BASE_FEATURES = (
    "cosine", "cosine_gap", "overlap", "entity_overlap", "type_cue", "new_names",
    "passage_score", "passage_rank", "article_position", "length", "date_distance",
    "speech_cue", "heading", "anaphoric", "neighbour_cosine", "causal_why",
)
TEXT_FEATURES = ("boilerplate", "bigram_overlap", "opens_quote", "has_number", "type_cue_factoid",
                 "counts_the_noun")
FEATURES = BASE_FEATURES + TEXT_FEATURES
BOILERPLATE = re.compile(
    r"\b(sign up|newsletter|ad feedback|getty images|click here|subscribe|follow us|"
    r"read more|watch:|photo:|/ap\b|/afp\b|/reuters\b|contributed to this report)", re.I)
# what a page puts between an article's paragraphs: never an answer, never quoted (stricter
# than BOILERPLATE, which also meets news: "borrowers can sign up for updates")
NOT_ARTICLE_TEXT = re.compile(
    r"\bsign up here\b|\bsign up for\b[^.]{0,40}\bnewsletter\b|\bad feedback\b|"
    r"\bcontributed to this report\b|\bclick here\b|\bsubscribe (?:here|now|today)\b|"
    r"\bfollow us on\b|^\s*(?:read more|watch|related|photo|editor['’]s note)\s*:", re.I)


def content_words(text: str) -> set[str]:
    return {w for w in _words(text) if w not in STOPWORDS}


def stems(words: set[str]) -> set[str]:
    """Snowball stems ("unveiled", "unveils" -> "unveil"), the lexical index's own stemming."""
    return {stem(w) for w in words}


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """The Snowball stem of one word."""
    return str(_stemmer().stemWord(word))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


# A sentence's words and names are read by several features of one answer (and popular
# passages recur across questions): find them once.
@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(map(str.lower, _WORD.findall(text)))


@lru_cache(maxsize=8192)
def _names(text: str) -> frozenset[str]:
    """The lowered capitalised words that do not open a sentence."""
    return frozenset(map(str.lower, _CAPITALISED.findall(text)))


def forget() -> None:
    """Drop the remembered words and names (a benchmark timing unseen sentences)."""
    _words.cache_clear()
    _names.cache_clear()


@dataclass(frozen=True)
class SentenceCandidate:
    """A sentence of a retrieved passage; offsets are in the article body."""

    passage_rank: int
    start: int
    end: int
    text: str
    context_start: int = -1  # body offset of the sentence before, in the same passage
    context_text: str = ""


def sentence_candidates(passages: list[Passage], limit: int = PASSAGES_READ
                        ) -> list[SentenceCandidate]:
    """Every sentence of the top ``limit`` passages (short fragments left out unless the
    passage is itself short; a page's sign-up lines and video captions always)."""
    out: list[SentenceCandidate] = []
    for rank, passage in enumerate(passages[:limit]):
        previous: tuple[int, str] = (-1, "")
        for s, e in passage_spans(passage):
            text = passage.text[s:e]
            if NOT_ARTICLE_TEXT.search(text):
                continue  # and the sentence before stays the context of the next
            if len(text) >= MIN_SENTENCE_CHARS or len(passage.text) < 2 * MIN_SENTENCE_CHARS:
                out.append(SentenceCandidate(rank, passage.start + s, passage.start + e, text,
                                             previous[0], previous[1]))
            previous = (passage.start + s, text)
    return out


def type_cue(text: str, expected: tuple[str, ...], question_words: set[str]) -> float:
    """1.0 when the sentence holds something of the expected type that the question does not
    (a number for how-many, a date for when, a new name for who/which)."""
    if not expected:
        return 0.0
    checks = []
    if "MONEY" in expected:
        checks.append(bool(_MONEY.search(text)))
    if "PERCENT" in expected:
        checks.append(bool(_PERCENT.search(text)))
    if {"CARDINAL", "QUANTITY"} & set(expected):
        checks.append(bool(_A_COUNT.search(text)))
    if {"DATE", "TIME"} & set(expected):
        checks.append(bool(_DATE.search(text)))
    if {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "WORK_OF_ART", "EVENT", "PRODUCT",
            "LAW", "LANGUAGE"} & set(expected):
        checks.append(not _names(text) <= question_words)
    return float(any(checks))


def _new_names(text: str, question_words: set[str]) -> float:
    names = _names(text) - question_words
    return math.log1p(len(names))


def _days_between(published_at: str, as_of: date | None) -> float:
    if not as_of or not published_at:
        return 0.0
    try:
        published = date.fromisoformat(published_at[:10])
    except ValueError:
        return 0.0
    return math.log1p(abs((as_of - published).days))


def sentence_features(
    analysis: QuestionAnalysis,
    question: str,
    question_vector: np.ndarray,
    candidates: list[SentenceCandidate],
    vectors: np.ndarray,
    passages: list[Passage],
    as_of: date | None = None,
) -> np.ndarray:
    """One row of ``FEATURES`` per candidate."""
    sims = vectors @ question_vector
    best = float(sims.max()) if len(sims) else 0.0
    wanted = content_words(question)
    question_words = wanted | {w.lower() for e in analysis.entities for w in e.split()}
    entities = [e.lower() for e in analysis.entities]
    top = max(passages[0].score, 1e-9) if passages else 1.0
    by_start = {(c.passage_rank, c.start): float(s) for c, s in zip(candidates, sims, strict=True)}
    texts = [c.text for c in candidates]
    cues = [type_cue(t, analysis.expected_types, question_words) for t in texts]
    rows = []
    for cand, sim, cue in zip(candidates, sims, cues, strict=True):
        words = content_words(cand.text)
        lowered = cand.text.lower()
        passage = passages[cand.passage_rank]
        rows.append([
            float(sim),
            float(sim) - best,
            len(wanted & words) / len(wanted) if wanted else 0.0,
            sum(e in lowered for e in entities) / len(entities) if entities else 0.0,
            cue,
            _new_names(cand.text, question_words),
            max(passage.score, 0.0) / top,
            1.0 / (1 + cand.passage_rank),
            1.0 / (1 + cand.start / 500),
            math.log1p(len(cand.text)),
            _days_between(passage.published_at, as_of),
            float(bool(SPEECH_CUE.search(cand.text))),
            float(not cand.text.rstrip().endswith((".", "!", "?", '"', "”", "’", "'"))),
            float(bool(ANAPHORA.match(cand.text))),
            by_start.get((cand.passage_rank, cand.context_start), float(sim)),
            float(analysis.kind == "why" and bool(CAUSAL.search(cand.text))),
        ])
    base = np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(BASE_FEATURES))
    return np.hstack([base, text_features(analysis, question, texts, cues)])


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = _words(text)
    return {(a, b) for a, b in itertools.pairwise(words)
            if a not in STOPWORDS or b not in STOPWORDS}


_COUNTED = re.compile(r"\b\d[\d,.]*((?:\s+[\w’'-]+){1,2})")


def counts_noun(text: str, counted: set[str]) -> bool:
    """A number followed, within two words, by a noun the question counts ("18 stops",
    "20,000 cars", "300 new trees")."""
    return any(stems(set(m.group(1).lower().split())) & counted
               for m in _COUNTED.finditer(text))


def text_features(analysis: QuestionAnalysis, question: str, texts: list[str],
                  cues: Sequence[float] | None = None) -> np.ndarray:
    """The ``TEXT_FEATURES`` of each sentence: what its words alone say (``cues``: their
    ``type_cue``, when already known)."""
    wanted = _bigrams(question)
    question_words = content_words(question) | {w.lower() for e in analysis.entities
                                                for w in e.split()}
    if cues is None:
        cues = [type_cue(text, analysis.expected_types, question_words) for text in texts]
    counted = stems({w for w in question_words if not w.isdigit()}) if analysis.kind in (
        "how_many", "how_much") else set()
    rows = []
    for text, cue in zip(texts, cues, strict=True):
        rows.append([
            float(bool(BOILERPLATE.search(text))),
            len(wanted & _bigrams(text)) / len(wanted) if wanted else 0.0,
            float(text.lstrip()[:1] in "\"“"),
            float(bool(_NUMBER.search(text))),
            cue * float(analysis.factoid),
            float(bool(counted) and counts_noun(text, counted)),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(TEXT_FEATURES))


@dataclass(frozen=True)
class LinearModel:
    """``sigmoid(((x - mean) / scale) @ weights + bias)``: a logistic regression as data."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        return cls(tuple(data["features"]), np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["weights"], dtype=np.float64), float(data["bias"]))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.names), "mean": _round(self.mean),
                "scale": _round(self.scale), "weights": _round(self.weights),
                "bias": round(self.bias, 6)}

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logits(x))))


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def sentence_model() -> LinearModel:
    return LinearModel.from_dict(load_weights()["sentence"])


def score_candidates(
    question: str,
    question_vector: np.ndarray,
    passages: list[Passage],
    embedder: Any,
    analysis: QuestionAnalysis | None = None,
    as_of: date | None = None,
    limit: int | None = None,
) -> tuple[list[SentenceCandidate], np.ndarray, np.ndarray]:
    """(candidates, cosine with the question, probability of holding the answer)."""
    from assistant.question import analyse_question

    read = limit or int(load_weights().get("read", PASSAGES_READ))
    candidates = sentence_candidates(passages, limit=read)
    if not candidates:
        return [], np.zeros(0), np.zeros(0)
    vectors = candidate_vectors(candidates, passages[:read], embedder)
    analysis = analysis or analyse_question(question)
    features = sentence_features(analysis, question, question_vector, candidates,
                                 np.asarray(vectors), passages, as_of)
    return candidates, features[:, 0], sentence_model().probabilities(features)


def candidate_vectors(candidates: list[SentenceCandidate], passages: list[Passage],
                      embedder: Any) -> np.ndarray:
    """One vector per candidate: the sentence vectors stored at ingest where the passages
    carry them, the embedder's for the rest (``assistant.sentence_vectors``)."""
    from assistant.sentence_vectors import sentence_vectors

    by_span: dict[tuple[int, int, int], np.ndarray] = {}
    for rank, (spans, rows) in enumerate(sentence_vectors(passages, embedder)):
        offset = passages[rank].start
        for (s, e), row in zip(spans, rows, strict=True):
            by_span[(rank, offset + s, offset + e)] = row
    return np.asarray([by_span[(c.passage_rank, c.start, c.end)] for c in candidates],
                      dtype=np.float32)
