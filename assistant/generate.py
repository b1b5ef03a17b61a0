"""Generated answers (local model or an OpenAI-compatible endpoint) with the claim check,
falling back to the extractive answer when the endpoint fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from assistant.citations import check_citations
from assistant.extractive import ABSTAIN_TEXT, ScoredSentence, compose_answer, pick_sentences
from assistant.llm import Endpoint, LLMError, build_messages, stream_completion
from assistant.results import Answer, StreamEvent

if TYPE_CHECKING:
    from assistant.api import NewsAssistant

LLM_PASSAGES = 4
DECLINE = "the sources do not say"


def endpoint_for(bot: NewsAssistant) -> Endpoint:
    settings = bot.settings
    if settings.llm == "local":
        from assistant.local_model import get_local_server

        server = get_local_server(settings.local_model)
        return Endpoint(server.base_url, server.model, "local", settings.llm_timeout)
    return Endpoint(settings.base_url, settings.model, settings.api_key, settings.llm_timeout)


def generate_answer(
    bot: NewsAssistant,
    answer: Answer,
    scored: list[ScoredSentence],
    history: list[tuple[str, str]],
) -> Iterator[StreamEvent]:
    """Stream the model's reply, then replace it by its claim-checked version in ``answer``."""
    passages = answer.passages[:LLM_PASSAGES]
    reply = ""
    try:
        endpoint = endpoint_for(bot)
        for token in stream_completion(
            endpoint, build_messages(answer.question, passages, history)
        ):
            reply += token
            yield StreamEvent("token", token=token)
    except Exception as error:
        message = str(error) if isinstance(error, LLMError) else f"{type(error).__name__}: {error}"
        answer.notice = f"The language model failed ({message}); showing the extractive answer."
        answer.text, answer.citations = compose_answer(
            pick_sentences(scored, bot.settings.answer_sentences), answer.passages
        )
        answer.mode = "extractive"
        yield StreamEvent("token", token=f"\n\n{answer.notice}\n\n{answer.text}")
        return
    if DECLINE in reply.lower() and len(reply) < 80:
        answer.text, answer.abstained = ABSTAIN_TEXT, True
        return
    checked = check_citations(reply, passages, bot.embedder)
    answer.text, answer.citations, answer.unsupported = (
        checked.text,
        checked.citations,
        checked.unsupported,
    )
