"""The extractive answerer: the sentences of the retrieved passages that best answer the
question, each cited. Never invents text; needs no model beyond the embedder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from assistant.question import QuestionAnalysis
from assistant.results import Citation, Passage
from assistant.scorer import (  # noqa: F401  (content_words, ANAPHORA: re-exported)
    ANAPHORA,
    PASSAGES_READ,
    STOPWORDS,
    content_words,
    load_weights,
    score_candidates,
)
from ingest.embedding import Embedder

ABSTAIN_TEXT = "The sources I have do not answer this."



@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int
    start: int  # offset in the article body
    end: int
    text: str
    similarity: float  # embedder cosine with the question: the abstention signal
    score: float
    context_start: int = -1  # body offset of the sentence before, in the same passage


def with_context(sentence: ScoredSentence, passage: Passage) -> tuple[int, str]:
    """(start, quote): a sentence that leans on the one before ("That was ...") is quoted
    together with it, so the answer does not begin mid-thought."""
    if sentence.context_start >= 0 and ANAPHORA.match(sentence.text):
        start = sentence.context_start
        return start, passage.text[start - passage.start : sentence.end - passage.start]
    return sentence.start, sentence.text


def score_sentences(
    question: str,
    question_vector: np.ndarray,
    passages: list[Passage],
    embedder: Embedder,
    *,
    analysis: QuestionAnalysis | None = None,
    as_of: date | None = None,
) -> list[ScoredSentence]:
    """Every sentence of the top passages, scored by the learned scorer (``score`` is its
    probability that the sentence holds the answer), best first."""
    candidates, sims, probabilities = score_candidates(
        question, question_vector, passages, embedder, analysis=analysis, as_of=as_of)
    scored = [
        ScoredSentence(c.passage_rank, c.start, c.end, c.text, float(sim), float(p),
                       c.context_start)
        for c, sim, p in zip(candidates, sims, probabilities, strict=True)
    ]
    return sorted(scored, key=lambda s: s.score, reverse=True)


def pick_sentences(
    scored: list[ScoredSentence], limit: int, passages: list[Passage] | None = None
) -> list[ScoredSentence]:
    """The best sentence, and up to ``limit - 1`` more that support it: from the same article
    and scoring at least ``second_ratio`` of the best (never an unrelated story)."""
    if not scored:
        return []
    ratio = float(load_weights().get("second_ratio", 0.5))
    best = scored[0]
    picked = [best]
    seen = {best.text.lower()}
    for sentence in scored[1:4]:
        if len(picked) >= limit or sentence.score < ratio * best.score:
            break
        same = passages is None or (
            passages[sentence.passage_rank].article_id == passages[best.passage_rank].article_id)
        if same and sentence.text.lower() not in seen:
            picked.append(sentence)
            seen.add(sentence.text.lower())
    return picked


def compose_answer(
    picked: list[ScoredSentence], passages: list[Passage]
) -> tuple[str, list[Citation]]:
    """``"Sentence one. [1] Sentence two. [2]"`` with one citation per quoted sentence."""
    citations: list[Citation] = []
    parts: list[str] = []
    for sentence in picked:
        passage = passages[sentence.passage_rank]
        start, quote = with_context(sentence, passage)
        prior = next((i for i, c in enumerate(citations)
                      if c.article_id == passage.article_id and c.start <= start < c.end), None)
        if prior is not None:  # already quoted (as the context of another sentence)
            c = citations[prior]
            if start == c.start >= passage.start and sentence.end > c.end:  # extend it
                extended = passage.text[c.start - passage.start : sentence.end - passage.start]
                citations[prior] = cite(c.n, passage, extended, c.start, sentence.end)
                parts[prior] = f"{extended} [{c.n}]"
            continue
        n = len(citations) + 1
        citations.append(cite(n, passage, quote, start, sentence.end))
        parts.append(f"{quote} [{n}]")
    return " ".join(parts), citations


def cite(n: int, passage: Passage, quote: str, start: int, end: int) -> Citation:
    return Citation(
        n=n,
        article_id=passage.article_id,
        title=passage.title,
        source=passage.source,
        url=passage.url,
        published_at=passage.published_at,
        quote=quote,
        start=start,
        end=end,
        chunk_id=passage.chunk_id,
        also_reported_by=passage.also_reported_by,
    )
