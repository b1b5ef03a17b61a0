"""A generated answer that opens with the extractive answer phrase ("**Spain** [1]"): a
verbatim span of a cited sentence, shown at once while the model is still reading its
prompt (a 1.5B model on two cores takes seconds to its first token), then the model's own
cited text. The phrase is the extractive answerer's: the same span a factoid question gets
without a model."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from assistant.llm import MARKER
from assistant.results import Answer, Citation


@dataclass(frozen=True)
class Lead:
    """The opening of an answer: its text, the citation it carries ([1]) and the span."""

    text: str
    citation: Citation
    span: dict[str, Any]


def answer_lead(extractive: Answer) -> Lead | None:
    """The answer phrase of an extractive answer as a lead, or None when it has none."""
    span = extractive.answer_span
    holder = next((c for c in extractive.citations if span and c.n == span["n"]), None)
    if not span or holder is None:
        return None
    return Lead(f"**{span['text']}** [1]\n\n", replace(holder, n=1), dict(span, n=1))


def after_lead(lead: Lead, text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """The lead, then ``text`` with its markers numbered after the lead's; a citation of the
    lead's own sentence becomes [1]."""
    mapping: dict[int, int] = {}
    merged = [lead.citation]
    for citation in citations:
        if _same_quote(citation, lead.citation):
            mapping[citation.n] = 1
            continue
        mapping[citation.n] = len(merged) + 1
        merged.append(replace(citation, n=mapping[citation.n]))

    def renumber(match: re.Match[str]) -> str:
        numbers = sorted({mapping.get(int(x), int(x)) for x in match.group(1).split(",")})
        return f"[{', '.join(map(str, numbers))}]"

    return lead.text + MARKER.sub(renumber, text), merged


def _same_quote(a: Citation, b: Citation) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end
