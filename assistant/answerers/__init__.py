"""Answer strategies behind one ``Answerer`` interface (``assistant.answerers.base``).

``ANSWERERS`` maps a name to a factory ``(settings, services) -> Answerer``; ``Settings.llm``
names the default one, and ``choose_answerer`` may route a question to another by its kind
(``ROUTES``: e.g. ``who_said_what`` -> ``statements``). A new way of answering is one class in
one module plus one line here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from assistant.answerers.base import (
    Answerer,
    AnswererFactory,
    AnswerRequest,
    AnswerServices,
    answer_description,
    answer_mode,
)
from assistant.answerers.extractive import ExtractiveAnswerer
from assistant.config import Settings
from assistant.errors import InvalidRequest

__all__ = [
    "ANSWERERS",
    "ROUTES",
    "AnswerRequest",
    "AnswerServices",
    "Answerer",
    "AnswererFactory",
    "answer_description",
    "answer_mode",
    "build_answerers",
    "check_answer_mode",
    "choose_answerer",
    "selectable_modes",
]


def _extractive(settings: Settings, services: AnswerServices) -> Answerer:
    return ExtractiveAnswerer(settings)


def _local(settings: Settings, services: AnswerServices) -> Answerer:
    from assistant.answerers.llm import LLMAnswerer
    from assistant.generate import local_endpoint

    return LLMAnswerer(settings, embedder=services.embedder,
                       endpoint=services.endpoint or (lambda: local_endpoint(settings)),
                       mode=f"local:{settings.local_model}", chat_model=services.chat_model)


def _openai(settings: Settings, services: AnswerServices) -> Answerer:
    from assistant.answerers.llm import LLMAnswerer
    from assistant.generate import remote_endpoint

    return LLMAnswerer(settings, embedder=services.embedder,
                       endpoint=services.endpoint or (lambda: remote_endpoint(settings)),
                       mode=f"openai:{settings.model}", chat_model=services.chat_model)


def _statements(settings: Settings, services: AnswerServices) -> Answerer:
    from assistant.answerers.statements import StatementsAnswerer
    from assistant.statements import StatementFinder

    if services.index is None:
        raise InvalidRequest("the statements answerer needs the index")
    default = ANSWERERS[settings.llm](settings, services)
    return StatementsAnswerer(StatementFinder(services.index, services.embedder),
                              default=default, embedder=services.embedder)


def _needs_model(settings: Settings) -> None:
    if not settings.model:
        raise InvalidRequest(
            "llm 'openai' needs a model name: --model or NEWS_ASSISTANT_MODEL")


ANSWERERS: dict[str, AnswererFactory] = {
    "extractive": _extractive,
    "local": _local,
    "openai": _openai,
    "statements": _statements,  # who said what (routed to by question kind, see ROUTES)
}
# what a mode needs from the settings before anything is built (checked when a bot is made)
CHECKS: dict[str, Callable[[Settings], None]] = {"openai": _needs_model}
# question kind -> the answerer that takes it when it is registered (else the default one)
ROUTES: dict[str, str] = {"who_said_what": "statements"}


def selectable_modes() -> list[str]:
    """The answer modes a user may pick (``--llm``): the registered answerers that are not
    only routed to by question kind."""
    return [name for name in ANSWERERS if name not in ROUTES.values()]


def check_answer_mode(settings: Settings) -> None:
    """Raise ``InvalidRequest`` when ``settings.llm`` names no answerer or lacks what it needs."""
    if settings.llm not in ANSWERERS:
        known = ", ".join(ANSWERERS)
        raise InvalidRequest(f"llm must be one of {known}, not {settings.llm!r}")
    CHECKS.get(settings.llm, lambda _: None)(settings)


def build_answerers(settings: Settings, services: AnswerServices) -> dict[str, Answerer]:
    """The default answerer (``settings.llm``) and the registered targets of ``ROUTES``."""
    check_answer_mode(settings)
    names = [settings.llm, *(n for n in ROUTES.values() if n in ANSWERERS)]
    return {name: ANSWERERS[name](settings, services) for name in dict.fromkeys(names)}


def choose_answerer(settings: Settings, analysis: Any,
                    answerers: Mapping[str, Answerer]) -> Answerer:
    """The answerer for this question: the one its kind is routed to, if built, else the
    default of ``settings.llm``."""
    routed = ROUTES.get(str(getattr(analysis, "kind", "") or ""))
    if routed and routed in answerers:
        return answerers[routed]
    return answerers[settings.llm]
