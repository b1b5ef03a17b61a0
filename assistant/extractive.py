"""The extractive answerer: the sentences of the retrieved passages that best answer the
question, each cited. Never invents text; needs no model beyond the embedder."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.results import Citation, Passage
from assistant.sentence_vectors import sentence_vectors
from ingest.embedding import Embedder

ABSTAIN_TEXT = "The sources I have do not answer this."
PASSAGES_READ = 5  # sentences are scored in this many top passages
OVERLAP_WEIGHT = 0.15  # share of the question's content words found in the sentence
PASSAGE_WEIGHT = 0.2  # the passage's retrieval score, relative to the top passage's
MARGIN = 0.12  # a second sentence must score within this of the best one
MIN_SENTENCE_CHARS = 25

_WORD = re.compile(r"[A-Za-z0-9$%]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from about into over after before as "
    "is are was were be been being do does did has have had what which who whom whose when "
    "where why how that this these those it its he she they them his her their we you i me my "
    "our your not no so than then there here says said say tell told also just any some can "
    "could would should will may might must one more most other such very new".split()
)


def content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS}


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int
    start: int  # offset in the article body
    end: int
    text: str
    similarity: float  # embedder cosine with the question: the abstention signal
    score: float
    context_start: int = -1  # body offset of the sentence before, in the same passage


ANAPHORA = re.compile(
    r"^(That|This|These|Those|It|He|She|They|His|Her|Their|Its|The move|"
    r"But|However|Still|Yet|Also|And)\b"
)


def with_context(sentence: ScoredSentence, passage: Passage) -> tuple[int, str]:
    """(start, quote): a sentence that leans on the one before ("That was ...") is quoted
    together with it, so the answer does not begin mid-thought."""
    if sentence.context_start >= 0 and ANAPHORA.match(sentence.text):
        start = sentence.context_start
        return start, passage.text[start - passage.start : sentence.end - passage.start]
    return sentence.start, sentence.text


def score_sentences(
    question: str, question_vector: np.ndarray, passages: list[Passage], embedder: Embedder
) -> list[ScoredSentence]:
    """Every sentence of the top passages, scored against the question, best first."""
    candidates: list[tuple[int, int, int, str, int]] = []
    rows: list[np.ndarray] = []
    for rank, (passage, (spans, vectors)) in enumerate(zip(
            passages[:PASSAGES_READ], sentence_vectors(passages[:PASSAGES_READ], embedder),
            strict=True)):
        previous = -1
        for (s, e), vector in zip(spans, vectors, strict=True):
            text = passage.text[s:e]
            if len(text) >= MIN_SENTENCE_CHARS or len(passage.text) < 2 * MIN_SENTENCE_CHARS:
                candidates.append((rank, passage.start + s, passage.start + e, text, previous))
                rows.append(vector)
            previous = passage.start + s
    if not candidates:
        return []
    sims = np.asarray(rows) @ question_vector
    wanted = content_words(question)
    top = max(passages[0].score, 1e-9)
    scored = []
    for (rank, start, end, text, context), sim in zip(candidates, sims, strict=True):
        overlap = len(wanted & content_words(text)) / len(wanted) if wanted else 0.0
        prior = PASSAGE_WEIGHT * max(passages[rank].score, 0.0) / top
        score = float(sim) + OVERLAP_WEIGHT * overlap + prior
        scored.append(ScoredSentence(rank, start, end, text, float(sim), score, context))
    return sorted(scored, key=lambda s: s.score, reverse=True)


def pick_sentences(scored: list[ScoredSentence], limit: int) -> list[ScoredSentence]:
    """The best sentence and up to ``limit - 1`` more close behind it, no repeats."""
    if not scored:
        return []
    picked = [scored[0]]
    seen = {scored[0].text.lower()}
    for sentence in scored[1:]:
        if len(picked) >= limit or sentence.score < scored[0].score - MARGIN:
            break
        if sentence.text.lower() not in seen:
            picked.append(sentence)
            seen.add(sentence.text.lower())
    return picked


def compose_answer(
    picked: list[ScoredSentence], passages: list[Passage]
) -> tuple[str, list[Citation]]:
    """``"Sentence one. [1] Sentence two. [2]"`` with one citation per quoted sentence."""
    citations: list[Citation] = []
    parts = []
    for sentence in picked:
        passage = passages[sentence.passage_rank]
        start, quote = with_context(sentence, passage)
        if any(c.article_id == passage.article_id and c.start <= start < c.end for c in citations):
            continue  # already quoted as the context of another sentence
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
