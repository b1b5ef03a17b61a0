"""Offline follow-up rewriting: "and what about energy?" carries the topic of the turns before."""

from __future__ import annotations

import re

from assistant.extractive import content_words

FOLLOWUP_OPENERS = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|and what|what else|why|how come)\b", re.I
)
PRONOUNS = re.compile(
    r"\b(he|she|they|him|her|his|hers|them|their|it|its|this|that|those|these)\b", re.I
)
NAME = re.compile(r"\b[A-Z][a-zA-Z’'-]+")
MAX_CARRIED = 8


def is_followup(question: str) -> bool:
    """Looks like it leans on earlier turns: an opener, a pronoun with no name, or very short."""
    if FOLLOWUP_OPENERS.match(question):
        return True
    names = [w for w in question.split()[1:] if NAME.match(w) and w != "I"]
    if PRONOUNS.search(question) and not names:
        return True
    return len(content_words(question)) <= 1


def rewrite_followup(question: str, previous_queries: list[str]) -> str:
    """The question plus the salient words of the previous search query, when it is a follow-up."""
    if not previous_queries or not is_followup(question):
        return question
    own = content_words(question)
    carried: list[str] = []
    for word in re.findall(r"[A-Za-z0-9$%’'-]+", previous_queries[-1]):
        key = word.lower().strip("'’-")
        if (
            key in content_words(word)
            and key not in own
            and key not in (c.lower() for c in carried)
        ):
            carried.append(word)
    if not carried:
        return question
    return f"{question.strip()} ({' '.join(carried[:MAX_CARRIED])})"
