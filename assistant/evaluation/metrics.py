"""Evaluation metrics: pure functions per question, then aggregation overall and per type.

Conventions: scores are floats in [0, 1] (1.0/0.0 for yes/no metrics) so they average
directly; ``None`` means "does not apply" and is left out of every average.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .questions import Question

if TYPE_CHECKING:  # duck-typed at run time: evaluation does not import the answer code
    from assistant.results import Answer, Citation

GetBody = Callable[[str], "str | None"]
"""Article id -> body text; returns None (or raises KeyError) for an unknown id."""

HITS_KS = (1, 5, 10)
MRR_K = 10
UNTYPED = "untyped"  # group label of questions without a ``type``

# Failure reasons, most important first (the first one is the question's headline failure).
ERROR = "error"
WRONG_ABSTENTION = "wrong abstention"
MISSED_ABSTENTION = "answered an unanswerable question"
EVIDENCE_NOT_RETRIEVED = "evidence not retrieved"
ANSWER_MISSING_REFERENCE = "answer missing reference"
INVALID_CITATION = "citation quote not in article"
CITATION_OUTSIDE_EVIDENCE = "cited article not in evidence"

_CITATION_MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


@dataclass(frozen=True)
class MetricSpec:
    """One aggregated metric: where it sits in a metric block and which direction is better."""

    block: str
    key: str
    label: str
    higher_is_better: bool = True
    unit: str = ""  # "" for rates in [0, 1], "ms" for latencies

    @property
    def path(self) -> str:
        return f"{self.block}.{self.key}"

    def value(self, metric_block: dict[str, Any]) -> float | None:
        """This metric's value in a block of ``aggregate``'s result (None when absent)."""
        value = metric_block.get(self.block, {}).get(self.key)
        return value if isinstance(value, int | float) else None


METRICS = (
    *(MetricSpec("retrieval", f"hits@{k}", f"Hits@{k}") for k in HITS_KS),
    MetricSpec("retrieval", f"mrr@{MRR_K}", f"MRR@{MRR_K}"),
    MetricSpec("answer", "exact_match", "Exact match"),
    MetricSpec("answer", "f1", "Token F1"),
    MetricSpec("answer", "contains_reference", "Contains reference"),
    MetricSpec("citations", "validity", "Citation validity"),
    MetricSpec("citations", "precision", "Citation precision"),
    MetricSpec("abstention", "correct_abstention_rate", "Correct abstention"),
    MetricSpec("abstention", "false_abstention_rate", "False abstention", higher_is_better=False),
    MetricSpec("latency_ms", "retrieval_p50", "Retrieval p50", higher_is_better=False, unit="ms"),
    MetricSpec("latency_ms", "retrieval_p95", "Retrieval p95", higher_is_better=False, unit="ms"),
    MetricSpec("latency_ms", "total_p50", "Total p50", higher_is_better=False, unit="ms"),
    MetricSpec("latency_ms", "total_p95", "Total p95", higher_is_better=False, unit="ms"),
)
"""Every aggregated metric, in report order."""


# --- retrieval -------------------------------------------------------------------------------


def dedupe(ids: Iterable[str]) -> list[str]:
    """``ids`` without repeats, first occurrence kept (chunk ranks -> article ranks)."""
    return list(dict.fromkeys(ids))


def _first_relevant_rank(ranked: Sequence[str], evidence: Iterable[str], k: int) -> int | None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    relevant = set(evidence)
    if not relevant:
        raise ValueError("retrieval metrics need a non-empty evidence list")
    for rank, article_id in enumerate(dedupe(ranked)[:k], start=1):
        if article_id in relevant:
            return rank
    return None


def hits_at_k(ranked_article_ids: Sequence[str], evidence: Iterable[str], k: int) -> float:
    """1.0 when an evidence article is among the first ``k`` distinct ranked articles."""
    return 0.0 if _first_relevant_rank(ranked_article_ids, evidence, k) is None else 1.0


def reciprocal_rank(
    ranked_article_ids: Sequence[str], evidence: Iterable[str], k: int = MRR_K
) -> float:
    """1 / rank of the first evidence article within the top ``k``; 0.0 when none."""
    rank = _first_relevant_rank(ranked_article_ids, evidence, k)
    return 0.0 if rank is None else 1.0 / rank


# --- answers ---------------------------------------------------------------------------------


def strip_citation_markers(text: str) -> str:
    """Remove ``[1]`` / ``[1, 2]`` markers so they do not count as answer tokens."""
    return _CITATION_MARKER.sub(" ", text)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation (Unicode too) and a/an/the, one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Unicode punctuation as well as ASCII: quiz answers come in curly quotes (“The Snowy Day”).
    text = "".join(
        ch
        for ch in text
        if ch not in _ASCII_PUNCTUATION and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when both normalise to the same string."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between the normalised prediction and reference."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_reference(prediction: str, reference: str) -> float:
    """1.0 when the normalised reference occurs in the normalised prediction as whole tokens."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not ref:
        return float(not pred)
    return float(any(pred[i : i + len(ref)] == ref for i in range(len(pred) - len(ref) + 1)))


# --- citations -------------------------------------------------------------------------------


def quote_in_article(quote: str, article_id: str, get_body: GetBody) -> bool:
    """True when ``quote`` is non-empty and occurs verbatim in the article's body."""
    if not quote:
        return False
    try:
        body = get_body(article_id)
    except KeyError:
        return False
    return body is not None and quote in body


def citation_validity(citations: Sequence[Citation], get_body: GetBody) -> float | None:
    """Share of citations whose quote occurs verbatim in the cited article; None if none."""
    if not citations:
        return None
    bodies: dict[str, str | None] = {}

    def cached(article_id: str) -> str | None:  # answers often cite one article several times
        if article_id not in bodies:
            try:
                bodies[article_id] = get_body(article_id)
            except KeyError:
                bodies[article_id] = None
        return bodies[article_id]

    valid = sum(quote_in_article(c.quote, c.article_id, cached) for c in citations)
    return valid / len(citations)


def citation_precision(
    citations: Sequence[Citation], evidence: Iterable[str] | None
) -> float | None:
    """Share of the distinct cited articles that are in ``evidence``; None if not applicable."""
    cited = set(c.article_id for c in citations)
    if not cited or evidence is None:
        return None
    return len(cited & set(evidence)) / len(cited)


# --- per question ----------------------------------------------------------------------------


@dataclass
class QuestionScore:
    """Every metric of one question; ``None`` where a metric does not apply."""

    question: Question
    answer: Answer | None = field(default=None, repr=False)
    retrieved: list[str] = field(default_factory=list)  # distinct article ids in rank order
    hits: dict[int, float] | None = None  # k -> Hits@k
    rr: float | None = None  # reciprocal rank within MRR_K
    em: float | None = None
    f1: float | None = None
    contains: float | None = None
    citation_validity: float | None = None
    citation_precision: float | None = None
    correct_abstention: float | None = None  # unanswerable questions only
    false_abstention: float | None = None  # answerable questions only
    retrieval_ms: float | None = None
    total_ms: float | None = None
    failures: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def failure(self) -> str:
        """All failure reasons, most important first, joined by "; " ("" when none)."""
        return "; ".join(self.failures)

    @property
    def abstained(self) -> bool | None:
        return None if self.answer is None else bool(self.answer.abstained)


def ranked_article_ids(answer: Answer) -> list[str]:
    """The answer's passages as distinct article ids in rank order."""
    return dedupe(p.article_id for p in answer.passages)


def score_question(
    question: Question, answer: Answer | None, get_body: GetBody, *, error: str = ""
) -> QuestionScore:
    """Score one answer. ``answer=None`` records a question whose run failed with ``error``."""
    if answer is None:
        message = error or "no answer"
        return QuestionScore(question, error=message, failures=[f"{ERROR}: {message}"])
    score = QuestionScore(question, answer, retrieved=ranked_article_ids(answer))
    _score_retrieval(score)
    _score_answer(score, answer)
    score.citation_validity = citation_validity(answer.citations, get_body)
    score.citation_precision = citation_precision(answer.citations, question.evidence)
    timings = answer.timings_ms or {}
    score.retrieval_ms = _as_float(timings.get("retrieval"))
    score.total_ms = _as_float(timings.get("total"))
    score.failures = _failures(score)
    return score


def _score_retrieval(score: QuestionScore) -> None:
    evidence = score.question.evidence
    if not evidence:  # not given, or unanswerable: nothing to find
        return
    score.hits = {k: hits_at_k(score.retrieved, evidence, k) for k in HITS_KS}
    score.rr = reciprocal_rank(score.retrieved, evidence, MRR_K)


def _score_answer(score: QuestionScore, answer: Answer) -> None:
    question = score.question
    answerable = question.answerable
    if answerable is False:
        score.correct_abstention = float(answer.abstained)
    elif answerable:
        score.false_abstention = float(answer.abstained)
    if answerable and question.answer:
        # An abstention gives the user no answer, whatever the refusal text says.
        prediction = "" if answer.abstained else strip_citation_markers(answer.text)
        score.em = exact_match(prediction, question.answer)
        score.f1 = token_f1(prediction, question.answer)
        score.contains = contains_reference(prediction, question.answer)


def _failures(score: QuestionScore) -> list[str]:
    checks = [
        (WRONG_ABSTENTION, score.false_abstention == 1.0),
        (MISSED_ABSTENTION, score.correct_abstention == 0.0),
        (EVIDENCE_NOT_RETRIEVED, score.rr == 0.0),
        (ANSWER_MISSING_REFERENCE, score.contains == 0.0 and not score.false_abstention),
        (INVALID_CITATION, score.citation_validity is not None and score.citation_validity < 1),
        (
            CITATION_OUTSIDE_EVIDENCE,
            bool(score.question.evidence)
            and score.citation_precision is not None
            and score.citation_precision < 1,
        ),
    ]
    return [reason for reason, failed in checks if failed]


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- aggregation -----------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the non-None values; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """``q``-th percentile (0-100) by linear interpolation between closest ranks (numpy's)."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    position = (len(data) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def aggregate(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    """Metrics object: ``{"overall": block, "per_type": {type: block}}`` (see ``metric_block``)."""
    groups: dict[str, list[QuestionScore]] = {}
    for score in scores:
        groups.setdefault(score.question.type or UNTYPED, []).append(score)
    return {
        "overall": metric_block(scores),
        "per_type": {name: metric_block(groups[name]) for name in sorted(groups)},
    }


def metric_block(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    """Averages of one group of questions; every sub-block says over how many (``n``)."""
    ok = [s for s in scores if not s.error]
    with_retrieval = [s for s in ok if s.hits is not None]
    with_reference = [s for s in ok if s.em is not None]
    answerable = [s for s in ok if s.false_abstention is not None]
    unanswerable = [s for s in ok if s.correct_abstention is not None]
    cited = [s for s in ok if s.citation_validity is not None]
    precise = [s for s in ok if s.citation_precision is not None and s.question.evidence]
    retrieval: dict[str, Any] = {"n": len(with_retrieval)}
    for k in HITS_KS:
        retrieval[f"hits@{k}"] = mean(s.hits[k] for s in with_retrieval if s.hits)
    retrieval[f"mrr@{MRR_K}"] = mean(s.rr for s in with_retrieval)
    return {
        "n_questions": len(scores),
        "n_errors": len(scores) - len(ok),
        "retrieval": retrieval,
        "answer": {
            "n": len(with_reference),
            "exact_match": mean(s.em for s in with_reference),
            "f1": mean(s.f1 for s in with_reference),
            "contains_reference": mean(s.contains for s in with_reference),
        },
        "citations": {
            "n_validity": len(cited),
            "validity": mean(s.citation_validity for s in cited),
            "n_precision": len(precise),
            "precision": mean(s.citation_precision for s in precise),
        },
        "abstention": {
            "n_unanswerable": len(unanswerable),
            "correct_abstention_rate": mean(s.correct_abstention for s in unanswerable),
            "n_answerable": len(answerable),
            "false_abstention_rate": mean(s.false_abstention for s in answerable),
        },
        "latency_ms": _latency(ok),
    }


def _latency(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    block: dict[str, Any] = {"n": sum(s.total_ms is not None for s in scores)}
    for name in ("retrieval", "total"):
        values = [getattr(s, f"{name}_ms") for s in scores]
        block[f"{name}_p50"] = percentile(values, 50)
        block[f"{name}_p95"] = percentile(values, 95)
    return block


def metric_scopes(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("overall", block) then (type, block) per type, from a metrics object or a report."""
    metrics = metrics.get("metrics", metrics)
    per_type = metrics.get("per_type") or {}
    return [("overall", metrics.get("overall") or {}), *sorted(per_type.items())]


def format_value(value: float | None, unit: str = "") -> str:
    """A metric for display: three decimals, or milliseconds; "–" when not applicable."""
    if value is None:
        return "–"
    return f"{value:,.1f} ms" if unit == "ms" else f"{value:.3f}"
