"""The answer pipeline as named steps, each a function of what it uses:

rewrite follow-up -> analyse question -> retrieve -> score sentences -> decide abstention ->
answer (an ``Answerer``) -> check citations.

``NewsAssistant.stream`` wires them; each can be called and tested alone. Steps return new
values: none of them mutates an ``Answer`` it was given."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.extractive import ABSTAIN_TEXT, ScoredSentence, score_sentences
from assistant.followup import rewrite_followup
from assistant.llm import MARKER
from assistant.question import QuestionAnalysis
from assistant.results import Answer, Citation, Passage, StreamEvent
from assistant.retrieval import Filters, Retrieval
from assistant.timewords import parse_as_of
from ingest.embedding import Embedder

log = logging.getLogger(__name__)

Condense = Callable[[str, list[tuple[str, str]], str], str]


# ---- rewrite follow-up -------------------------------------------------------------------
def rewrite_question(question: str, *, history: Sequence[tuple[str, str]],
                     previous_queries: Sequence[str], condense: Condense | None) -> str:
    """The search query: the offline rewrite of a follow-up, refined by the answerer's model
    (``condense``) when it has one and there is a conversation."""
    query = rewrite_followup(question, list(previous_queries))
    if condense is not None and history:
        query = condense(question, list(history), query)
    return query


# ---- analyse question ----------------------------------------------------------------------
def analyse(question: str) -> QuestionAnalysis:
    """What the question asks (``assistant.question``): kind, expected answer type, entities,
    speaker and topic, time expression."""
    from assistant.question import analyse_question

    return analyse_question(question)


# ---- retrieve ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Retrieved:
    """What retrieval found for the query: passages (copies folded), the query vector and the
    raw ``Retrieval`` (its relevance is the abstention signal)."""

    retrieval: Retrieval
    passages: list[Passage]
    vector: np.ndarray


def retrieve(retriever: Any, query: str, *, settings: Settings, filters: Filters,
             as_of: date | datetime | str | None) -> Retrieved:
    """``retriever`` (``assistant.retrieval.NewsRetriever``) finds and folds the passages."""
    vector = retriever.embed_query(query)
    retrieval = retriever.retrieve_collapsed(query, k=settings.k, filters=filters,
                                             max_per_article=settings.max_per_article,
                                             vector=vector, as_of=as_of)
    return Retrieved(retrieval, retrieval.passages, vector)


# ---- score sentences ---------------------------------------------------------------------
def sentence_vector(question: str, query: str, vector: np.ndarray,
                    embed_query: Callable[[str], np.ndarray]) -> np.ndarray:
    """For a rewritten follow-up, the sentence must answer the new question, in the old
    topic: blend both vectors (retrieval already used the rewritten one)."""
    if query == question:
        return vector
    blended = vector + embed_query(question)
    return blended / float(np.linalg.norm(blended))


def score_for_question(question: str, query: str, found: Retrieved, *, embedder: Embedder,
                       embed_query: Callable[[str], np.ndarray], analysis: Any = None,
                       as_of: date | None = None,
                       history: Sequence[tuple[str, str]] = ()) -> list[ScoredSentence]:
    """The sentences of the top passages scored by the learned scorer, best first; a "why?"
    after an answer puts the causal sentences of the article it quoted first."""
    vector = sentence_vector(question, query, found.vector, embed_query)
    scored = score_sentences(question, vector, found.passages, embedder, analysis=analysis,
                             as_of=as_of)
    if analysis is not None and analysis.kind == "why" and history:
        from assistant.composition import for_why_followup

        scored = for_why_followup(scored, found.passages, history[-1][1])
    return scored


def explains_previous(sentences: Sequence[ScoredSentence], passages: Sequence[Passage],
                      history: Sequence[tuple[str, str]]) -> bool:
    """A "why?" follow-up whose best sentence is a cause given by the article the last answer
    quoted (``assistant.composition.explains_previous``)."""
    if not history:
        return False
    from assistant.composition import explains_previous as explains

    return explains(list(sentences), list(passages), history[-1][1])


# ---- decide abstention -------------------------------------------------------------------
def decide_abstention(retrieval: Retrieval, sentences: Sequence[ScoredSentence],
                      settings: Settings, analysis: Any = None,
                      passages: Sequence[Passage] = (), followup: bool = False,
                      explains: bool = False) -> bool:
    """Abstain when no sentence was found, when the dense cosine (in the as_of window, not the
    fused score: see ``abstention_signal``; a long passage's best sentence counts, see
    ``evidence_relevance``) or the best sentence's is below its floor, or when
    the calibrated gate (``assistant.abstention``) says the sources do not answer (see
    ``stated_sentence`` for what overrides it)."""
    if not sentences:
        return True
    if explains:  # "why?" answered from the article just quoted (``explains_previous``)
        return False
    # the quoted sentence's own cosine; a "why?" follow-up quotes causes, not look-alikes
    cosine = (max(s.similarity for s in sentences) if followup
              else sentences[0].similarity)
    from assistant.abstention import Gate, evidence_relevance, gate_row, names_found

    relevance = evidence_relevance(retrieval.relevance, retrieval.relevance_since,
                                   [s.passage_rank for s in sentences],
                                   [s.similarity for s in sentences], passages)
    if relevance < settings.min_relevance or cosine < settings.sentence_min_relevance:
        return True
    gate = Gate.shipped()
    if gate is None or analysis is None:
        return False
    row = gate_row(sentences[0].score, relevance, names_found(analysis, passages),
                   len(analysis.entities), len(sentences))
    return gate.abstains(row)


def stated_sentence(question: str, analysis: Any, sentences: Sequence[ScoredSentence],
                    passages: Sequence[Passage], retrieval: Retrieval) -> int | None:
    """The index of one of the best sentences (of passages published in the abstention
    signal's window) that says what ``question`` asks, with an answer of the type it asks
    for (``assistant.abstention.states_the_answer``; thresholds fitted as ``stated``): the
    evidence an abstention gives way to, quoted first. None when there is none."""
    from assistant.abstention import published_since, states_the_answer
    from assistant.scorer import load_weights

    stated = load_weights().get("stated")
    if not stated or analysis is None:
        return None
    for i, sentence in enumerate(sentences[:int(stated["sentences"])]):
        if published_since(passages[sentence.passage_rank], retrieval.relevance_since) and (
                states_the_answer(question, analysis, [sentence.text],
                                  float(stated["coverage"]))):
            return i
    return None


def first(sentences: list[ScoredSentence], i: int) -> list[ScoredSentence]:
    """``sentences`` with the i-th moved to the front at the best score."""
    if i == 0:
        return sentences
    return [replace(sentences[i], score=sentences[0].score), *sentences[:i],
            *sentences[i + 1:]]


def abstain(question: str, query: str, passages: list[Passage], mode: str,
            notice: str = "") -> Iterator[StreamEvent]:
    """The abstention: its text as one token, then the answer (``notice``: what was looked
    for and what the index covers)."""
    answer = Answer(question=question, text=ABSTAIN_TEXT, passages=list(passages),
                    abstained=True, mode=mode, search_query=query, notice=notice)
    yield StreamEvent("token", token=answer.text)
    yield StreamEvent("answer", answer=answer)


# ---- check citations ---------------------------------------------------------------------
def check_answer_citations(answer: Answer,
                           bodies: Callable[[list[str]], Mapping[str, str]]) -> Answer:
    """The contract every answerer's output must meet: each citation's quote is verbatim text
    of its article (``body[start:end]``). A citation that is not is dropped with its marker,
    and noted in the log (it is an answerer's bug). ``bodies``: article id -> body, read only
    for quotes that lie outside the answer's passages (each passage's text is
    ``body[passage.start:passage.end]``)."""
    if not answer.citations:
        return answer
    passages = {p.chunk_id: p for p in answer.passages}
    unchecked = [c for c in answer.citations if not _within(c, passages.get(c.chunk_id))]
    found = bodies(sorted({c.article_id for c in unchecked})) if unchecked else {}
    bad = {c.n for c in unchecked if not _verbatim(c, found.get(c.article_id))}
    if not bad:
        return answer
    log.warning("answer mode %s cited non-verbatim quotes %s: dropped", answer.mode, sorted(bad))
    text = MARKER.sub(lambda m: _without(m.group(0), bad), answer.text)
    kept = [c for c in answer.citations if c.n not in bad]
    return replace(answer, text=text.strip(), citations=kept)


def _within(citation: Citation, passage: Passage | None) -> bool:
    """Whether the quote is verbatim text of this passage, at the cited offsets."""
    if (passage is None or passage.article_id != citation.article_id
            or not passage.start <= citation.start <= citation.end <= passage.end):
        return False
    start = citation.start - passage.start
    return passage.text[start : start + len(citation.quote)] == citation.quote and (
        citation.end - citation.start == len(citation.quote))


def _verbatim(citation: Citation, body: str | None) -> bool:
    return body is not None and body[citation.start:citation.end] == citation.quote


def _without(marker: str, bad: set[int]) -> str:
    numbers = [n for n in (int(x) for x in marker.strip("[]").split(",")) if n not in bad]
    return f"[{', '.join(map(str, numbers))}]" if numbers else ""


def as_of_date(as_of: date | datetime | str | None) -> date | None:
    """``as_of`` as a date (None: not given)."""
    return parse_as_of(as_of) if as_of is not None else None
