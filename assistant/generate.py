"""Generated answers (the local model or an OpenAI-compatible endpoint): a short grounded prompt
built from what the extractive stage selected, streamed tokens, then the claim check. Any
failure falls back to the extractive answer, with a notice saying what happened."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.citations import check_citations
from assistant.config import Settings
from assistant.extractive import ScoredSentence, compose_answer, content_words, pick_sentences
from assistant.followup import is_followup
from assistant.llm import (
    AnswerStream,
    Endpoint,
    LLMError,
    condense_question,
    estimate_tokens,
    is_decline,
)
from assistant.local_model import LocalModelError
from assistant.results import Answer, Passage, StreamEvent
from assistant.sentences import sentence_spans

if TYPE_CHECKING:
    from assistant.api import NewsAssistant

log = logging.getLogger(__name__)

CHUNK_PASSAGES = 4  # llm_context "chunks": the top retrieved passages, whole
EXCERPT_SENTENCES = 3  # llm_context "sentences": the best-scored sentences ...
EXCERPT_TOKENS = 120  # ... while their (estimated) tokens fit this budget (the first always) ...
EXCERPT_GAP = 2  # ... merged into one excerpt when at most one sentence lies between them
# Whether the prompt offers "The sources do not say." as a reply. Measured on rtqa-full-dev
# (docs/benchmarks-answers.md): offered, the 1.5B model declined 32 of 60 answerable questions
# that retrieval had found relevant; not offered, 3. Retrieval decides abstention instead.
OFFER_DECLINE = False


def endpoint_for(settings: Settings) -> Endpoint:
    """The endpoint of the answer mode; ``local`` starts (once) the in-process model server."""
    if settings.llm == "local":
        from assistant.local_model import get_local_server

        server = get_local_server(settings.local_model)
        return Endpoint(server.base_url, server.model, "local", settings.llm_timeout,
                        context_tokens=server.n_ctx)
    return Endpoint(settings.base_url, settings.model, settings.api_key, settings.llm_timeout)


def grounding_passages(
    passages: Sequence[Passage], scored: Sequence[ScoredSentence], how: str = "sentences"
) -> list[Passage]:
    """What the model reads: ``chunks`` are the top passages whole; ``sentences`` are excerpts
    made of the best-scored sentences (short prompts answer ~5x sooner on a CPU)."""
    if how == "chunks" or not scored:
        return list(passages[:CHUNK_PASSAGES])
    chosen: list[ScoredSentence] = []
    budget = EXCERPT_TOKENS
    for sentence in scored:
        if any(sentence.text == c.text for c in chosen):
            continue
        cost = estimate_tokens(sentence.text)
        if chosen and cost > budget:
            break
        chosen.append(sentence)
        budget -= cost
        if len(chosen) == EXCERPT_SENTENCES:
            break
    runs: list[tuple[int, int, int]] = []  # (passage rank, first, last sentence index)
    for sentence in chosen:  # best first, so the excerpts come in order of relevance
        passage = passages[sentence.passage_rank]
        index = _sentence_index(passage, sentence.start)
        for j, (rank, first, last) in enumerate(runs):
            if rank == sentence.passage_rank and first - EXCERPT_GAP <= index <= last + EXCERPT_GAP:
                runs[j] = (rank, min(first, index), max(last, index))
                break
        else:
            runs.append((sentence.passage_rank, index, index))
    return [_excerpt(passages[rank], first, last) for rank, first, last in runs]


def _sentence_index(passage: Passage, start: int) -> int:
    spans = sentence_spans(passage.text)
    return next((i for i, (s, _) in enumerate(spans) if passage.start + s == start), 0)


def _excerpt(passage: Passage, first: int, last: int) -> Passage:
    spans = sentence_spans(passage.text)
    a, b = spans[first][0], spans[last][1]
    return replace(passage, text=passage.text[a:b], start=passage.start + a,
                   end=passage.start + b)


def generate_answer(
    bot: NewsAssistant,
    answer: Answer,
    scored: list[ScoredSentence],
    history: list[tuple[str, str]],
) -> Iterator[StreamEvent]:
    """Stream the model's reply, then put its claim-checked version in ``answer``."""
    settings = bot.settings
    started = time.perf_counter()
    reply = ""
    try:
        endpoint = endpoint_for(settings)
        grounding = grounding_passages(answer.passages, scored, settings.llm_context)
        stream = AnswerStream(endpoint, answer.question, grounding, history,
                              offer_decline=OFFER_DECLINE)
        for token in stream:
            if not reply:
                answer.timings_ms["first_token"] = _ms_since(started)
            reply += token
            yield StreamEvent("token", token=token)
    except Exception as error:
        known = isinstance(error, (LLMError, LocalModelError))  # their messages say it all
        if not known:
            log.warning("answer generation failed", exc_info=True)
        reason = str(error) if known else f"{type(error).__name__}: {error}"
        yield from _fall_back(bot, answer, scored, f"The language model failed ({reason}).")
        return
    answer.timings_ms["generation"] = _ms_since(started)
    if is_decline(reply):
        yield from _on_decline(bot, answer, scored)
        return
    checked = check_citations(reply, stream.passages, bot.embedder)
    answer.claim_check = checked.counts.to_dict()
    answer.timings_ms["claim_check"] = _ms_since(started) - answer.timings_ms["generation"]
    if not checked.citations:  # nothing in it matches the passages: show what does
        notice = "The language model's answer was not supported by the passages."
        yield from _fall_back(bot, answer, scored, notice)
        return
    answer.text, answer.citations = checked.text, checked.citations
    answer.unsupported = checked.unsupported


def _on_decline(
    bot: NewsAssistant, answer: Answer, scored: list[ScoredSentence]
) -> Iterator[StreamEvent]:
    """Retrieval already judged the sources relevant, so a decline shows the extracted
    sentences rather than abstaining (measured: abstaining on the model's declines would have
    raised false abstention from 2 % to 55 % with the decline offered)."""
    answer.claim_check = {"declined": 1}
    notice = "The language model found no answer in the passages it read."
    yield from _fall_back(bot, answer, scored, notice)


def _fall_back(
    bot: NewsAssistant, answer: Answer, scored: list[ScoredSentence], reason: str
) -> Iterator[StreamEvent]:
    answer.notice = f"{reason} Showing the extractive answer instead."
    answer.text, answer.citations = compose_answer(
        pick_sentences(scored, bot.settings.answer_sentences, answer.passages), answer.passages
    )
    answer.unsupported = []
    answer.mode = "extractive"
    yield StreamEvent("token", token=f"\n\n{answer.notice}\n\n{answer.text}")


def condense_followup(
    bot: NewsAssistant, question: str, history: list[tuple[str, str]], fallback: str
) -> str:
    """A follow-up rewritten by the model into a standalone question for retrieval; ``fallback``
    (the offline rewrite) for standalone questions, odd replies or a failing endpoint."""
    if not history or not is_followup(question):
        return fallback
    try:
        condensed = condense_question(endpoint_for(bot.settings), question, history)
    except Exception as error:  # the answer step will report the failure; retrieval goes on
        log.info("condensing the follow-up failed: %s", error)
        return fallback
    return _clean_question(condensed, question) or fallback


def _clean_question(reply: str, question: str) -> str:
    """The first line, without a label or quotes; empty when it does not look like a rewrite of
    ``question`` (too short or long, or it lost a content word of the follow-up: small models
    sometimes just repeat the previous question)."""
    line = reply.strip().splitlines()[0] if reply.strip() else ""
    line = re.sub(r"^(standalone question|question)\s*:\s*", "", line, flags=re.I)
    line = line.strip().strip("\"'“”").strip()
    if not 3 <= len(line) <= 300 or not content_words(question) <= content_words(line):
        return ""
    return line


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
