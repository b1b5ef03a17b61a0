"""Sentence boundaries with character offsets, so quotes point at exact text."""

from __future__ import annotations

import blingfire


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; ``text[start:end]`` is the sentence, verbatim."""
    if not text.strip():
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans: list[tuple[int, int]] = []
    for start, end in offsets:
        # blingfire joins lines without final punctuation (headings, datelines): split them
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
