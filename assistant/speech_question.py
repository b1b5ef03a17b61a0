"""Recognise who-said-what questions: "What did X say about Y?" -> ("X", "Y").

Rules over the question's wording only (no model): a speaker is a name or a description
("Ukraine's president", "the police chief"), the topic whatever follows "about", "on", "of",
"to", "regarding". Questions that merely mention saying ("Who said the war would end?",
"What did the report say?" with no speaker-like subject) are still matched when the subject
reads like a speaker; the statements answerer falls back when nobody by that name is quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAY = (
    r"say|said|says|state|stated|tell|told|claim|claimed|argue|argued|announce|announced|warn|"
    r"warned|mean|meant|suggest|suggested|insist|insisted|write|wrote|tweet|tweeted|add|added|"
    r"acknowledge|acknowledged|note|noted|admit|admitted|deny|denied|predict|predicted|promise|"
    r"promised|pledge|pledged|vow|vowed|reiterate|reiterated|stress|stressed|emphasi[sz]e|"
    r"emphasi[sz]ed|point out|pointed out|explain|explained|describe|described|call|called|"
    r"urge|urged|confirm|confirmed"
)
_TOPIC = (
    r"(?:about|on|of|regarding|concerning|over|in response to|as to|towards?|in|at|during|"
    r"after|when|whether|if|that)"
)
_AUX = r"(?:did|does|do|has|have|had|is|was|were|are|will|would)"
_TAIL = r"(?:\s+(?:so far|recently|lately|today|yesterday|this week|last week|publicly))?"
_END = r"\s*[?.!]*\s*$"

# (pattern, speaker group, topic group); the first that matches wins
_PATTERNS: list[re.Pattern[str]] = [
    # What did X say (about Y)? / What has X said on Y? / What was X saying about Y?
    re.compile(
        rf"^(?:and\s+)?(?:so\s+)?what\s+(?:exactly\s+)?{_AUX}\s+(?P<speaker>.+?)\s+(?:(?:been|have|had)\s+)?"
        rf"(?:{_SAY})(?:ing)?{_TAIL}(?:\s+(?:that\s+)?{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # What did X tell reporters/CNN about Y?
    re.compile(
        rf"^what\s+{_AUX}\s+(?P<speaker>.+?)\s+(?:tell|told)\s+\S+(?:\s+\S+)?"
        rf"(?:\s+{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # How did X respond/react to Y? / How has X described Y?
    re.compile(
        rf"^how\s+{_AUX}\s+(?P<speaker>.+?)\s+(?:respond|responded|react|reacted|reply|"
        rf"replied|answer|answered|describe|described|characteri[sz]e|view|see|feel|comment)"
        rf"(?:ed)?(?:\s+(?:to|on|about|over)?\s*(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # What does X think of/about Y? / What is X's view/position on Y? / How does X feel about Y?
    re.compile(
        rf"^(?:what|how)\s+{_AUX}\s+(?P<speaker>.+?)\s+(?:think|thought|feel|felt|believe|"
        rf"believed|make)(?:\s+{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
    re.compile(
        rf"^what\s+(?:is|was|are|were)\s+(?P<speaker>.+?)['’]s?\s+(?:view|views|position|stance|"
        rf"take|opinion|response|reaction|comment|comments|message|argument|assessment)"
        rf"(?:\s+{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # Did X comment on / say anything about / speak about Y?
    re.compile(
        rf"^(?:did|has|have|does|had)\s+(?P<speaker>.+?)\s+(?:(?:publicly|ever)\s+)?(?:comment|"
        rf"commented|speak|spoken|talk|talked|say anything|said anything|weigh in|weighed in|"
        rf"remark|remarked|respond|responded|react|reacted)(?:ed)?"
        rf"(?:\s+{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # Did X say (whether/that) Y? / Has X warned about Y?
    re.compile(
        rf"^(?:did|has|have|does|had)\s+(?P<speaker>.+?)\s+(?:{_SAY})"
        rf"(?:\s+(?:anything\s+|something\s+)?(?:{_TOPIC}\s+)?(?P<topic>.+?))?{_END}",
        re.I,
    ),
    # Quote/quotes/statements/remarks by|from X (on Y)
    re.compile(
        rf"^(?:show\s+me\s+|list\s+|give\s+me\s+)?(?:the\s+)?(?:quotes?|statements?|remarks?|"
        rf"comments?)\s+(?:by|from|of)\s+(?P<speaker>.+?)(?:\s+{_TOPIC}\s+(?P<topic>.+?))?{_END}",
        re.I,
    ),
]

# subjects that are not speakers: "What did the report say", "what do the numbers say"
_NOT_SPEAKERS = re.compile(
    r"^(?:it|this|that|they|you|i|we|the (?:data|numbers|figures|study|poll|polls|results|"
    r"report|reports|survey|article|articles|news|story|stories|sources|text|law|bill|rule|"
    r"court ruling|forecast))$",
    re.I,
)
_DOCUMENTS = {"agreement", "deal", "report", "study", "law", "bill", "treaty", "text",
              "document", "resolution", "ruling", "plan", "declaration", "survey", "poll",
              "statement", "letter", "memo", "order", "decision", "verdict", "act", "accord",
              "pact", "communique", "proposal", "draft", "guidance", "guideline", "rule",
              "regulation", "policy", "budget", "article", "paper", "book", "data", "filing"}
_STRIP = " \t\"'“”‘’,;:"


def match_who_said_what(question: str) -> tuple[str, str | None] | None:
    """``(speaker, topic)`` of a who-said-what question, topic ``None`` when none is given;
    ``None`` when the question is not of that kind."""
    text = " ".join(question.split())
    if not text:
        return None
    for pattern in _PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        speaker = found.group("speaker").strip(_STRIP)
        if not speaker or _NOT_SPEAKERS.match(speaker) or len(speaker.split()) > 8:
            return None
        if speaker.split()[-1].lower().rstrip("s") in _DOCUMENTS:
            return None  # "What did the COP28 agreement say": a text, not a speaker
        topic = (found.group("topic") or "").strip(_STRIP) or None
        if topic:
            topic = re.sub(r"^(?:the\s+)?(?:issue|subject|topic|question|matter)\s+of\s+", "",
                           topic, flags=re.I) or topic
        return speaker, topic
    return None


@dataclass(frozen=True)
class WhoSaidWhat:
    """The fields of ``assistant.question.QuestionAnalysis`` a who-said-what question fills."""

    speaker: str
    topic: str | None
    kind: str = "who_said_what"
    expected_types: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    time_expression: str | None = None


def who_said_what_analysis(question: str) -> WhoSaidWhat | None:
    """A question analysis for who-said-what questions only (``None`` for the others)."""
    matched = match_who_said_what(question)
    return WhoSaidWhat(*matched) if matched else None
