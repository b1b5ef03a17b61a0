"""Sentence boundaries with character offsets, so quotes point at exact text.

blingfire finds the boundaries; two repairs follow for news prose: a span that ends on a
title or legal abbreviation ("Roe v.", "Lt.", "Sen.", "Jan.", an initial "W.") is joined with
the next one, and a boundary blingfire missed before a title ("... won. Rep. Liz Cheney
lost.") is split. Lives in ingest so that sentence vectors stored at ingest and the answer
step split identically."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

import blingfire


def _blingfire_version() -> str:
    try:
        return version("blingfire")
    except PackageNotFoundError:  # run from a source tree without metadata
        return "unknown"


# What the spans stored at ingest were split by. Bump the number when a rule below changes:
# read copies stamped with another version (or another blingfire) are split again at
# question time instead of reusing their stored spans.
SPLIT_VERSION = f"1+blingfire-{_blingfire_version()}"

# abbreviations that (almost) never end a sentence: titles, "v.", months, "No.", "St."
NON_TERMINAL = frozenset(
    "v vs lt gov sen sens rep reps dr mr mrs ms messrs gen adm st no nos prof sgt col capt maj "
    "cpl pvt rev hon pres supt det insp lt.gov atty gov.-elect jan feb mar apr jun jul aug sep "
    "sept oct nov dec mt ft ave blvd ex fig vol pp approx".split()
)
_LAST_WORD = re.compile(r"(?:^|[\s(\"“'‘-])([A-Za-z][A-Za-z.]*)\.$")
# a missed boundary: sentence-final punctuation, optional closing quote, space, a capital
_MISSED = re.compile(r"(?<=[A-Za-z0-9%)])[.!?][\"”’)]?(?=\s+[\"“‘(]?[A-Z])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; ``text[start:end]`` is the sentence, verbatim."""
    return list(_cached_spans(text))


def forget() -> None:
    """Drop the remembered splits (a benchmark timing answers over passages never seen)."""
    _cached_spans.cache_clear()


# An answer splits the same passages several times (scoring, sentence vectors, the claim
# check), and popular passages recur across questions: blingfire's offsets cost ~1.5 ms each.
@lru_cache(maxsize=8192)
def _cached_spans(text: str) -> tuple[tuple[int, int], ...]:
    if not text.strip():
        return ()
    spans: list[tuple[int, int]] = []
    for start, end in _line_spans(text):
        spans.extend(_split_missed(text, start, end))
    return tuple(_join_abbreviations(text, spans))


def _line_spans(text: str) -> list[tuple[int, int]]:
    """blingfire's sentences, cut at line breaks (it joins headings and datelines that have no
    final punctuation with the next line)."""
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans: list[tuple[int, int]] = []
    for start, end in offsets:
        piece = text[start:end]
        cursor = start
        for line in piece.split("\n"):
            stripped = line.strip()
            if stripped:
                at = text.find(stripped, cursor)
                spans.append((at, at + len(stripped)))
                cursor = at + len(stripped)
            else:
                cursor += len(line) + 1
    return spans


def _ends_non_terminal(sentence: str) -> bool:
    """Ends on an abbreviation that does not end sentences ("v.", "Sen.") or an initial."""
    match = _LAST_WORD.search(sentence)
    if not match:
        return False
    word = match.group(1)
    if word.lower() in NON_TERMINAL:
        return True
    return len(word) == 1 and word.isupper()  # "George W." (an initial), not "Plan a."


def _split_missed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` where a sentence ends on a plain word before a capital."""
    out: list[tuple[int, int]] = []
    cursor = start
    for match in _MISSED.finditer(text, start, end):
        head = text[cursor : match.end()]
        if _ends_non_terminal(head) or _ends_dotted(head):
            continue
        out.append((cursor, match.end()))
        rest = match.end()
        while rest < end and text[rest].isspace():
            rest += 1
        cursor = rest
    out.append((cursor, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _ends_dotted(sentence: str) -> bool:
    """Ends on a dotted form blingfire already judged ("U.S.", "a.m.", "D.C.")."""
    match = _LAST_WORD.search(sentence)
    return bool(match and "." in match.group(1))


def _join_abbreviations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a span ending on "Roe v." / "Lt." / "W." with the next one on the same line."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined:
            prev_start, prev_end = joined[-1]
            between = text[prev_end:start]
            if "\n" not in between and _ends_non_terminal(text[prev_start:prev_end]):
                joined[-1] = (prev_start, end)
                continue
        joined.append((start, end))
    return joined
