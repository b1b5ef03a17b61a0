"""Answers to "What did X say about Y?" from X's statements on Y.

``statements_answer`` recognises the question (``match_who_said_what``), looks the
speaker up among the index's statements and composes an answer whose every line is one
statement, cited with the statement's verbatim text as the quote. When the speaker is known
but never quoted on the topic, or appears nowhere, it says so and abstains; when the question
is not of this kind it returns ``None`` and the usual pipeline answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from assistant.extractive import cite
from assistant.results import Answer, Citation, Passage, StreamEvent
from assistant.retrieval import Filters
from assistant.speech_question import match_who_said_what
from assistant.statements import SpeakerLookup, Statement, StatementFinder, question_verb

MAX_STATEMENTS = 3  # quoted in one answer


def statements_answer(
    question: str,
    finder: StatementFinder,
    *,
    filters: Mapping[str, Any] | Filters | None = None,
    as_of: date | datetime | str | None = None,
    mode: str = "extractive",
    limit: int = MAX_STATEMENTS,
) -> tuple[Answer, list[Statement]] | None:
    """A cited answer from statements with the statements it cites (in citation order), an
    abstention naming what was found, or ``None`` (not a who-said-what question)."""
    matched = match_who_said_what(question)
    if matched is None:
        return None
    speaker, topic = matched
    lookup = finder.lookup(speaker, topic, filters=filters, as_of=as_of, k=20,
                           verb=question_verb(question))
    answer = Answer(question=question, text="", search_query=question, mode=mode)
    if not lookup.statements:
        answer.text = abstention_text(lookup, topic)
        answer.abstained = True
        return answer, []
    chosen = pick_statements(lookup.statements, limit)
    lines, citations = [], []
    for n, statement in enumerate(chosen, start=1):
        lines.append(f"{statement_line(statement)} [{n}]")
        citations.append(citation_of(statement, n))
    answer.text = "\n".join(lines)
    answer.citations = citations
    answer.passages = [statement_passage(s) for s in chosen]
    return answer, chosen


def stream_answer(answer: Answer) -> Iterator[StreamEvent]:
    """The events of ``NewsAssistant.stream`` for a finished answer."""
    for piece in answer.text.split(" "):
        yield StreamEvent("token", token=piece + " ")
    yield StreamEvent("answer", answer=answer)


def pick_statements(statements: list[Statement], limit: int) -> list[Statement]:
    """The best ``limit``, at most two per article while other articles have some, shown
    newest first."""
    chosen: list[Statement] = []
    per_article: dict[str, int] = {}
    for statement in statements:
        if per_article.get(statement.article_id, 0) >= 2:
            continue
        chosen.append(statement)
        per_article[statement.article_id] = per_article.get(statement.article_id, 0) + 1
        if len(chosen) == limit:
            break
    best = chosen[0].score if chosen else 0.0
    chosen = [s for s in chosen if s.score >= best - 0.25]  # no weak tail after a good match
    return sorted(chosen, key=lambda s: (s.published_at, -s.start), reverse=True)


def statement_line(statement: Statement) -> str:
    """'Xi Jinping (ICARO Media Group, 2024-05-17) reiterated: China's ...'."""
    where = ", ".join(x for x in (statement.source, statement.published_at[:10]) if x)
    who = f"{statement.speaker} ({where})" if where else statement.speaker
    text = f"“{statement.text}”" if statement.kind == "direct" else statement.text
    return f"{who} {statement.cue}: {text}"


def citation_of(statement: Statement, n: int) -> Citation:
    """The statement's verbatim text, cited within its sentence's passage."""
    return cite(n, statement_passage(statement), statement.text, statement.start, statement.end)


def statement_passage(statement: Statement) -> Passage:
    """A statement as a passage (for generating modes): its sentence, with offsets."""
    text = statement.sentence or statement.text
    offset = statement.start - text.find(statement.text) if statement.text in text else (
        statement.start
    )
    return Passage(
        article_id=statement.article_id,
        chunk_id=f"{statement.article_id}~{statement.start}",
        text=text,
        score=statement.score,
        title=statement.title,
        source=statement.source,
        url=statement.url,
        published_at=statement.published_at,
        start=offset,
        end=offset + len(text),
        also_reported_by=statement.also_reported_by,
    )


def abstention_text(lookup: SpeakerLookup, topic: str | None) -> str:
    """What was found instead: the speaker quoted on other things, only mentioned, or absent."""
    name = lookup.name
    on = f" on {topic}" if topic else ""
    if lookup.quoted:
        times = "statement" if lookup.quoted == 1 else "statements"
        return (f"I found {lookup.quoted} {times} by {name} in the indexed articles, but none{on}.")
    if lookup.mentioned_in:
        articles = "article" if lookup.mentioned_in == 1 else "articles"
        return (f"{name} is mentioned in {lookup.mentioned_in} {articles}, but none quotes "
                f"them{on}.")
    return f"{lookup.asked} does not appear in the indexed articles."
