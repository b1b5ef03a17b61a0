"""What a generating model reads and the follow-ups it rewrites: the grounding excerpts built
from the best-scored sentences, the endpoints of the ``local`` and ``openai`` modes, and the
condensing of a follow-up into a standalone question. The answering itself is
``assistant.answerers.llm``."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from assistant.config import Settings
from assistant.extractive import ScoredSentence, content_words
from assistant.followup import is_followup
from assistant.llm import Endpoint, condense_question, estimate_tokens
from assistant.results import Passage
from assistant.sentences import sentence_spans

log = logging.getLogger(__name__)

CHUNK_PASSAGES = 4  # llm_context "chunks": the top retrieved passages, whole
EXCERPT_SENTENCES = 3  # llm_context "sentences": the best-scored sentences ...
EXCERPT_TOKENS = 120  # ... while their (estimated) tokens fit this budget (the first always) ...
EXCERPT_GAP = 2  # ... merged into one excerpt when at most one sentence lies between them
# Sentences that talk to the model, not about the news: a model never reads them (a small one
# may obey them however the prompt fences the passages; extractive answers may still quote
# them, as text)
ADDRESSES_THE_MODEL = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.]{0,40}\b(?:instructions?|prompts?|above|rules)\b|"
    r"(?:^|\s)(?:system|assistant|user)\s*:|\bfrom now on,? (?:answer|reply|respond|say)\b|"
    r"\byou are (?:now )?(?:an? )?(?:ai|assistant|language model|chatbot)\b", re.I)


def local_endpoint(settings: Settings) -> Endpoint:
    """The in-process model server's endpoint (started once, on first use)."""
    from assistant.local_model import get_local_server

    server = get_local_server(settings.local_model)
    return Endpoint(server.base_url, server.model, "local", settings.llm_timeout,
                    context_tokens=server.n_ctx)


def remote_endpoint(settings: Settings) -> Endpoint:
    """The OpenAI-compatible endpoint of ``settings`` (``OPENAI_BASE_URL``, the model name)."""
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
        if any(sentence.text == c.text for c in chosen) or ADDRESSES_THE_MODEL.search(
                sentence.text):
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
            merged = (min(first, index), max(last, index))
            if (rank == sentence.passage_rank and first - EXCERPT_GAP <= index <= last + EXCERPT_GAP
                    and not _addresses_the_model(passage, *merged)):
                runs[j] = (rank, *merged)
                break
        else:
            runs.append((sentence.passage_rank, index, index))
    return [_excerpt(passages[rank], first, last) for rank, first, last in runs]


def _addresses_the_model(passage: Passage, first: int, last: int) -> bool:
    spans = sentence_spans(passage.text)[first : last + 1]
    return any(ADDRESSES_THE_MODEL.search(passage.text[a:b]) for a, b in spans)


def _sentence_index(passage: Passage, start: int) -> int:
    spans = sentence_spans(passage.text)
    return next((i for i, (s, _) in enumerate(spans) if passage.start + s == start), 0)


def _excerpt(passage: Passage, first: int, last: int) -> Passage:
    spans = sentence_spans(passage.text)
    a, b = spans[first][0], spans[last][1]
    return replace(passage, text=passage.text[a:b], start=passage.start + a, sentences=None,
                   end=passage.start + b)


def condense_followup(
    endpoint: Callable[[], Endpoint], question: str, history: list[tuple[str, str]],
    fallback: str, *, chat_model: Any = None,
) -> str:
    """A follow-up rewritten by the model into a standalone question for retrieval; ``fallback``
    (the offline rewrite) for standalone questions, odd replies or a failing endpoint."""
    if not history or not is_followup(question):
        return fallback
    try:
        condensed = condense_question(endpoint(), question, history, model=chat_model)
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
