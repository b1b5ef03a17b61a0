"""The generating answerer (the local model or an OpenAI-compatible endpoint): a short grounded
prompt built from the best-scored sentences, streamed tokens, then the claim check. Any failure
falls back to the extractive answer, with a notice saying what happened."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.answerers.base import AnswerRequest
from assistant.answerers.extractive import ExtractiveAnswerer
from assistant.citations import check_citations
from assistant.config import Settings
from assistant.errors import LLMError
from assistant.generate import condense_followup, grounding_passages
from assistant.llm import AnswerStream, Endpoint, is_decline
from assistant.local_model import LocalModelError
from assistant.phrase_first import after_lead, answer_lead
from assistant.results import Answer, StreamEvent
from ingest.embedding import Embedder

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)


class LLMAnswerer:
    """Answers written by a chat model over the passages, claim-checked against them."""

    name = "llm"
    generative = True

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder,
        endpoint: Callable[[], Endpoint],
        mode: str,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.endpoint = endpoint
        self.mode = mode  # "local:MODEL" / "openai:MODEL"
        kind, _, model = mode.partition(":")
        self.description = f"{'local LLM' if kind == 'local' else 'LLM endpoint'} {model}"
        self.chat_model = chat_model
        self.fallback = ExtractiveAnswerer(settings)

    def condense(self, question: str, history: list[tuple[str, str]], fallback: str) -> str:
        """A follow-up rewritten by the model as a standalone question (see ``generate``)."""
        return condense_followup(self.endpoint, question, history, fallback=fallback,
                                 chat_model=self.chat_model)

    def answer(self, request: AnswerRequest) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        lead = None
        if self.settings.answer_phrase_first and getattr(request.analysis, "factoid", False):
            # composed once: the phrase comes from it, and a fallback shows it
            extractive = request.fallback or self.fallback.compose(request)
            request = replace(request, fallback=extractive)
            lead = answer_lead(extractive)
        if lead is not None:  # the answer phrase at once; the model's text follows
            timings["first_token"] = _ms_since(started)
            yield StreamEvent("token", token=lead.text)
        reply = ""
        try:
            grounding = grounding_passages(request.passages, request.sentences,
                                           self.settings.llm_context)
            stream = AnswerStream(self.endpoint(), request.question, grounding, request.history,
                                  offer_decline=self.settings.offer_decline,
                                  chat_model=self.chat_model)
            for token in stream:
                if not reply:
                    timings["model_first_token"] = _ms_since(started)
                    timings.setdefault("first_token", timings["model_first_token"])
                reply += token
                yield StreamEvent("token", token=token)
        except Exception as error:
            known = isinstance(error, (LLMError, LocalModelError))  # their messages say it all
            if not known:
                log.warning("answer generation failed", exc_info=True)
            reason = str(error) if known else f"{type(error).__name__}: {error}"
            yield from self._fall_back(request, f"The language model failed ({reason}).",
                                       timings, {})
            return
        timings["generation"] = _ms_since(started)
        if is_decline(reply):
            # Retrieval already judged the sources relevant, so a decline shows the extracted
            # sentences rather than abstaining (measured: abstaining on the model's declines
            # would have raised false abstention from 2 % to 55 % with the decline offered).
            notice = "The language model found no answer in the passages it read."
            yield from self._fall_back(request, notice, timings, {"declined": 1})
            return
        checked = check_citations(reply, stream.passages, self.embedder,
                                  question=f"{request.question} {request.search_query}")
        counts = checked.counts.to_dict()
        timings["claim_check"] = _ms_since(started) - timings["generation"]
        if not checked.citations:  # nothing in it matches the passages: show what does
            notice = "The language model's answer was not supported by the passages."
            yield from self._fall_back(request, notice, timings, counts)
            return
        text, citations = checked.text, checked.citations
        if lead is not None:
            text, citations = after_lead(lead, text, citations)
        yield StreamEvent("answer", answer=Answer(
            question=request.question, text=text, citations=citations,
            passages=list(request.passages), mode=self.mode, search_query=request.search_query,
            unsupported=checked.unsupported, claim_check=counts, timings_ms=timings,
            answer_span=lead.span if lead is not None else None))


    def _fall_back(self, request: AnswerRequest, reason: str, timings: dict[str, float],
                   claim_check: dict[str, int]) -> Iterator[StreamEvent]:
        notice = f"{reason} Showing the extractive answer instead."
        shown = request.fallback or self.fallback.compose(request)
        answer = replace(shown, notice=notice,
                         claim_check=claim_check, timings_ms=timings)
        yield StreamEvent("token", token=f"\n\n{notice}\n\n{answer.text}")
        yield StreamEvent("answer", answer=answer)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
