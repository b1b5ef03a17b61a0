"""Suggested follow-up questions, built from what an answer cites: the names that recur in its
cited articles' titles and quotes (people, places, organisations: runs of capitalised words)
and that the question did not already name.

Cheap on purpose (no model): it runs after every answer. Each suggestion names its entity, so
it retrieves on its own and needs no follow-up rewriting to be answered.
"""

from __future__ import annotations

import re
from collections import Counter

from assistant.results import Answer

MAX_SUGGESTIONS = 3
# A run of capitalised words, allowing "of"/"de"/"and" inside ("Bank of England").
_NAME = re.compile(
    r"\b(?:[A-Z][\w'’.-]*[a-z0-9]|[A-Z]{2,}[0-9-]*)(?:\s+(?:(?:of|de|the|and|for)\s+)?"
    r"(?:[A-Z][\w'’.-]*[a-z0-9]|[A-Z]{2,}[0-9-]*))*")
_SKIP = {
    "The", "A", "An", "In", "On", "At", "It", "He", "She", "They", "We", "I", "This", "That",
    "But", "And", "Or", "If", "As", "For", "With", "After", "Before", "When", "While", "Its",
    "His", "Her", "Their", "Our", "Mr", "Mrs", "Ms", "Dr", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May",
    "June", "July", "August", "September", "October", "November", "December", "What", "Who",
    "Where", "Why", "How", "Which", "There", "These", "Those", "Some", "Many", "One", "Two",
}
TEMPLATES = (
    "What else did the sources report about {}?",
    "What is the latest news on {}?",
    "What did the articles say about {}'s role?",
)


def names_in(text: str) -> list[str]:
    """Capitalised names in ``text``, minus sentence openers and calendar words."""
    found = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0] in _SKIP:
            words = words[1:]
        while words and words[-1] in {"of", "de", "the", "and", "for"}:
            words = words[:-1]
        name = " ".join(words).rstrip(".")
        if len(name) >= 3 and name not in _SKIP:
            found.append(name)
    return found


def suggest_followups(answer: Answer, *, k: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``k`` questions about the names the cited articles share, most frequent first;
    [] for an abstention."""
    if answer.abstained or not answer.citations:
        return []
    asked = answer.question.lower()
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for c in answer.citations:
        for name in names_in(c.title) + names_in(c.quote):
            counts[name] += 1
            first_seen.setdefault(name, len(first_seen))
    chosen: list[str] = []
    for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], first_seen[kv[0]])):
        lowered = name.lower()
        if lowered in asked or any(lowered in c.lower() or c.lower() in lowered for c in chosen):
            continue
        chosen.append(name)
        if len(chosen) == k:
            break
    return [TEMPLATES[i % len(TEMPLATES)].format(name) for i, name in enumerate(chosen)]
