"""Composing the extractive answer: the answer phrase first ("**Spain** [1]"), then the quoted
sentence that holds it and at most one more that supports the same answer; "why?" follow-ups
answered from the causal sentences of the article already quoted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer_span import (
    SPAN_RATIO,
    SPAN_SENTENCES,
    Piece,
    SpanEvidence,
    choose_span,
    neighbours,
    typed_sentences,
)
from assistant.extractive import ScoredSentence, compose_answer, pick_sentences
from assistant.question import QuestionAnalysis
from assistant.results import Citation, Passage
from assistant.scorer import ANAPHORA, CAUSAL, content_words, load_weights, stems

SUPPORT_SENTENCES = 40  # other sentences of the best ones' articles a span may come from


@dataclass(frozen=True)
class Composed:
    text: str
    citations: list[Citation]
    answer_span: dict[str, Any] | None = None


def compose_extractive(
    analysis: QuestionAnalysis | None,
    scored: list[ScoredSentence],
    passages: list[Passage],
    limit: int,
    question: str = "",
) -> Composed:
    """The extractive answer of ``scored`` (best first): a factoid question's answer phrase,
    bold, before the quoted sentences; other questions get the quotes alone."""
    picked = pick_sentences(scored, limit, passages)
    span = None
    if analysis is not None and analysis.factoid and scored:
        span = _find_span(analysis, scored, passages, question)
    if span is None:
        text, citations = compose_answer(picked, passages)
        return Composed(text, citations)
    holder, start, end, phrase, stands_for_people = span
    picked = _supporting(holder, phrase, scored, passages, limit)
    if stands_for_people and len(picked) > 1 and picked[1] is scored[0]:
        # a place the best sentence's people stands for ("Saudi Arabian officials ..."): that
        # sentence is the evidence, the one naming the place comes second
        picked = [picked[1], picked[0], *picked[2:]]
    text, citations = compose_answer(picked, passages)
    body_start = holder.start + start
    n = next((c.n for c in citations if c.start <= body_start < c.end
              and c.article_id == passages[holder.passage_rank].article_id), None)
    if n is None:
        return Composed(text, citations)
    answer_span = {"n": n, "start": body_start, "end": holder.start + end, "text": phrase}
    return Composed(f"**{phrase}** [{n}]\n\n{text}", citations, answer_span)


def _find_span(
    analysis: QuestionAnalysis, scored: list[ScoredSentence], passages: list[Passage],
    question: str,
) -> tuple[ScoredSentence, int, int, str, bool] | None:
    best: list[ScoredSentence] = []
    for sentence in scored:
        if sentence.score < SPAN_RATIO * scored[0].score:
            break
        if all(sentence.text != b.text for b in best):
            best.append(sentence)
        if len(best) == SPAN_SENTENCES:
            break
    words = content_words(question) | {w.lower() for e in analysis.entities for w in e.split()}
    articles = {passages[s.passage_rank].article_id for s in best}
    texts = {s.text for s in best}
    support: list[ScoredSentence] = []
    for sentence in scored:
        if (passages[sentence.passage_rank].article_id in articles and sentence.text not in texts
                and len(support) < SUPPORT_SENTENCES):
            texts.add(sentence.text)
            support.append(sentence)
    known = _stored_pieces(best + support, passages)
    found = choose_span(analysis, SpanEvidence(
        [s.text for s in best], [s.score for s in best],
        titles=[passages[s.passage_rank].title for s in best],
        known=known, support=[s.text for s in support],
    ), words)
    holders = best + support
    if found is None or ((analysis.verb or analysis.role)
                         and not neighbours(analysis, [found[0]], [s.text for s in holders])):
        # the best sentences hold no date or amount of the kind asked for ("How fast is the
        # comet travelling?" and a lede that does not say), or no name next to the asked verb
        # or role ("Who captained New Zealand?"): the next ones of their articles may
        deeper = [support[i] for i in typed_sentences(
            analysis, [s.text for s in support], known, words)]
        if deeper:
            again = choose_span(analysis, SpanEvidence(
                [s.text for s in deeper], [s.score for s in deeper],
                titles=[passages[s.passage_rank].title for s in deeper], known=known), words)
            if again is not None:
                found, holders = again, deeper
    if found is None or found[1] < float(load_weights().get("span_min", 0.0)):
        return None
    cand = found[0]
    return holders[cand.sentence], cand.start, cand.end, cand.text, cand.stands_for >= 0


def _stored_pieces(sentences: list[ScoredSentence],
                   passages: list[Passage]) -> dict[str, Sequence[Piece]]:
    """The pieces parsed at ingest of these sentences, by text, where their passages carry
    them (``ingest.sentence_pieces``)."""
    known: dict[str, Sequence[Piece]] = {}
    by_passage: dict[int, dict[tuple[int, int], Sequence[Piece]]] = {}
    for sentence in sentences:
        passage = passages[sentence.passage_rank]
        if passage.sentences is None:
            continue
        if sentence.passage_rank not in by_passage:
            by_passage[sentence.passage_rank] = passage.sentences.lookup_pieces()
        span = (sentence.start - passage.start, sentence.end - passage.start)
        pieces = by_passage[sentence.passage_rank].get(span)
        if pieces is not None and passage.text[span[0]:span[1]] == sentence.text:
            known[sentence.text] = pieces
    return known


def _supporting(
    holder: ScoredSentence, phrase: str, scored: list[ScoredSentence], passages: list[Passage],
    limit: int,
) -> list[ScoredSentence]:
    """The sentence holding the phrase, then (within ``limit``) the best sentence if it is
    another one of the same article or names the phrase too (another story that does not
    name it is no support), else one naming the same phrase or from the same article close
    in score."""
    picked = [holder]
    top = scored[0]
    if top.context_start == holder.start and ANAPHORA.match(top.text):
        return [top]  # "Totality lasted ... That was twice as long": quoted together
    article = passages[holder.passage_rank].article_id
    pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.I)
    if top.text != holder.text and limit > 1 and (
            passages[top.passage_rank].article_id == article or pattern.search(top.text)):
        return [holder, top]
    ratio = float(load_weights().get("second_ratio", 0.5))
    same_answer = [s for s in scored[:8] if s.text != holder.text and pattern.search(s.text)]
    close = [s for s in scored[:4] if s.text != holder.text and s.score >= ratio * holder.score
             and passages[s.passage_rank].article_id == article]
    for sentence in (same_answer or close)[: max(limit - 1, 0)]:
        picked.append(sentence)
    return picked


def quoted_articles(passages: list[Passage], previous_answer: str) -> set[str]:
    """The articles whose passages hold a quote of ``previous_answer`` (the text between its
    citation markers)."""
    quotes = [q.strip() for q in re.split(r"\[\d+\]", previous_answer) if len(q.strip()) > 30]
    return {p.article_id for p in passages if any(q in p.text for q in quotes)}


def explains_previous(scored: list[ScoredSentence], passages: list[Passage],
                      previous_answer: str) -> bool:
    """Whether the best of ``scored`` (ordered by ``for_why_followup``) is a causal sentence
    of an article the previous answer quoted, speaking of what was answered (a word in
    common, not another part of the story): that article was found to answer the question
    before, so "why?" is answered from it whatever the words "why?" match."""
    if not scored or not CAUSAL.search(scored[0].text) or scored[0].text in previous_answer:
        return False
    first = scored[0]
    related = stems(content_words(first.text)) & stems(content_words(previous_answer))
    return bool(related) and (
        passages[first.passage_rank].article_id in quoted_articles(passages, previous_answer))


def for_why_followup(
    scored: list[ScoredSentence], passages: list[Passage], previous_answer: str
) -> list[ScoredSentence]:
    """"why?" after an answer: the causal sentences of the article the previous answer
    quoted, never the sentences it already showed; other sentences after them."""
    fresh = [s for s in scored if s.text not in previous_answer]
    quoted = quoted_articles(passages, previous_answer)
    causal = [s for s in fresh if CAUSAL.search(s.text)
              and (not quoted or passages[s.passage_rank].article_id in quoted)]
    return causal + [s for s in fresh if s not in causal]
